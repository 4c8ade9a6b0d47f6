"""failures as message ids with their values

Revision ID: 0022_error_message
Revises: 0021_import_job

Why an asset, a job, a ZIP download or an import failed was stored as final English text,
so a Dutch reader saw English. Each now also stores the message id with its values
(`error_message`, JSON: {"id", "params"}), shown in the reader's language; `error` keeps the
English text. Rows from before keep only their text, which is shown as it is (translated
when it is a message without values): nothing to fill in.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0022_error_message"
down_revision: str | None = "0021_import_job"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("asset", "job", "download_batch", "import_run")


def upgrade() -> None:
    for table in TABLES:
        op.add_column(table, sa.Column("error_message", sa.JSON(), nullable=True))


def downgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.drop_column("error_message")
