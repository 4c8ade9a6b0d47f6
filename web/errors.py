"""One place that turns every error into the JSON body of API.md, or, for the UI's pages,
into the error page the UI installed (`app.state.html_errors`, see HtmlErrors)."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from functools import partial
from http import HTTPStatus
from typing import Protocol

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.routing import iter_route_contexts
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from dam.disk import STORAGE_FULL_MESSAGE, is_disk_full
from dam.errors import N_, DomainError, MessageId, StorageFull
from web import browser_session, catalogs

log = logging.getLogger(__name__)


class HtmlErrors(Protocol):
    """What the UI lends the error handlers (web/ui/errors.py), so they need not import it."""

    def wants_html(self, request: Request) -> bool: ...

    def html_error(
        self,
        request: Request,
        *,
        status: int,
        message: MessageId,
        params: Mapping[str, object] | None = None,
    ) -> Response: ...


class _NoPages:
    """Before (or without) a UI every error is JSON."""

    def wants_html(self, request: Request) -> bool:
        return False

    def html_error(
        self,
        request: Request,
        *,
        status: int,
        message: MessageId,
        params: Mapping[str, object] | None = None,
    ) -> Response:
        raise NotImplementedError


def _pages(request: Request) -> HtmlErrors:
    pages: HtmlErrors = getattr(request.app.state, "html_errors", _NoPages())
    return pages


_HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    415: "unsupported_media",
    416: "range_not_satisfiable",
    422: "invalid_input",
}


# What a bare HTTP error says when its route gave no words of its own.
_HTTP_MESSAGES = {
    "bad_request": N_("The request is not right."),
    "unauthorized": N_("Log in or send an API token."),
    "forbidden": N_("You may not do this."),
    "not_found": N_("Not found."),
    "method_not_allowed": N_("This address does not accept this method."),
    "conflict": N_("This conflicts with the current state."),
    "too_large": N_("This is too large."),
    "unsupported_media": N_("This type of content is not accepted."),
    "range_not_satisfiable": N_("This part of the file does not exist."),
    "invalid_input": N_("Something in the request is not right."),
    "error": N_("Something went wrong."),
}


def api_locale(request: Request) -> str:
    """The language of an API answer: the browser session's choice (the UI's scripts call
    the API with the cookie), else Accept-Language. A client that states neither (a script)
    gets the messages as written, in English, which is what API.md documents."""
    session_locale = browser_session.session_locale(request)
    if not session_locale and not request.headers.get("accept-language"):
        return "en"
    return catalogs.choose_locale(
        user_locale=None,
        session_locale=browser_session.session_locale(request),
        accept_language=request.headers.get("accept-language"),
    )


def error_body(code: str, message: str, **extra: object) -> dict[str, object]:
    return {"error": {"code": code, "message": message, **extra}}


def allowed_methods(request: Request) -> list[str]:
    """Every method some route serves at this path (Starlette's 405 names only the first
    route's, and FastAPI has one route per method)."""
    methods: set[str] = set()
    for route in iter_route_contexts(request.app.routes):
        if route.methods and route.matches(request.scope)[0] is not Match.NONE:
            methods |= route.methods
    return sorted(methods)


def install(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def domain_error(request: Request, exc: DomainError) -> Response:
        ui_errors = _pages(request)
        if ui_errors.wants_html(request):
            return await run_in_threadpool(
                partial(
                    ui_errors.html_error,
                    request,
                    status=exc.status,
                    message=exc.template,
                    params=exc.params,
                )
            )
        headers = {}
        if exc.status == 401:
            headers["WWW-Authenticate"] = "Bearer"
        if "offset" in exc.details:  # tus clients read the offset after a conflict
            headers["Upload-Offset"] = str(exc.details["offset"])
            headers["Tus-Resumable"] = "1.0.0"
        extra = exc.details if exc.public_details else {}
        message = catalogs.translate(api_locale(request), exc.template, exc.params)
        return JSONResponse(
            error_body(exc.code, message, **extra), status_code=exc.status, headers=headers
        )

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> Response:
        ui_errors = _pages(request)
        if ui_errors.wants_html(request):
            return await run_in_threadpool(
                ui_errors.html_error, request, status=422, message="The form is not valid."
            )
        problems = [
            {"field": ".".join(str(p) for p in err["loc"] if p != "body"), "message": err["msg"]}
            for err in exc.errors()
        ]
        # pydantic words each problem in English: English answers quote it, others name
        # the fields (the English wording stays in `fields` for every language).
        locale = api_locale(request)
        if locale == "en":
            listed = "; ".join(f"{p['field']}: {p['message']}" for p in problems)
        else:
            listed = ", ".join(str(p["field"]) for p in problems)
        message = catalogs.gettext(
            locale, N_("Something in the request is not right: %(fields)s."), fields=listed or "-"
        )
        return JSONResponse(error_body("invalid_input", message, fields=problems), status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        code = _HTTP_CODES.get(exc.status_code, "error")
        ui_errors = _pages(request)
        headers = dict(exc.headers or {})
        if exc.status_code == 405:
            headers["Allow"] = ", ".join(allowed_methods(request))
        if ui_errors.wants_html(request):
            page = await run_in_threadpool(
                ui_errors.html_error, request, status=exc.status_code, message=""
            )
            page.headers.update(headers)
            return page
        locale = api_locale(request)
        if isinstance(exc.detail, str) and exc.detail != HTTPStatus(exc.status_code).phrase:
            message = catalogs.gettext(locale, exc.detail)
        else:
            message = catalogs.gettext(locale, _HTTP_MESSAGES.get(code, _HTTP_MESSAGES["error"]))
        return JSONResponse(error_body(code, message), status_code=exc.status_code, headers=headers)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> Response:
        if is_disk_full(exc):
            # A write below the guard's threshold (the database, a rendition, another
            # process filled the disk meanwhile): a state to report, not a crash.
            log.warning("%s %s: storage full", request.method, request.url.path)
            return await domain_error(request, StorageFull(STORAGE_FULL_MESSAGE))
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        ui_errors = _pages(request)
        if ui_errors.wants_html(request):
            return await run_in_threadpool(ui_errors.html_error, request, status=500, message="")
        return JSONResponse(
            error_body(
                "internal_error",
                catalogs.gettext(
                    api_locale(request), N_("Something went wrong on the server; it was logged.")
                ),
            ),
            status_code=500,
        )
