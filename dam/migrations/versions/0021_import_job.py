"""import runs as jobs

Revision ID: 0021_import_job
Revises: 0016_officer

An import started from the web UI runs as a job of the queue (`import_folder`), no longer
in a thread of the web process: `import_run.job_id` names it, and the run's page reads
its real state there (waiting, running, continuing after a restart, failed and why).
Runs from before have no job; one that still says queued or running was lost with the
process that ran it, and its page says so.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0021_import_job"
down_revision: str | None = "0016_officer"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("import_run", sa.Column("job_id", sa.String(32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("import_run") as batch:
        batch.drop_column("job_id")
