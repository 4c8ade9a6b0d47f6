"""people found by name as you type

Revision ID: 0023_person_name_key
Revises: 0022_error_message

`person.name_key` holds the name as people search it (lower case, no accents, words
apart: `dam.models.faces.name_key`), with an index: the asset page's people picker asks
the database for the first few matches instead of listing everyone. Existing people get
their key here.
"""

import re
import unicodedata
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0023_person_name_key"
down_revision: str | None = "0022_error_message"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_NOT_IN_WORDS = re.compile(r"[\W_]+")


def name_key(name: str) -> str:
    """dam.models.faces.name_key as it was when this migration was written (a migration
    keeps its own copy: the model's may change later)."""
    decomposed = unicodedata.normalize("NFKD", name)
    plain = "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()
    return " ".join(w for w in _NOT_IN_WORDS.split(plain) if w)[:250]


def upgrade() -> None:
    op.add_column("person", sa.Column("name_key", sa.String(250), nullable=True))
    bind = op.get_bind()
    person = sa.table(
        "person", sa.column("id", sa.String), sa.column("name", sa.String),
        sa.column("name_key", sa.String),
    )  # fmt: skip
    rows = bind.execute(sa.select(person.c.id, person.c.name)).all()
    for person_id, name in rows:
        bind.execute(
            person.update().where(person.c.id == person_id).values(name_key=name_key(name or ""))
        )
    with op.batch_alter_table("person") as batch:
        batch.alter_column("name_key", existing_type=sa.String(250), nullable=False)
    op.create_index("ix_person_name_key", "person", ["name_key", "id"])


def downgrade() -> None:
    op.drop_index("ix_person_name_key", "person")
    with op.batch_alter_table("person") as batch:
        batch.drop_column("name_key")
