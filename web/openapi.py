"""The OpenAPI document names every error a route can answer, with the one error body.

Errors every route of a kind can give are derived from the route itself, so a route
written later cannot forget them: 401 and 403 where a caller must be authenticated (a
missing or bad token; a role without the permission, or a cookie call without its CSRF
token), 404 where the path names something, 422 everywhere (input to validate, and
web.input_guard refuses a NUL anywhere).
Errors particular to a route are declared on it: `responses=errors(409, 415)`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, RouteContext, iter_route_contexts
from starlette.routing import BaseRoute

from web.deps import get_current_user

ERROR_BODY = "ErrorBody"
ERROR_SCHEMAS: dict[str, dict[str, Any]] = {
    "ErrorDetail": {
        "title": "ErrorDetail",
        "type": "object",
        "required": ["code", "message"],
        "properties": {
            "code": {"type": "string", "description": "snake_case, stable"},
            "message": {"type": "string", "description": "for people"},
        },
        # validation errors add "fields"; a refused download adds its reasons
        "additionalProperties": True,
    },
    ERROR_BODY: {
        "title": ERROR_BODY,
        "type": "object",
        "required": ["error"],
        "properties": {"error": {"$ref": "#/components/schemas/ErrorDetail"}},
    },
}

DESCRIPTIONS = {
    400: "The request is malformed (the message says how).",
    401: "No valid credentials: log in, or send 'Authorization: Bearer <token>'.",
    403: "The role may not do this (or a cookie call lacks its CSRF token).",
    404: "Nothing with this id, or nothing the caller may see.",
    409: "The request conflicts with the current state (the message says which).",
    410: "It existed but is gone (expired).",
    412: "A precondition header is missing or wrong.",
    413: "Over the size limit.",
    415: "A type that is not accepted.",
    416: "The requested range is not in the file.",
    422: "The input is not valid (`fields` lists the problems).",
    460: "The checksum does not match the bytes sent.",
    507: "Storage is full.",
}


def errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """`responses=` for the errors particular to a route (the body is added for all)."""
    return {status: {"description": DESCRIPTIONS[status]} for status in statuses}


def install(app: FastAPI) -> None:
    """Make `app.openapi()` document the errors of every route."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        before = app.openapi_schema
        schema = generate()
        if schema is not before:  # generated anew (FastAPI does when routes change)
            document_errors(schema, app.routes)
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


def document_errors(schema: dict[str, Any], routes: Iterable[BaseRoute]) -> None:
    schemas = schema.setdefault("components", {}).setdefault("schemas", {})
    schemas.update(ERROR_SCHEMAS)
    for route in iter_route_contexts(list(routes)):
        if not isinstance(route.original_route, APIRoute) or not route.include_in_schema:
            continue
        path = schema["paths"].get(route.path_format, {})
        for method in route.methods or ():
            operation = path.get(method.lower())
            if operation is None:
                continue
            responses = operation.setdefault("responses", {})
            for status in sorted(route_errors(route)):
                declared = route.responses.get(status, {})
                if "model" in declared or "content" in declared:
                    continue  # a body of its own (readiness: which parts fail)
                described = responses.get(str(status), {})
                responses[str(status)] = {
                    "description": described.get("description") or DESCRIPTIONS[status],
                    "content": {
                        "application/json": {
                            "schema": {"$ref": f"#/components/schemas/{ERROR_BODY}"}
                        }
                    },
                }
    # FastAPI's own validation-error body is never sent: ours replaced it everywhere.
    if "HTTPValidationError" not in str(schema["paths"]):
        schemas.pop("HTTPValidationError", None)
        schemas.pop("ValidationError", None)


def route_errors(route: RouteContext) -> set[int]:
    """The error statuses `route` can answer."""
    statuses = {int(s) for s in route.responses if str(s).isdigit() and int(s) >= 400}
    dependants = list(_walk(route.dependant))
    if any(dependant.call is get_current_user for dependant in dependants):
        statuses |= {401, 403}
    # A path names something; so does an `asset_id` query parameter (VisibleAsset loads
    # it): both answer 404 for what does not exist or may not be seen.
    if any(d.path_params or any(p.name == "asset_id" for p in d.query_params) for d in dependants):
        statuses.add(404)
    if route.body_field:
        statuses.add(400)  # a body that is not JSON at all
    statuses.add(422)  # at least web.input_guard's, for any route
    return statuses


def _walk(dependant: Dependant) -> Iterable[Dependant]:
    yield dependant
    for dependency in dependant.dependencies:
        yield from _walk(dependency)
