"""The UI's routers, in the order they are mounted. A new page adds its router here."""

from fastapi import APIRouter

from web.ui.routes import (
    account,
    admin,
    asset_page,
    asset_verdict,
    collections,
    consents,
    library,
    notices,
    people,
    person_requests,
    privacy,
    privacy_review,
    shares,
    upload,
)

UI_ROUTERS: tuple[APIRouter, ...] = (
    account.router,
    library.router,
    asset_page.router,
    upload.router,
    collections.router,
    people.router,
    person_requests.router,
    consents.router,
    asset_verdict.router,
    privacy.router,
    notices.router,
    privacy_review.router,
    shares.router,
    admin.router,
)
