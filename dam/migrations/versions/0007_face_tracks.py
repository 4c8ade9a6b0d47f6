"""face tracks

Revision ID: 0007
Revises: 0006

A face in a video is a track: `time_s` (already there) is where it starts, `time_end_s`
where it was last seen, `frames` in how many sampled frames it was found. Photos leave
all three empty.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("face", schema=None) as batch_op:
        batch_op.add_column(sa.Column("time_end_s", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("frames", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("face", schema=None) as batch_op:
        batch_op.drop_column("frames")
        batch_op.drop_column("time_end_s")
