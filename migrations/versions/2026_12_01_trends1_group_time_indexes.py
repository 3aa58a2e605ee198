"""Indexes for trends and drill-down of one group: a queue's contacts by each time that dates
them (left the queue, queued, handling finished), a queue's feedback by arrival, and
ring-no-answers by time. A trend of one queue for a day then reads that queue's rows of the
day, not every queue's (app/metrics/trends.py).

Revision ID: trends1
Revises: restart1
Create Date: 2026-12-01 18:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "trends1"
down_revision: str | None = "restart1"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_INDEXES = {
    "ix_contact_segments_queue_left_at": "contact_segments (queue, left_at)",
    "ix_contact_segments_queue_queued_at": "contact_segments (queue, queued_at)",
    "ix_contact_segments_queue_handled_at": "contact_segments (queue, handled_at)",
    "ix_feedback_queue_ts": "feedback (queue, ts)",
    "ix_events_missed_ts": "events (ts) WHERE type = 'call.missed'",
}


def upgrade() -> None:
    for name, on in _INDEXES.items():
        op.execute(f"CREATE INDEX {name} ON {on}")


def downgrade() -> None:
    for name in reversed(_INDEXES):
        op.execute(f"DROP INDEX {name}")
