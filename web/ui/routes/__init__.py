"""The UI's routers, in the order they are mounted. A new page adds its router here."""

from fastapi import APIRouter

from web.ui.routes import (
    account,
    admin,
    admin_import,
    asset_page,
    asset_verdict,
    collections,
    consents,
    library,
    people,
    privacy,
    privacy_review,
    shares,
    sso,
    upload,
    upload_edit,
)

UI_ROUTERS: tuple[APIRouter, ...] = (
    account.router,
    sso.router,
    library.router,
    asset_page.router,
    upload.router,
    upload_edit.router,
    collections.router,
    people.router,
    consents.router,
    asset_verdict.router,
    privacy.router,
    privacy_review.router,
    shares.router,
    admin.router,
    admin_import.router,
)
