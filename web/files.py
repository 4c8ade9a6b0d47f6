"""The one way a route sends asset bytes: `file_response(release)`.

A `Release` comes only from gdpr.gate.release, which resolved visibility, judged the
verdict and audited the release; this module only translates it. No other module in web/
builds a FileResponse, a StreamingResponse or a Response with a body of bytes
(tests/test_gate_routes.py walks every route to make sure).
"""

from __future__ import annotations

from urllib.parse import quote

from fastapi import Request
from fastapi.responses import FileResponse, Response
from starlette.background import BackgroundTask

from gdpr.gate import Release


def file_response(release: Release, request: Request | None = None) -> Response:
    """The response for `release`: 304 when the client holds its ETag already; the file
    with Range support (206, which video players rely on); or its content."""
    headers = dict(release.headers)
    if release.etag:
        headers["ETag"] = release.etag
        if request is not None and release.etag in request.headers.get("if-none-match", ""):
            _discard(release)
            return Response(status_code=304, headers=headers)
    if release.path is not None:
        return FileResponse(
            release.path,
            media_type=release.media_type,
            filename=release.filename,
            content_disposition_type=release.disposition,
            headers=headers,
            background=BackgroundTask(release.path.unlink, missing_ok=True)
            if release.temporary
            else None,
        )
    if release.filename:
        headers["Content-Disposition"] = _disposition(release.disposition, release.filename)
    return Response(release.content, media_type=release.media_type, headers=headers)


def _disposition(kind: str, filename: str) -> str:
    quoted = quote(filename)
    if quoted != filename:
        return f"{kind}; filename*=utf-8''{quoted}"
    return f'{kind}; filename="{filename}"'


def _discard(release: Release) -> None:
    if release.temporary and release.path is not None:
        release.path.unlink(missing_ok=True)
