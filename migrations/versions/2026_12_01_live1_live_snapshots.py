"""Live snapshots published by the live leader, and the topics each API worker wants.

Both tables are UNLOGGED: they are rebuilt by the next tick after a crash, and cost no WAL.

Revision ID: live1
Revises: 0003
Create Date: 2026-12-01 12:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "live1"
down_revision: str | None = "sources1"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(
        """
CREATE UNLOGGED TABLE live_topics (
  topic text PRIMARY KEY,
  seq bigint NOT NULL,
  version bigint NOT NULL,
  computed_at timestamptz NOT NULL,
  data bytea NOT NULL)"""
    )
    op.execute("CREATE INDEX ix_live_topics_version ON live_topics (version)")
    op.execute(
        """
CREATE UNLOGGED TABLE live_interest (
  worker text PRIMARY KEY,
  topics text[] NOT NULL,
  seen_at timestamptz NOT NULL DEFAULT now())"""
    )
    op.execute("CREATE INDEX ix_live_interest_seen_at ON live_interest (seen_at)")


def downgrade() -> None:
    op.execute("DROP TABLE live_interest")
    op.execute("DROP TABLE live_topics")
