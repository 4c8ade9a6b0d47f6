"""consent evidence is not a library asset

Revision ID: 0010
Revises: 0009

`asset.is_evidence` marks consent evidence. Identical content is deduplicated only among
library assets (a unique index on sha256 for `NOT is_evidence`), so an evidence file and
a library photo with the same bytes are two assets sharing one stored original.

Existing evidence: every restricted asset and every asset a consent names becomes
evidence. One exception repairs an old fault: a library upload that became restricted
because an officer linked a form with the same bytes gets its library life back, and the
consents point at a new evidence asset holding the same original. Evidence assets are
marked for the search index, which drops them.
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

from dam.ids import new_id

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The unnamed UNIQUE(sha256) of 0001: PostgreSQL called it asset_sha256_key; SQLite's
# batch mode finds it through this convention.
UNIQUE_NAMES = {"uq": "%(table_name)s_%(column_0_name)s_key"}
LIBRARY_ONLY = sa.text("NOT is_evidence")

asset = sa.table(
    "asset",
    sa.column("id", sa.String),
    sa.column("restricted", sa.Boolean),
    sa.column("is_evidence", sa.Boolean),
)
consent = sa.table("consent", sa.column("evidence_asset_id", sa.String))
audit_entry = sa.table(
    "audit_entry",
    sa.column("action", sa.String),
    sa.column("subject_id", sa.String),
    sa.column("details", sa.JSON),
)
search_dirty = sa.table(
    "search_dirty",
    sa.column("asset_id", sa.String),
    sa.column("seq", sa.Integer),
    sa.column("marked_at", sa.DateTime(timezone=True)),
)


def upgrade() -> None:
    with op.batch_alter_table("asset", naming_convention=UNIQUE_NAMES) as batch_op:
        batch_op.add_column(
            sa.Column("is_evidence", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.drop_constraint("asset_sha256_key", type_="unique")
        batch_op.create_index("ix_asset_sha256", ["sha256"], unique=False)
    conn = op.get_bind()
    linked = set(conn.scalars(sa.select(consent.c.evidence_asset_id).distinct()).all())
    linked.discard(None)
    restricted = set(conn.scalars(sa.select(asset.c.id).where(asset.c.restricted)).all())
    library = _library_uploads(conn, linked)
    evidence = (linked | restricted) - library
    for asset_id in sorted(library):
        evidence.add(_split(conn, asset_id))
    for asset_id in sorted(evidence):
        conn.execute(
            asset.update().where(asset.c.id == asset_id).values(is_evidence=True, restricted=True)
        )
    _mark_for_search(conn, evidence | library)
    op.create_index(
        "ux_asset_library_sha256",
        "asset",
        ["sha256"],
        unique=True,
        sqlite_where=LIBRARY_ONLY,
        postgresql_where=LIBRARY_ONLY,
    )


def _library_uploads(conn: sa.Connection, linked: set[str]) -> set[str]:
    """Linked assets that were uploaded to the library (not through a consent form)."""
    found: set[str] = set()
    ids = sorted(linked)
    for start in range(0, len(ids), 500):
        rows = conn.execute(
            sa.select(audit_entry.c.subject_id, audit_entry.c.details).where(
                audit_entry.c.action == "asset.uploaded",
                audit_entry.c.subject_id.in_(ids[start : start + 500]),
            )
        )
        for subject_id, details in rows:
            if (details or {}).get("source", "upload") != "consent_evidence":
                found.add(subject_id)
    return found


def _split(conn: sa.Connection, library_id: str) -> str:
    """A new evidence asset holding the library asset's original; the consents that named
    the library asset name it instead, and the library asset is visible again."""
    table = sa.Table("asset", sa.MetaData(), autoload_with=conn)
    row = conn.execute(sa.select(table).where(table.c.id == library_id)).mappings().one()
    values = dict(row)
    evidence_id = new_id()
    # The form itself: no derived data (renditions, hashes) of the library photo.
    values.update(
        id=evidence_id,
        is_evidence=True,
        restricted=True,
        title="",
        description="",
        alt_text="",
        blurhash=None,
        phash=None,
        phash_b0=None,
        phash_b1=None,
        phash_b2=None,
        phash_b3=None,
    )
    conn.execute(table.insert().values(**values))
    conn.execute(
        consent.update()
        .where(consent.c.evidence_asset_id == library_id)
        .values(evidence_asset_id=evidence_id)
    )
    conn.execute(asset.update().where(asset.c.id == library_id).values(restricted=False))
    return evidence_id


def _mark_for_search(conn: sa.Connection, asset_ids: set[str]) -> None:
    """The search index drops evidence and shows repaired library assets again."""
    moment = datetime.now(UTC)
    for asset_id in sorted(asset_ids):
        conn.execute(search_dirty.delete().where(search_dirty.c.asset_id == asset_id))
        conn.execute(search_dirty.insert().values(asset_id=asset_id, seq=1, marked_at=moment))


def downgrade() -> None:
    op.drop_index("ux_asset_library_sha256", table_name="asset")
    # Two assets sharing an original cannot survive UNIQUE(sha256): the evidence copy goes
    # (its consent keeps pointing at the library asset, as before this revision).
    conn = op.get_bind()
    shared = conn.execute(
        sa.text(
            "SELECT e.id, l.id FROM asset e JOIN asset l ON l.sha256 = e.sha256 "
            "AND l.id <> e.id WHERE e.is_evidence AND NOT l.is_evidence"
        )
    ).all()
    for evidence_id, library_id in shared:
        conn.execute(
            consent.update()
            .where(consent.c.evidence_asset_id == evidence_id)
            .values(evidence_asset_id=library_id)
        )
        conn.execute(asset.update().where(asset.c.id == library_id).values(restricted=True))
        conn.execute(sa.text("DELETE FROM asset WHERE id = :id"), {"id": evidence_id})
    with op.batch_alter_table("asset", naming_convention=UNIQUE_NAMES) as batch_op:
        batch_op.drop_index("ix_asset_sha256")
        batch_op.create_unique_constraint("asset_sha256_key", ["sha256"])
        batch_op.drop_column("is_evidence")
