"""Forecast intervals: contacts offered and AHT per queue and quarter hour for coming days,
built from history (`callboard forecast build`) or imported from a WFM tool's CSV
(`callboard forecast import`). One row per queue and interval start: a new build or import of
an interval replaces the old one (docs/FORECAST.md).

Revision ID: forecast1
Revises: trends1
Create Date: 2026-12-07 20:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "forecast1"
down_revision: str | None = "trends1"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE forecast_intervals (
          queue text NOT NULL,
          starts_at timestamptz NOT NULL,
          offered double precision NOT NULL
            CONSTRAINT ck_forecast_intervals_offered CHECK (offered >= 0),
          aht_s double precision CONSTRAINT ck_forecast_intervals_aht CHECK (aht_s > 0),
          method text NOT NULL,
          made_at timestamptz NOT NULL DEFAULT now(),
          CONSTRAINT pk_forecast_intervals PRIMARY KEY (queue, starts_at)
        )"""
    )


def downgrade() -> None:
    op.execute("DROP TABLE forecast_intervals")
