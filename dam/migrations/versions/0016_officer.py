"""person jobs, notices for one user

Revision ID: 0016_officer
Revises: 0013

Jobs about a person instead of an asset (an access export, an erasure): `asset_id` may be
empty and `person_id` says whom the job is about. No foreign key on `person_id`: the job
of an erasure outlives its person (the page shows the tombstone at the end).

Notices for one colleague (`notification.recipient_id`: a creative whose upload or
publication became blocked); empty for the privacy officers' shared notices.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016_officer"
down_revision: str | None = "0015_delivery"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("job") as batch:
        batch.alter_column("asset_id", existing_type=sa.String(length=32), nullable=True)
        batch.add_column(sa.Column("person_id", sa.String(length=32), nullable=True))
        batch.create_index("ix_job_person_id", ["person_id"])
    with op.batch_alter_table("notification") as batch:
        batch.add_column(sa.Column("recipient_id", sa.String(length=32), nullable=True))
        batch.create_index("ix_notification_recipient_id", ["recipient_id"])


def downgrade() -> None:
    op.execute("DELETE FROM notification WHERE recipient_id IS NOT NULL")
    with op.batch_alter_table("notification") as batch:
        batch.drop_index("ix_notification_recipient_id")
        batch.drop_column("recipient_id")
    op.execute("DELETE FROM job WHERE asset_id IS NULL")
    with op.batch_alter_table("job") as batch:
        batch.drop_index("ix_job_person_id")
        batch.drop_column("person_id")
        batch.alter_column("asset_id", existing_type=sa.String(length=32), nullable=False)
