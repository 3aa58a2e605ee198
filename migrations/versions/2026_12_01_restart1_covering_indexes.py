"""Indexes the live computation needs on a long history (bench/restart.py measures them).

- Agent states: the primary key (agent, started_at) also carries ended_at and state. The
  adherence query reads, for each schedule row of its window, the agent's state intervals
  that overlap it; the key bounds only their start (`started_at <` the row's end), so it walks
  the agent's whole history, and each interval was a heap page of its own (ingest writes
  intervals in time order, agents interleaved). Covered, it is an index-only scan: with 30 days
  of 5,000 agents, adherence over today went from 89 s (past the server's 30 s statement
  timeout: the leader's computation never finished) to 1.8 s.
- Contact segments: the customer index holds first segments only. Every query by customer
  (repeat contacts, first-contact resolution) asks for a customer's first segments; with
  `is_first` in the index they answer from it instead of visiting a heap page per segment.

Revision ID: restart1
Revises: live2
Create Date: 2026-12-01 17:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "restart1"
down_revision: str | None = "live2"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(
        "ALTER TABLE agent_states DROP CONSTRAINT pk_agent_states,"
        " ADD CONSTRAINT pk_agent_states PRIMARY KEY (agent, started_at) INCLUDE (ended_at, state)"
    )
    op.drop_index(
        "ix_contact_segments_customer",
        table_name="contact_segments",
        postgresql_where=sa.text("customer IS NOT NULL"),
    )
    op.create_index(
        "ix_contact_segments_first_customer",
        "contact_segments",
        ["customer", "queued_at"],
        unique=False,
        postgresql_where=sa.text("is_first AND customer IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_index(
        "ix_contact_segments_first_customer",
        table_name="contact_segments",
        postgresql_where=sa.text("is_first AND customer IS NOT NULL"),
    )
    op.create_index(
        "ix_contact_segments_customer",
        "contact_segments",
        ["customer", "queued_at"],
        unique=False,
        postgresql_where=sa.text("customer IS NOT NULL"),
    )
    op.execute(
        "ALTER TABLE agent_states DROP CONSTRAINT pk_agent_states,"
        " ADD CONSTRAINT pk_agent_states PRIMARY KEY (agent, started_at)"
    )
