"""verdict sets

Revision ID: 0009
Revises: 0008

Assets with the same facts share their verdicts: `verdict_set` holds each distinct set
of facts with its verdicts and next change, `asset_verdict` only says which set an
asset has. The cache is derived data: the old rows are dropped, and the periodic
verdict task judges every asset without a row again (until then every exit judges
afresh, as it does for a row past its deadline).
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import dam.db

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    _drop_asset_verdict(["ix_asset_verdict_next_change_at", "ix_asset_verdict_status"])
    op.create_table(
        "verdict_set",
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("facts", sa.JSON(), nullable=False),
        sa.Column("channels", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("cleared_for", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column("next_change_at", dam.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("computed_at", dam.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("verdict_set", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_verdict_set_next_change_at"), ["next_change_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_verdict_set_status"), ["status"], unique=False)
    op.create_table(
        "asset_verdict",
        sa.Column("asset_id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("verdict_id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("computed_at", dam.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["asset_id"], ["asset.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["verdict_id"], ["verdict_set.id"]),
        sa.PrimaryKeyConstraint("asset_id"),
    )
    with op.batch_alter_table("asset_verdict", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_asset_verdict_verdict_id"), ["verdict_id"], unique=False
        )


def downgrade() -> None:
    _drop_asset_verdict(["ix_asset_verdict_verdict_id"])
    with op.batch_alter_table("verdict_set", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_verdict_set_status"))
        batch_op.drop_index(batch_op.f("ix_verdict_set_next_change_at"))
    op.drop_table("verdict_set")
    op.create_table(
        "asset_verdict",
        sa.Column("asset_id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("channels", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("cleared_for", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column("next_change_at", dam.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("computed_at", dam.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["asset_id"], ["asset.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("asset_id"),
    )
    with op.batch_alter_table("asset_verdict", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_asset_verdict_next_change_at"), ["next_change_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_asset_verdict_status"), ["status"], unique=False)


def _drop_asset_verdict(indexes: list[str]) -> None:
    with op.batch_alter_table("asset_verdict", schema=None) as batch_op:
        for name in indexes:
            batch_op.drop_index(name)
    op.drop_table("asset_verdict")
