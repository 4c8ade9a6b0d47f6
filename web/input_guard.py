"""No NUL character reaches the services: PostgreSQL text cannot hold one.

A U+0000 in a path, a query or a JSON or form body made PostgreSQL (psycopg) fail the
statement, a 500 where SQLite stored it. It is never meant (no name, title or id holds
one), so every request that carries one is refused with 422 before a route runs. File
names lose theirs in `ingest.filenames`; a multipart upload's text fields in the upload
receiver.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import Request

from dam.errors import N_, InvalidInput

NUL = "\x00"
MESSAGE = N_("Text may not contain the NUL character (U+0000).")


async def refuse_nul(request: Request) -> None:
    """An app-wide dependency: 422 for a NUL in the path, the query or the body."""
    if NUL in request.scope.get("path", "") or any(
        NUL in key or NUL in value for key, value in request.query_params.multi_items()
    ):
        raise InvalidInput(MESSAGE)
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    # Only bodies the app reads whole anyway: uploads and tus stream and must stay unread.
    if ctype == "application/json" or ctype.endswith("+json"):
        body = await request.body()
        if (b"\\u0000" in body or b"\x00" in body) and _holds_nul(_json(body)):
            raise InvalidInput(MESSAGE)
    elif ctype == "application/x-www-form-urlencoded":
        form = await request.form()  # parsed once per request, shared with the route
        if any(NUL in key or (isinstance(v, str) and NUL in v) for key, v in form.multi_items()):
            raise InvalidInput(MESSAGE)


def _json(body: bytes) -> Any:
    try:
        return json.loads(body)
    except ValueError:
        return None  # not JSON: the route's own parsing says so (400)


def _holds_nul(value: Any) -> bool:
    if isinstance(value, str):
        return NUL in value
    if isinstance(value, dict):
        return any(_holds_nul(k) or _holds_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_holds_nul(item) for item in value)
    return False
