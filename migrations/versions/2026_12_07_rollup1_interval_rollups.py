"""Interval rollups: every metric's parts per group and 15-minute interval (app/rollups/).

`rollup_contacts` and `rollup_agent_time` hold one row per level (center, queue, agent; a team
is the sum of its agents' rows, read through its current members), key and interval start,
with the parts of the rows dated in that interval (docs/METRICS.md's attribution). Parts that
depend on `now` are not stored: agent time and adherence hold the closed state intervals
only; first-contact resolution holds its counts and the earliest and latest end of its repeat
windows (`fcr_h_min`, `fcr_h_max`), so a reader tells which are still open. `rollup_state` records the
thresholds the rows were computed with; rows made with other thresholds are not read, nor
any after a TRUNCATE of the rows they are made of (until `callboard rebuild`).

Revision ID: rollup1
Revises: callback1
Create Date: 2026-12-07 20:15:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "rollup1"
down_revision: str | None = "callback1"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_COUNTS = [
    "n_outcome",
    "answered",
    "answered_in_sl",
    "abandoned",
    "short_abandoned",
    "abandoned_in_sl",
    "overflowed",
    "wait_answered_n",
    "wait_abandoned_n",
    "arrived",
    "with_customer",
    "repeats",
    "handled",
    "talk_n",
    "hold_n",
    "acw_n",
    "handle_n",
    "transferred",
    "short_calls",
    "agent_hangups",
    "fcr_n",
    "fcr_resolved",
    "n_feedback",
    "csat_n",
    "csat_top2",
    "nps_n",
    "nps_promoters",
    "nps_detractors",
    "resolved_n",
    "resolved_yes",
    "qa_n",
    "missed",
    "callbacks_requested",
    "callbacks_done",
    "callbacks_connected",
    "callbacks_in_target",
    "callback_attempts",
]
_SUMS = [
    "wait_answered_sum",
    "wait_abandoned_sum",
    "talk_sum",
    "hold_sum",
    "acw_sum",
    "handle_sum",
    "csat_sum",
    "qa_sum",
]
_AGENT_TIME = [
    "t_on_call",
    "t_wrap_up",
    "t_available",
    "t_away",
    "t_breaks",
    "t_logged_in",
    "scheduled_s",
    "adherent_s",
]
_TIMES = ("fcr_h_min", "fcr_h_max")
_SOURCES = ("contact_segments", "feedback", "agent_states", "events", "schedules")


def upgrade() -> None:
    cols = ",\n  ".join(
        [f"{c} bigint" for c in _COUNTS]
        + [f"{c} double precision" for c in _SUMS]
        + [f"{c} timestamptz" for c in _TIMES]
    )
    times = ",\n  ".join(f"{c} double precision" for c in _AGENT_TIME)
    for table, columns in (("rollup_contacts", cols), ("rollup_agent_time", times)):
        op.execute(
            f"""
CREATE TABLE {table} (
  level text NOT NULL,
  key text NOT NULL,
  bucket timestamptz NOT NULL,
  {columns},
  CONSTRAINT pk_{table} PRIMARY KEY (level, key, bucket))"""
        )
        op.execute(f"CREATE INDEX ix_{table}_bucket ON {table} (bucket)")
    op.execute(
        """
CREATE TABLE rollup_state (
  id smallint PRIMARY KEY,
  params jsonb NOT NULL,
  behind_xid bigint,
  built_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT ck_rollup_state_one CHECK (id = 1))"""
    )

    # A bulk rewrite of the rows (`callboard rebuild` truncates the derived tables) leaves the
    # rollups out of use until they are computed again.
    op.execute(
        """
CREATE FUNCTION rollups_forget() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM rollup_state;
  TRUNCATE rollup_contacts, rollup_agent_time;
  RETURN NULL;
END $$"""
    )
    # Any write to the rows marks the rollups behind until `refresh_rollups` (app/rollups/
    # maintain.py) brings them up to date in the same transaction: a write nobody maintained
    # them for is read from rows, never from stale rollups.
    op.execute(
        """
CREATE FUNCTION rollups_behind() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE rollup_state SET behind_xid = pg_current_xact_id()::text::bigint
  WHERE behind_xid IS NULL;
  RETURN NULL;
END $$"""
    )
    for table in _SOURCES:
        op.execute(
            f"CREATE TRIGGER rollups_forget AFTER TRUNCATE ON {table}"
            " FOR EACH STATEMENT EXECUTE FUNCTION rollups_forget()"
        )
        op.execute(
            f"CREATE TRIGGER rollups_behind AFTER INSERT OR UPDATE OR DELETE ON {table}"
            " FOR EACH STATEMENT EXECUTE FUNCTION rollups_behind()"
        )


def downgrade() -> None:
    for table in _SOURCES:
        op.execute(f"DROP TRIGGER rollups_forget ON {table}")
        op.execute(f"DROP TRIGGER rollups_behind ON {table}")
    op.execute("DROP FUNCTION rollups_forget()")
    op.execute("DROP FUNCTION rollups_behind()")
    op.execute("DROP TABLE rollup_state")
    op.execute("DROP TABLE rollup_agent_time")
    op.execute("DROP TABLE rollup_contacts")
