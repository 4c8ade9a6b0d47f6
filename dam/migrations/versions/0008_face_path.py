"""face path

Revision ID: 0008
Revises: 0007

A video face track's path: where the face was in each sampled frame (dam/face_paths.py
holds the format), one row per face, going with it.
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "face_path",
        sa.Column("face_id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("samples", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(["face_id"], ["face.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("face_id"),
    )


def downgrade() -> None:
    op.drop_table("face_path")
