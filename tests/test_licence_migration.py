"""Migration 0019_licence: existing assets get a licence status from what their licence
record holds, and every asset is put on the change feed to be judged again."""

from __future__ import annotations

import importlib
import secrets
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from dam import migrate
from dam.db import UTCDateTime, make_engine

migration = importlib.import_module("dam.migrations.versions.0019_licence")


@pytest.mark.parametrize(
    ("licence", "status"),
    [
        (None, "unknown"),
        ({}, "unknown"),
        ({"terms": ""}, "unknown"),
        ({"type": "own"}, "own"),
        ({"type": "Eigen werk"}, "own"),
        ({"type": "stock", "valid_until": "2027-01-01"}, "licensed"),
        ({"credit": "Belga"}, "licensed"),
        ({"channels": ["internal"]}, "licensed"),
        ("not a record", "unknown"),
    ],
)
def test_a_licence_record_migrates_to_a_status(licence: object, status: str) -> None:
    assert migration.status_of(licence) == status


_ASSET = sa.table(
    "asset",
    *(sa.column(n) for n in ("id", "kind", "status", "filename", "mime", "size", "sha256")),
    *(sa.column(n) for n in ("title", "description", "alt_text")),
    sa.column("licence", sa.JSON),
    sa.column("created_at", UTCDateTime()),
    sa.column("updated_at", UTCDateTime()),
)


@pytest.mark.empty_database
def test_existing_assets_get_a_status_and_are_judged_again(database_url: str) -> None:
    engine = make_engine(database_url)
    migrate.upgrade(engine, "0013")
    records = {"leeg": None, "eigen": {"type": "own"}, "stock": {"terms": "Belga, redactioneel"}}
    moment = datetime(2026, 1, 1, tzinfo=UTC)
    with engine.begin() as conn:
        for name, licence in records.items():
            conn.execute(
                _ASSET.insert().values(
                    id=name, kind="image", status="ready", filename=f"{name}.jpg",
                    mime="image/jpeg", size=1, sha256=secrets.token_hex(32), title="",
                    description="", alt_text="", licence=licence,
                    created_at=moment, updated_at=moment,
                )
            )  # fmt: skip
    migrate.upgrade(engine)
    with engine.connect() as conn:
        statuses = dict(conn.execute(sa.text("SELECT id, licence_status FROM asset")).all())
        queued = set(
            conn.execute(sa.text("SELECT subject_id FROM change_feed WHERE kind = 'asset'"))
            .scalars()
            .all()
        )
    assert statuses == {"leeg": "unknown", "eigen": "own", "stock": "licensed"}
    assert queued == set(records)
    engine.dispose()
