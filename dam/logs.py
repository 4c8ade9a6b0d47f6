"""Logging set-up: plain text, or one JSON object per line (DAM_LOG_FORMAT=json) carrying
the request id of the request being served.

What is logged is ids, route templates and counts, never names of people or file names
(the messages of Beeldbank's own loggers keep to that; the request log uses the route
template, `/api/v1/assets/{asset_id}`, not the path, which may hold a share token).
"""

from __future__ import annotations

import json
import logging
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

from dam.settings import Settings

# The id of the request this thread or task is serving (set by web's request log).
request_id: ContextVar[str | None] = ContextVar("request_id", default=None)

# Attributes a LogRecord has of itself; anything else came in through `extra=`.
_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime"}
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class JsonFormatter(logging.Formatter):
    """One JSON object per record: time, level, logger, message, request id, extras."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        current = request_id.get()
        if current is not None:
            entry["request_id"] = current
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str, ensure_ascii=False)


class RequestIdFilter(logging.Filter):
    """Puts the current request id on text records too (`request_id=...`)."""

    def filter(self, record: logging.LogRecord) -> bool:
        current = request_id.get()
        if current is not None and not hasattr(record, "request_id"):
            record.msg = f"{record.msg} request_id={current}"
        return True


def configure(settings: Settings) -> None:
    """Give the root logger a handler in the configured format and level, as
    logging.basicConfig does: not when it has handlers already (a test's capture)."""
    root = logging.getLogger()
    if root.handlers:
        return
    handler = logging.StreamHandler()
    if settings.log_format == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter(TEXT_FORMAT))
        handler.addFilter(RequestIdFilter())
    root.addHandler(handler)
    root.setLevel(settings.log_level.upper())
    # uvicorn's own loggers go through the same handler.
    for name in ("uvicorn", "uvicorn.error"):
        logger = logging.getLogger(name)
        logger.handlers = []
        logger.propagate = True
