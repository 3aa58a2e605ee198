"""Source positions (generic, with a follower's member state), source health counters, and
the reason of each kept source line. Followed files' offsets move to source_positions.

Revision ID: sources1
Revises: 0003
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "sources1"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NOW = sa.text("now()")


def upgrade() -> None:
    op.add_column("source_lines", sa.Column("reason", sa.Text(), nullable=True))
    op.create_table(
        "source_positions",
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("value", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=NOW, nullable=False),
        sa.PrimaryKeyConstraint("source", "key", name=op.f("pk_source_positions")),
    )
    op.execute(
        "INSERT INTO source_positions (source, key, value, updated_at)"
        " SELECT source, path, jsonb_build_object('path', path, 'inode', inode,"
        " 'offset', \"offset\", 'head', head), updated_at FROM follow_offsets"
    )
    op.drop_table("follow_offsets")
    op.create_table(
        "source_stats",
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("inserted", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("duplicates", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("rejected", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("skipped", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("gaps", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("last_event_ts", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_batch_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "minutes",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("source", name=op.f("pk_source_stats")),
    )


def downgrade() -> None:
    op.drop_table("source_stats")
    op.create_table(
        "follow_offsets",
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("path", sa.Text(), nullable=False),
        sa.Column("inode", sa.BigInteger(), nullable=False),
        sa.Column("offset", sa.BigInteger(), nullable=False),
        sa.Column("head", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=NOW, nullable=False),
        sa.PrimaryKeyConstraint("source", "path", name=op.f("pk_follow_offsets")),
    )
    op.execute(
        'INSERT INTO follow_offsets (source, path, inode, "offset", head, updated_at)'
        " SELECT source, key, (value->>'inode')::bigint, (value->>'offset')::bigint,"
        " value->>'head', updated_at FROM source_positions WHERE value ? 'inode'"
    )
    op.drop_table("source_positions")
    op.drop_column("source_lines", "reason")
