"""The UI's routers, in the order they are mounted. A new page adds its router here."""

from fastapi import APIRouter

from web.ui.routes import (
    account,
    admin,
    admin_import,
    asset_download,
    asset_page,
    asset_verdict,
    collections,
    consents,
    download_zip,
    face_people,
    library,
    notices,
    people,
    person_requests,
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
    face_people.router,
    upload.router,
    upload_edit.router,
    collections.router,
    people.router,
    person_requests.router,
    consents.router,
    asset_verdict.router,
    asset_download.router,
    download_zip.router,
    privacy.router,
    notices.router,
    privacy_review.router,
    shares.router,
    admin.router,
    admin_import.router,
)
