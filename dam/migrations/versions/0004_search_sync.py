"""search index sync: dirty marks and the writer lease

Revision ID: 0004
Revises: 0003

Written after autogenerate's output for search/models.py against a database at 0001,
reviewed by hand: two small tables owned by the search package, no foreign keys (a
deleted asset stays marked until its document has left the index).
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import dam.db

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "search_dirty",
        sa.Column("asset_id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("marked_at", dam.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("asset_id"),
    )
    with op.batch_alter_table("search_dirty", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_search_dirty_marked_at"), ["marked_at"], unique=False)

    op.create_table(
        "search_lease",
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("holder", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("expires_at", dam.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )


def downgrade() -> None:
    op.drop_table("search_lease")
    with op.batch_alter_table("search_dirty", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_search_dirty_marked_at"))
    op.drop_table("search_dirty")
