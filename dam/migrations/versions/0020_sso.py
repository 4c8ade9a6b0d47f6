"""single sign-on

Revision ID: 0020_sso
Revises: 0013

Users who sign in through OpenID Connect (their subject and name at the identity
provider), break-glass administrators, and the sign-ons under way (state, nonce and PKCE
verifier, each used once).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import dam.db

revision: str = "0020_sso"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("user") as batch:
        batch.add_column(sa.Column("oidc_subject", sa.String(length=255), nullable=True))
        batch.add_column(sa.Column("display_name", sa.String(length=200), nullable=True))
        batch.add_column(
            sa.Column("break_glass", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch.create_unique_constraint("uq_user_oidc_subject", ["oidc_subject"])
    with op.batch_alter_table("user") as batch:
        batch.alter_column("break_glass", server_default=None)
    op.create_table(
        "oidc_login",
        sa.Column("state", sa.String(length=64), nullable=False),
        sa.Column("nonce", sa.String(length=64), nullable=False),
        sa.Column("code_verifier", sa.String(length=128), nullable=False),
        sa.Column("next_url", sa.String(length=2000), nullable=False),
        sa.Column("created_at", dam.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("state"),
    )
    op.create_index("ix_oidc_login_created_at", "oidc_login", ["created_at"])


def downgrade() -> None:
    op.drop_index("ix_oidc_login_created_at", table_name="oidc_login")
    op.drop_table("oidc_login")
    with op.batch_alter_table("user") as batch:
        batch.drop_constraint("uq_user_oidc_subject", type_="unique")
        batch.drop_column("break_glass")
        batch.drop_column("display_name")
        batch.drop_column("oidc_subject")
