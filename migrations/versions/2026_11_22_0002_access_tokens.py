"""Access tokens (stored hashed), with their role and what they are bound to.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 10:38:35.457473
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "tokens",
        sa.Column("id", sa.Integer(), sa.Identity(always=False), nullable=False),
        sa.Column("token_sha256", sa.Text(), nullable=False),
        sa.Column("role", sa.Text(), nullable=False),
        sa.Column("agent", sa.Text(), nullable=True),
        sa.Column("teams", postgresql.ARRAY(sa.Text()), nullable=True),
        sa.Column("label", sa.Text(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "role <> 'agent' OR agent IS NOT NULL", name=op.f("ck_tokens_agent_bound")
        ),
        sa.CheckConstraint(
            "role IN ('agent', 'supervisor', 'wallboard', 'ingest', 'admin')",
            name=op.f("ck_tokens_role"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tokens")),
        sa.UniqueConstraint("token_sha256", name=op.f("uq_tokens_token_sha256")),
    )


def downgrade() -> None:
    op.drop_table("tokens")
