"""delivery

Revision ID: 0015_delivery
Revises: 0013

Downloads for a channel (issue 14): the crop chosen per asset and preset, each user's
last download channel, and selections packed as a ZIP by a job.
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0015_delivery"
down_revision: str | None = "0019_licence"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _str(length: int) -> sqlmodel.sql.sqltypes.AutoString:
    return sqlmodel.sql.sqltypes.AutoString(length=length)


def upgrade() -> None:
    op.create_table(
        "asset_crop",
        sa.Column(
            "asset_id", _str(32), sa.ForeignKey("asset.id", ondelete="CASCADE"), primary_key=True
        ),
        sa.Column("preset", _str(32), primary_key=True),
        sa.Column("x", sa.Float(), nullable=False),
        sa.Column("y", sa.Float(), nullable=False),
        sa.Column("w", sa.Float(), nullable=False),
        sa.Column("h", sa.Float(), nullable=False),
        sa.Column(
            "chosen_by", _str(32), sa.ForeignKey("user.id", ondelete="SET NULL"), nullable=True
        ),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "download_preference",
        sa.Column(
            "user_id", _str(32), sa.ForeignKey("user.id", ondelete="CASCADE"), primary_key=True
        ),
        sa.Column("channel", _str(32), nullable=False),
        sa.Column("preset", _str(32), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "download_batch",
        sa.Column("id", _str(32), primary_key=True),
        sa.Column(
            "user_id", _str(32), sa.ForeignKey("user.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("channel", _str(32), nullable=False),
        sa.Column("preset", _str(32), nullable=False),
        sa.Column("redact", sa.Boolean(), nullable=False),
        sa.Column("asset_ids", sa.JSON(), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("done", sa.Integer(), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("included", sa.Integer(), nullable=False),
        sa.Column("error", sa.String(), nullable=True),
        sa.Column("outcomes", sa.JSON(), nullable=True),
        sa.Column("path", _str(500), nullable=True),
        sa.Column("size", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_download_batch_user_id", "download_batch", ["user_id"])
    op.create_index("ix_download_batch_status", "download_batch", ["status"])
    op.create_index("ix_download_batch_expires_at", "download_batch", ["expires_at"])


def downgrade() -> None:
    op.drop_table("download_batch")
    op.drop_table("download_preference")
    op.drop_table("asset_crop")
