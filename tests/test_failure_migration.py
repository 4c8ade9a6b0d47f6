"""Migration 0022_error_message: failures stored before it keep their English text, which
is what pages and the API show for them (no message id to translate with values)."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from sqlmodel import Session

from dam import migrate
from dam.db import make_engine
from dam.errors import Message
from dam.messages import failure_of
from dam.models import Asset, Job
from web import catalogs

TEXT = "Processing stopped with an unexpected error in the renditions stage (KeyError)."
KNOWN = "The video has no length: it holds at most one picture."


@pytest.mark.empty_database
def test_failures_from_before_keep_their_text(database_url: str) -> None:
    engine = make_engine(database_url)
    migrate.upgrade(engine, "0021_import_job")
    moment = datetime(2026, 1, 1, tzinfo=UTC)
    with engine.begin() as conn:
        for asset_id, text in (("oud", TEXT), ("gekend", KNOWN)):
            conn.execute(
                sa.text(
                    "INSERT INTO asset (id, kind, status, error, filename, mime, size, sha256,"
                    " title, description, alt_text, undetected_people, restricted, is_evidence,"
                    " created_at, updated_at) VALUES (:id, 'image', 'failed', :error, 'x.jpg',"
                    " 'image/jpeg', 1, :sha, '', '', '', false, false, false, :at, :at)"
                ),
                {"id": asset_id, "error": text, "sha": secrets.token_hex(32), "at": moment},
            )
        conn.execute(
            sa.text(
                "INSERT INTO job (id, asset_id, stage, status, progress, error, attempts,"
                " created_at) VALUES ('j', 'oud', 'renditions', 'failed', 0, :error, 1, :at)"
            ),
            {"error": TEXT, "at": moment},
        )
    migrate.upgrade(engine)
    with Session(engine) as session:
        old, known, job = (
            session.get(Asset, "oud"),
            session.get(Asset, "gekend"),
            session.get(Job, "j"),
        )
        assert old is not None and known is not None and job is not None
        assert (old.error, old.error_message, job.error, job.error_message) == (
            TEXT, None, TEXT, None
        )  # fmt: skip
        assert failure_of(old) == failure_of(job) == Message(TEXT)
        assert catalogs.failure_text("nl", old) == TEXT  # shown as it was stored
        assert catalogs.failure_text("nl", known) == (
            "De video heeft geen lengte: hij bevat hoogstens één beeld."
        )
    engine.dispose()
