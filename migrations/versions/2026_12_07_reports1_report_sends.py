"""Scheduled reports' outbox: one row per [[reports]] entry and due time, so a due report is
sent once however many processes run, and a failed send is retried (app/reports/schedule.py).

Revision ID: reports1
Revises: rollup1
Create Date: 2026-12-07 21:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "reports1"
down_revision: str | None = "rollup1"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE report_sends (
          name text NOT NULL,
          due_at timestamptz NOT NULL,
          status text NOT NULL DEFAULT 'pending'
            CONSTRAINT ck_report_sends_status CHECK (status IN ('pending', 'sent', 'failed')),
          attempts integer NOT NULL DEFAULT 0,
          next_attempt_at timestamptz NOT NULL,
          sent_at timestamptz,
          gap_at timestamptz,
          detail text,
          CONSTRAINT pk_report_sends PRIMARY KEY (name, due_at)
        )"""
    )


def downgrade() -> None:
    op.execute("DROP TABLE report_sends")
