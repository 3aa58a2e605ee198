"""Callbacks: a callback is a segment of channel `callback` (outcomes `callback` and `failed`
are new values of `outcome`); `attempts` counts its calls to the customer. The derivation's
version moves to 3, so `callboard migrate` rebuilds the derived tables.

Revision ID: callback1
Revises: forecast1
Create Date: 2026-12-07 20:20:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "callback1"
down_revision: str | None = "forecast1"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute("ALTER TABLE contact_segments ADD COLUMN attempts integer NOT NULL DEFAULT 0")


def downgrade() -> None:
    op.execute("ALTER TABLE contact_segments DROP COLUMN attempts")
