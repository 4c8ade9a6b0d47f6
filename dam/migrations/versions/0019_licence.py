"""licence status

Revision ID: 0019_licence
Revises: 0013

Every asset gets a licence status (own work, licensed, unknown) and every user a default
for their uploads. Imports started from the web UI are recorded (`import_run`). External channels need a known licence, so the status decides verdicts.

Existing assets: a licence record that says it is the team's own (type "own"/"eigen")
becomes `own`; any other recorded licence detail (terms, source, credit, web address,
channels, end date, type) means someone looked at the rights, so `licensed`; an empty
record stays `unknown`: nobody said whether it may be published, which is what an
unknown licence means (the issue's White House photo is exactly such a case). Every
asset is put on the change feed so its verdicts are judged again with the new rule.
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
import sqlmodel
from alembic import op

import dam.db

revision: str = "0019_licence"
down_revision: str | None = "0020_sso"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_OWN = {"own", "eigen", "own work", "eigen werk"}
_DETAILS = ("type", "kind", "terms", "source", "credit", "url", "channels", "valid_until")


def status_of(licence: Any) -> str:
    """The status an existing licence record migrates to (see the module's docstring)."""
    if not isinstance(licence, dict):
        return "unknown"
    kind = str(licence.get("type") or licence.get("kind") or "").strip().lower()
    if kind in _OWN:
        return "own"
    if any(licence.get(key) not in (None, "", []) for key in _DETAILS):
        return "licensed"
    return "unknown"


def upgrade() -> None:
    op.add_column(
        "asset",
        sa.Column("licence_status", sa.String(16), nullable=False, server_default="unknown"),
    )
    op.create_index("ix_asset_licence_status", "asset", ["licence_status"])
    op.add_column("user", sa.Column("default_licence_status", sa.String(16), nullable=True))
    op.add_column(
        "user", sa.Column("default_credit", sa.String(500), nullable=False, server_default="")
    )
    op.create_table(
        "import_run",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("folder", sa.String(1024), nullable=False),
        sa.Column("options", sa.JSON(), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("done", sa.Integer(), nullable=False),
        sa.Column("counts", sa.JSON(), nullable=True),
        sa.Column("report_path", sa.String(1024), nullable=True),
        sa.Column("error", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column(
            "started_by",
            sa.String(32),
            sa.ForeignKey("user.id", ondelete="SET NULL"),
            nullable=True,
        ),
        sa.Column("created_at", dam.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("finished_at", dam.db.UTCDateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_import_run_created_at", "import_run", ["created_at"])
    bind = op.get_bind()
    asset = sa.table(
        "asset",
        sa.column("id", sa.String),
        sa.column("licence", sa.JSON),
        sa.column("licence_status", sa.String),
    )
    by_status: dict[str, list[str]] = {"own": [], "licensed": []}
    for asset_id, licence in bind.execute(
        sa.select(asset.c.id, asset.c.licence).where(asset.c.licence.is_not(None))
    ):
        status = status_of(licence)
        if status in by_status:
            by_status[status].append(asset_id)
    for status, ids in by_status.items():
        for start in range(0, len(ids), 500):
            bind.execute(
                asset.update()
                .where(asset.c.id.in_(ids[start : start + 500]))
                .values(licence_status=status)
            )
    # Judge every asset again (the rule is new): the drainer picks these rows up.
    bind.execute(
        sa.text(
            "INSERT INTO change_feed (kind, subject_id, urgency, recorded_at) "
            "SELECT 'asset', id, 0, CURRENT_TIMESTAMP FROM asset WHERE NOT is_evidence"
        )
    )


def downgrade() -> None:
    op.drop_index("ix_import_run_created_at", "import_run")
    op.drop_table("import_run")
    with op.batch_alter_table("user") as batch:
        batch.drop_column("default_credit")
        batch.drop_column("default_licence_status")
    op.drop_index("ix_asset_licence_status", "asset")
    with op.batch_alter_table("asset") as batch:
        batch.drop_column("licence_status")
