"""which import run took each file

Revision ID: 0024_imported_by_run
Revises: 0023_person_name_key

`imported_file.run_id` names the web import (`import_run`) that took the file, and
`imported_file.outcome` whether it became a new asset (`imported`) or matched one already
in the library (`duplicate`). A run taken over after a kill counts the files it imported
itself before the kill as its own, not as "imported before". Rows from before have
neither: they count as imported before, as they did.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0024_imported_by_run"
down_revision: str | None = "0023_person_name_key"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("imported_file", sa.Column("run_id", sa.String(32), nullable=True))
    op.add_column("imported_file", sa.Column("outcome", sa.String(16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("imported_file") as batch:
        batch.drop_column("outcome")
        batch.drop_column("run_id")
