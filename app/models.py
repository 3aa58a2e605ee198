"""Every table. Raw events are the truth; the derived tables can be rebuilt from them
(`callboard rebuild`); the reference tables are configuration, never inferred from events."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

TS = sa.DateTime(timezone=True)


class Base(DeclarativeBase):
    metadata = sa.MetaData(
        naming_convention={
            "ix": "ix_%(table_name)s_%(column_0_N_name)s",
            "uq": "uq_%(table_name)s_%(column_0_N_name)s",
            "ck": "ck_%(table_name)s_%(constraint_name)s",
            "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
            "pk": "pk_%(table_name)s",
        }
    )


# --- raw events (append-only) ------------------------------------------------------------------


class Event(Base):
    """One contract event as accepted (EVENTS.md). `data` holds the type's extra fields;
    `raw` the source's own text (a queue_log line, a CSV row) when it was not contract JSON."""

    __tablename__ = "events"

    seq: Mapped[int] = mapped_column(sa.BigInteger, sa.Identity(), primary_key=True)
    source: Mapped[str] = mapped_column(sa.Text)
    id: Mapped[str] = mapped_column(sa.Text)
    ts: Mapped[datetime] = mapped_column(TS)
    type: Mapped[str] = mapped_column(sa.Text)
    call_id: Mapped[str | None] = mapped_column(sa.Text)
    queue: Mapped[str | None] = mapped_column(sa.Text)
    agent: Mapped[str | None] = mapped_column(sa.Text)
    data: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default=sa.text("'{}'::jsonb"))
    raw: Mapped[str | None] = mapped_column(sa.Text)
    received_at: Mapped[datetime] = mapped_column(TS, server_default=sa.func.now())

    __table_args__ = (
        sa.UniqueConstraint("source", "id"),
        sa.Index("ix_events_call_id", "call_id", postgresql_where=sa.text("call_id IS NOT NULL")),
        sa.Index(
            "ix_events_agent_ts", "agent", "ts", postgresql_where=sa.text("agent IS NOT NULL")
        ),
        sa.Index("ix_events_ts_brin", "ts", postgresql_using="brin"),
        sa.Index("ix_events_missed_ts", "ts", postgresql_where=sa.text("type = 'call.missed'")),
    )


# --- derived: rebuilt from events by `callboard rebuild` ---------------------------------------


class ContactSegment(Base):
    """One visit of a contact to one queue: its queue outcome and wait, then its handling.

    Waits and durations are stored, not verdicts (in SL or not), so a changed threshold applies
    to history at once. `left_at` dates the queue outcome, `handled_at` the handling
    (METRICS.md, attribution)."""

    __tablename__ = "contact_segments"

    call_id: Mapped[str] = mapped_column(sa.Text, primary_key=True)
    segment: Mapped[int] = mapped_column(sa.SmallInteger, primary_key=True)
    queue: Mapped[str] = mapped_column(sa.Text)
    is_first: Mapped[bool] = mapped_column(sa.Boolean)
    is_last: Mapped[bool] = mapped_column(sa.Boolean)
    channel: Mapped[str | None] = mapped_column(sa.Text)
    customer: Mapped[str | None] = mapped_column(sa.Text)
    priority: Mapped[int | None] = mapped_column(sa.Integer)
    queued_at: Mapped[datetime | None] = mapped_column(TS)
    # answered | abandoned | overflowed | callback (left the line for a callback) | failed (a
    # callback that never reached the customer); NULL while still waiting (or unknown)
    outcome: Mapped[str | None] = mapped_column(sa.Text)
    left_at: Mapped[datetime | None] = mapped_column(TS)
    wait_s: Mapped[float | None] = mapped_column(sa.Float)
    overflow_reason: Mapped[str | None] = mapped_column(sa.Text)
    overflow_to: Mapped[str | None] = mapped_column(sa.Text)
    missed: Mapped[int] = mapped_column(sa.Integer, server_default="0")
    attempts: Mapped[int] = mapped_column(sa.Integer, server_default="0")  # a callback's calls
    agent: Mapped[str | None] = mapped_column(sa.Text)
    answered_at: Mapped[datetime | None] = mapped_column(TS)
    ended_at: Mapped[datetime | None] = mapped_column(TS)
    ended_by: Mapped[str | None] = mapped_column(sa.Text)
    talk_s: Mapped[float | None] = mapped_column(sa.Float)
    hold_s: Mapped[float | None] = mapped_column(sa.Float)
    wrapped_at: Mapped[datetime | None] = mapped_column(TS)
    acw_s: Mapped[float | None] = mapped_column(sa.Float)
    handled_at: Mapped[datetime | None] = mapped_column(TS)
    transferred: Mapped[bool] = mapped_column(sa.Boolean, server_default=sa.false())
    transfer_to_queue: Mapped[str | None] = mapped_column(sa.Text)
    transfer_to_agent: Mapped[str | None] = mapped_column(sa.Text)
    transfer_to_external: Mapped[str | None] = mapped_column(sa.Text)
    # the segment carrying the contact's queue outcome, counted once for the center
    contact_outcome: Mapped[bool] = mapped_column(sa.Boolean, server_default=sa.false())
    contact_wait_s: Mapped[float | None] = mapped_column(sa.Float)
    # events that did not fit the lifecycle (kept in `events`, explained here)
    notes: Mapped[list[str] | None] = mapped_column(ARRAY(sa.Text))

    __table_args__ = (
        sa.Index("ix_contact_segments_left_at", "left_at"),
        sa.Index("ix_contact_segments_handled_at", "handled_at"),
        sa.Index("ix_contact_segments_queued_at", "queued_at"),
        sa.Index("ix_contact_segments_agent_handled", "agent", "handled_at"),
        # one queue's rows by each time dating them (trends and drill-down of a queue)
        sa.Index("ix_contact_segments_queue_left_at", "queue", "left_at"),
        sa.Index("ix_contact_segments_queue_queued_at", "queue", "queued_at"),
        sa.Index("ix_contact_segments_queue_handled_at", "queue", "handled_at"),
        sa.Index(
            "ix_contact_segments_waiting",
            "queue",
            postgresql_where=sa.text("outcome IS NULL AND queued_at IS NOT NULL"),
        ),
        # every lookup by customer (repeats, first-contact resolution) wants first segments
        sa.Index(
            "ix_contact_segments_first_customer",
            "customer",
            "queued_at",
            postgresql_where=sa.text("is_first AND customer IS NOT NULL"),
        ),
    )


class Feedback(Base):
    """One survey or QA evaluation, attributed to the queue and agent of the contact's last
    answered segment (recomputed with the contact)."""

    __tablename__ = "feedback"

    source: Mapped[str] = mapped_column(sa.Text, primary_key=True)
    id: Mapped[str] = mapped_column(sa.Text, primary_key=True)
    call_id: Mapped[str] = mapped_column(sa.Text)
    ts: Mapped[datetime] = mapped_column(TS)
    kind: Mapped[str] = mapped_column(sa.Text)  # survey | qa
    queue: Mapped[str | None] = mapped_column(sa.Text)
    agent: Mapped[str | None] = mapped_column(sa.Text)
    csat: Mapped[int | None] = mapped_column(sa.SmallInteger)
    nps: Mapped[int | None] = mapped_column(sa.SmallInteger)
    resolved: Mapped[bool | None] = mapped_column(sa.Boolean)
    score: Mapped[float | None] = mapped_column(sa.Float)
    evaluator: Mapped[str | None] = mapped_column(sa.Text)
    form: Mapped[str | None] = mapped_column(sa.Text)

    __table_args__ = (
        sa.Index("ix_feedback_call_id", "call_id"),
        sa.Index("ix_feedback_ts", "ts"),
        sa.Index("ix_feedback_queue_ts", "queue", "ts"),
    )


class AgentState(Base):
    """An interval in one state. `ended_at` is NULL for the state the agent is in now.

    The primary key's index also carries ended_at and state (INCLUDE, migration restart1):
    queries for an agent's intervals overlapping a time (adherence) bound only their start by
    the key, and read the rest from the index instead of a heap page per interval."""

    __tablename__ = "agent_states"

    agent: Mapped[str] = mapped_column(sa.Text, primary_key=True)
    started_at: Mapped[datetime] = mapped_column(TS, primary_key=True)
    ended_at: Mapped[datetime | None] = mapped_column(TS)
    state: Mapped[str] = mapped_column(sa.Text)
    reason: Mapped[str | None] = mapped_column(sa.Text)
    queues: Mapped[list[str] | None] = mapped_column(ARRAY(sa.Text))

    __table_args__ = (
        sa.Index("ix_agent_states_ended_at", "ended_at"),
        sa.Index("ix_agent_states_current", "agent", postgresql_where=sa.text("ended_at IS NULL")),
    )


# --- reference data (configuration) ------------------------------------------------------------


class Queue(Base):
    __tablename__ = "queues"

    name: Mapped[str] = mapped_column(sa.Text, primary_key=True)
    # True when the name first appeared in an event and is not in the config (flagged)
    auto_created: Mapped[bool] = mapped_column(sa.Boolean, server_default=sa.false())
    created_at: Mapped[datetime] = mapped_column(TS, server_default=sa.func.now())


class Team(Base):
    __tablename__ = "teams"

    name: Mapped[str] = mapped_column(sa.Text, primary_key=True)
    supervisor: Mapped[str | None] = mapped_column(sa.Text)


class Agent(Base):
    __tablename__ = "agents"

    id: Mapped[str] = mapped_column(sa.Text, primary_key=True)
    display_name: Mapped[str | None] = mapped_column(sa.Text)
    team: Mapped[str | None] = mapped_column(sa.Text)
    auto_created: Mapped[bool] = mapped_column(sa.Boolean, server_default=sa.false())
    created_at: Mapped[datetime] = mapped_column(TS, server_default=sa.func.now())


class Schedule(Base):
    """A planned activity (`productive`, `break`, `lunch`, `meeting`, ...) for adherence."""

    __tablename__ = "schedules"

    agent: Mapped[str] = mapped_column(sa.Text, primary_key=True)
    starts_at: Mapped[datetime] = mapped_column(TS, primary_key=True)
    ends_at: Mapped[datetime] = mapped_column(TS)
    activity: Mapped[str] = mapped_column(sa.Text)

    __table_args__ = (sa.CheckConstraint("ends_at > starts_at", name="positive"),)


class ForecastInterval(Base):
    """Contacts offered and AHT forecast for one queue and quarter hour (docs/FORECAST.md):
    built from history or imported from a WFM tool; a newer one replaces it."""

    __tablename__ = "forecast_intervals"

    queue: Mapped[str] = mapped_column(sa.Text, primary_key=True)
    starts_at: Mapped[datetime] = mapped_column(TS, primary_key=True)
    offered: Mapped[float] = mapped_column(sa.Float)
    aht_s: Mapped[float | None] = mapped_column(sa.Float)
    method: Mapped[str] = mapped_column(sa.Text)  # a METHODS name, or "import"
    made_at: Mapped[datetime] = mapped_column(TS, server_default=sa.func.now())

    __table_args__ = (
        sa.CheckConstraint("offered >= 0", name="offered"),
        sa.CheckConstraint("aht_s > 0", name="aht"),
    )


class ReportSend(Base):
    """A scheduled report's send for one due time (app/reports/schedule.py): made once, so a
    due report goes out once; retried while pending."""

    __tablename__ = "report_sends"

    name: Mapped[str] = mapped_column(sa.Text, primary_key=True)  # the [[reports]] name
    due_at: Mapped[datetime] = mapped_column(TS, primary_key=True)
    status: Mapped[str] = mapped_column(sa.Text, server_default="pending")
    attempts: Mapped[int] = mapped_column(sa.Integer, server_default="0")
    next_attempt_at: Mapped[datetime] = mapped_column(TS)
    sent_at: Mapped[datetime | None] = mapped_column(TS)
    gap_at: Mapped[datetime | None] = mapped_column(TS)  # the data reached only this far
    detail: Mapped[str | None] = mapped_column(sa.Text)

    __table_args__ = (sa.CheckConstraint("status IN ('pending', 'sent', 'failed')", name="status"),)


class DerivedMeta(Base):
    """Which derivation produced the derived tables (`ingest.derive.DERIVE_VERSION`)."""

    __tablename__ = "derived_meta"

    key: Mapped[str] = mapped_column(sa.Text, primary_key=True)
    value: Mapped[str] = mapped_column(sa.Text)


class ConfigVersion(Base):
    """Every configuration ever in force; the newest is the current one."""

    __tablename__ = "config_versions"

    version: Mapped[int] = mapped_column(sa.Integer, sa.Identity(), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(TS, server_default=sa.func.now())
    sha256: Mapped[str] = mapped_column(sa.Text)
    origin: Mapped[str] = mapped_column(sa.Text)  # file path or "api"
    body: Mapped[dict[str, Any]] = mapped_column(JSONB)


class Token(Base):
    """An access token, stored as its SHA-256 (tokens are long random strings: a fast hash is
    enough, and lookups stay one index probe)."""

    __tablename__ = "tokens"

    id: Mapped[int] = mapped_column(sa.Integer, sa.Identity(), primary_key=True)
    token_sha256: Mapped[str] = mapped_column(sa.Text, unique=True)
    role: Mapped[str] = mapped_column(sa.Text)  # agent | supervisor | wallboard | ingest | admin
    agent: Mapped[str | None] = mapped_column(sa.Text)  # for role agent
    teams: Mapped[list[str] | None] = mapped_column(ARRAY(sa.Text))  # for role supervisor
    label: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(TS, server_default=sa.func.now())
    revoked_at: Mapped[datetime | None] = mapped_column(TS)
    # token: made by an admin; session: a sign-in (OIDC); paired: a TV paired to a wallboard
    kind: Mapped[str] = mapped_column(sa.Text, server_default="token")
    sources: Mapped[list[str] | None] = mapped_column(ARRAY(sa.Text))  # ingest: only these
    wallboard: Mapped[str | None] = mapped_column(sa.Text)  # paired: only this wallboard
    subject: Mapped[str | None] = mapped_column(sa.Text)  # session: the provider's `sub`
    expires_at: Mapped[datetime | None] = mapped_column(TS)  # session: renewed while used
    ends_at: Mapped[datetime | None] = mapped_column(TS)  # session: never renewed past this

    __table_args__ = (
        sa.CheckConstraint(
            "role IN ('agent', 'supervisor', 'wallboard', 'ingest', 'admin')", name="role"
        ),
        sa.CheckConstraint("role <> 'agent' OR agent IS NOT NULL", name="agent_bound"),
        sa.CheckConstraint("kind IN ('token', 'session', 'paired')", name="kind"),
    )


class Pairing(Base):
    """A TV waiting to be paired: the code it shows, the hash of the secret only its browser
    holds (a cookie), and, once an admin entered the code, the wallboard it is paired to."""

    __tablename__ = "pairings"

    code: Mapped[str] = mapped_column(sa.Text, primary_key=True)
    browser_sha256: Mapped[str] = mapped_column(sa.Text, unique=True)
    asked_board: Mapped[str | None] = mapped_column(sa.Text)  # the /wall/NAME it was opened on
    created_at: Mapped[datetime] = mapped_column(TS, server_default=sa.func.now())
    expires_at: Mapped[datetime] = mapped_column(TS)
    wallboard: Mapped[str | None] = mapped_column(sa.Text)  # set by the admin's pairing
    approved_by: Mapped[str | None] = mapped_column(sa.Text)


class OidcLogin(Base):
    """A sign-in under way: the `state` sent to the provider, bound to the browser that
    started it (the hash of a cookie), with its nonce and PKCE verifier. Used once."""

    __tablename__ = "oidc_logins"

    state: Mapped[str] = mapped_column(sa.Text, primary_key=True)
    browser_sha256: Mapped[str] = mapped_column(sa.Text)
    nonce: Mapped[str] = mapped_column(sa.Text)
    verifier: Mapped[str] = mapped_column(sa.Text)
    return_to: Mapped[str] = mapped_column(sa.Text)
    expires_at: Mapped[datetime] = mapped_column(TS)


class OidcSession(Base):
    """What a sign-in's session (a `tokens` row of kind 'session') keeps of the provider's
    answer: the refresh token that asks the provider, at each renewal, whether the person is
    still there, and the ID token that names the session at the provider's logout."""

    __tablename__ = "oidc_sessions"

    token_id: Mapped[int] = mapped_column(
        sa.ForeignKey("tokens.id", ondelete="CASCADE"), primary_key=True
    )
    refresh_token: Mapped[str | None] = mapped_column(sa.Text)
    id_token: Mapped[str | None] = mapped_column(sa.Text)
    renew_at: Mapped[datetime] = mapped_column(TS)  # the next renewal, on the next use after it


class AuditEntry(Base):
    """Who did what, when, from where (app/audit): sign-ins and failures, tokens, pairing,
    acknowledgements, exports, configuration changes. Kept for [audit] keep_days."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(sa.BigInteger, sa.Identity(), primary_key=True)
    at: Mapped[datetime] = mapped_column(TS, server_default=sa.func.now(), index=True)
    action: Mapped[str] = mapped_column(sa.Text)
    actor: Mapped[str] = mapped_column(sa.Text)  # a person, a token's label, `cli`
    role: Mapped[str | None] = mapped_column(sa.Text)
    address: Mapped[str | None] = mapped_column(sa.Text)  # the client's IP address
    target: Mapped[str | None] = mapped_column(sa.Text)
    ok: Mapped[bool] = mapped_column(sa.Boolean, server_default=sa.true())
    detail: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default=sa.text("'{}'::jsonb"))


class SourceLine(Base):
    """Source input that made no event: a line without contact or agent state (QUEUESTART,
    DID, unknown verbs: `kind` is the verb), or a line or row that could not be read (`kind`
    'rejected'), each with its reason. Never stored twice."""

    __tablename__ = "source_lines"

    source: Mapped[str] = mapped_column(sa.Text, primary_key=True)
    id: Mapped[str] = mapped_column(sa.Text, primary_key=True)
    ts: Mapped[datetime | None] = mapped_column(TS)
    kind: Mapped[str] = mapped_column(sa.Text)  # the verb, or 'rejected'
    raw: Mapped[str] = mapped_column(sa.Text)
    received_at: Mapped[datetime] = mapped_column(TS, server_default=sa.func.now())
    reason: Mapped[str | None] = mapped_column(sa.Text)


class SourcePosition(Base):
    """Where a source stands (a followed file's offset and what its lines said about members,
    a stream's sequence), committed with the events it read. `key`: the file's path, or ''."""

    __tablename__ = "source_positions"

    source: Mapped[str] = mapped_column(sa.Text, primary_key=True)
    key: Mapped[str] = mapped_column(sa.Text, primary_key=True)
    value: Mapped[dict[str, Any]] = mapped_column(JSONB)
    updated_at: Mapped[datetime] = mapped_column(TS, server_default=sa.func.now())


class SourceStats(Base):
    """A source's health counters, added to by every committed batch."""

    __tablename__ = "source_stats"

    source: Mapped[str] = mapped_column(sa.Text, primary_key=True)
    inserted: Mapped[int] = mapped_column(sa.BigInteger, server_default="0")
    duplicates: Mapped[int] = mapped_column(sa.BigInteger, server_default="0")
    rejected: Mapped[int] = mapped_column(sa.BigInteger, server_default="0")
    skipped: Mapped[int] = mapped_column(sa.BigInteger, server_default="0")
    gaps: Mapped[int] = mapped_column(sa.BigInteger, server_default="0")
    last_event_ts: Mapped[datetime | None] = mapped_column(TS)  # the newest event's own time
    last_batch_at: Mapped[datetime | None] = mapped_column(TS)  # when it was last heard from
    # events inserted per minute (minute since the epoch -> count), the last hour
    minutes: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default=sa.text("'{}'::jsonb"))


# --- live snapshots (UNLOGGED: rebuilt by the next tick) ----------------------------------------


class LiveTopic(Base):
    """The newest payload of a live topic, written by the live leader (app/live/hub.py)."""

    __tablename__ = "live_topics"
    __table_args__ = (sa.Index(None, "version"), {"prefixes": ["UNLOGGED"]})

    topic: Mapped[str] = mapped_column(sa.Text, primary_key=True)
    seq: Mapped[int] = mapped_column(sa.BigInteger)
    version: Mapped[int] = mapped_column(sa.BigInteger)
    computed_at: Mapped[datetime] = mapped_column(TS)
    data: Mapped[bytes] = mapped_column(sa.LargeBinary)  # orjson


class LiveInterest(Base):
    """The topics an API worker's clients subscribe to; the leader computes their union."""

    __tablename__ = "live_interest"
    __table_args__ = (sa.Index(None, "seen_at"), {"prefixes": ["UNLOGGED"]})

    worker: Mapped[str] = mapped_column(sa.Text, primary_key=True)
    topics: Mapped[list[str]] = mapped_column(ARRAY(sa.Text))
    seen_at: Mapped[datetime] = mapped_column(TS, server_default=sa.func.now())


class LiveChange(Base):
    """What a write touched, for the live leader's incremental computation (app/live/engine.py):
    appended by statement triggers on the derived tables (old and new values), `events`
    (ring-no-answers) and `schedules`. UNLOGGED: the leader starts from a full computation."""

    __tablename__ = "live_changes"
    __table_args__ = (sa.Index(None, "xid"), {"prefixes": ["UNLOGGED"]})

    id: Mapped[int] = mapped_column(sa.BigInteger, sa.Identity(always=False), primary_key=True)
    # the writing transaction (pg_current_xact_id) as a number
    xid: Mapped[int] = mapped_column(
        sa.BigInteger, server_default=sa.text("(pg_current_xact_id()::text::bigint)")
    )
    kind: Mapped[str] = mapped_column(sa.Text)  # s f a h m x (see the migration)
    t1: Mapped[datetime | None] = mapped_column(TS)
    t2: Mapped[datetime | None] = mapped_column(TS)
    t3: Mapped[datetime | None] = mapped_column(TS)
    customer: Mapped[str | None] = mapped_column(sa.Text)
    agent: Mapped[str | None] = mapped_column(sa.Text)


# --- interval rollups (derived: `callboard rebuild` recomputes them; app/rollups/) -------------

ROLLUP_COUNTS = [
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
ROLLUP_SUMS = [
    "wait_answered_sum",
    "wait_abandoned_sum",
    "talk_sum",
    "hold_sum",
    "acw_sum",
    "handle_sum",
    "csat_sum",
    "qa_sum",
]
ROLLUP_TIMES = ("fcr_h_min", "fcr_h_max")  # the earliest and latest end of a repeat window
ROLLUP_AGENT_TIME = [
    "t_on_call",
    "t_wrap_up",
    "t_available",
    "t_away",
    "t_breaks",
    "t_logged_in",
    "scheduled_s",
    "adherent_s",
]

# One row per level (center, queue, agent), key and 15-minute interval: the parts of the
# contacts, surveys and ring-no-answers dated in it. A team is its members' agent rows summed.
rollup_contacts = sa.Table(
    "rollup_contacts",
    Base.metadata,
    sa.Column("level", sa.Text, primary_key=True),
    sa.Column("key", sa.Text, primary_key=True),
    sa.Column("bucket", TS, primary_key=True),
    *(sa.Column(c, sa.BigInteger) for c in ROLLUP_COUNTS),
    *(sa.Column(c, sa.Float) for c in ROLLUP_SUMS),
    *(sa.Column(c, TS) for c in ROLLUP_TIMES),
    sa.Index(None, "bucket"),
)

# Agent time and adherence of the closed state intervals per agent (and the center, their
# sum) and 15-minute interval; the open interval's time is added by the reader up to now.
rollup_agent_time = sa.Table(
    "rollup_agent_time",
    Base.metadata,
    sa.Column("level", sa.Text, primary_key=True),
    sa.Column("key", sa.Text, primary_key=True),
    sa.Column("bucket", TS, primary_key=True),
    *(sa.Column(c, sa.Float) for c in ROLLUP_AGENT_TIME),
    sa.Index(None, "bucket"),
)


class RollupState(Base):
    """The thresholds (per queue: T, S, repeat window) the rollups were computed with."""

    __tablename__ = "rollup_state"
    __table_args__ = (sa.CheckConstraint("id = 1", name="one"),)

    id: Mapped[int] = mapped_column(sa.SmallInteger, primary_key=True)
    params: Mapped[dict[str, Any]] = mapped_column(JSONB)
    # the transaction that wrote to the rows first since the last refresh_rollups (None: up to
    # date); a write of another transaction left without its refresh: rows are read until rebuilt
    behind_xid: Mapped[int | None] = mapped_column(sa.BigInteger)
    built_at: Mapped[datetime] = mapped_column(TS, server_default=sa.func.now())


# --- alerts --------------------------------------------------------------------------------------
# - `alerts`: one row per alert's life: breach seen (pending while `for_s` holds), raised,
#   escalated, acknowledged, cleared. At most one open row per (rule, scope): a partial unique
#   index, so two workers evaluating the same tick cannot both raise it.
# - `alert_notifications`: the outbox. One row per (alert, target, step) to be delivered, made in
#   the same transaction as the transition; unique, so a step is notified once. A background task
#   drains it outside the tick.
# - `alert_deliveries`: every delivery attempt, with its outcome.


class Alert(Base):
    __tablename__ = "alerts"

    id: Mapped[int] = mapped_column(sa.BigInteger, sa.Identity(), primary_key=True)
    rule: Mapped[str] = mapped_column(sa.Text)  # the [[alerts]] name
    scope: Mapped[str] = mapped_column(sa.Text)  # center | queue:Q | team:T | agent:A
    metric: Mapped[str] = mapped_column(sa.Text)
    window: Mapped[str] = mapped_column(sa.Text)
    condition: Mapped[str] = mapped_column(sa.Text)  # above | below
    threshold: Mapped[float] = mapped_column(sa.Double)
    severity: Mapped[str] = mapped_column(sa.Text)
    value: Mapped[float | None] = mapped_column(sa.Double)
    peak: Mapped[float | None] = mapped_column(sa.Double)  # the worst value seen
    level: Mapped[int] = mapped_column(sa.Integer, server_default="0")  # steps beyond
    code: Mapped[str] = mapped_column(sa.Text)
    params: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default="{}")
    breach_since: Mapped[datetime] = mapped_column(TS)
    raised_at: Mapped[datetime | None] = mapped_column(TS)  # NULL: pending (for_s)
    escalated_at: Mapped[datetime | None] = mapped_column(TS)
    acknowledged_by: Mapped[str | None] = mapped_column(sa.Text)
    acknowledged_at: Mapped[datetime | None] = mapped_column(TS)
    cleared_at: Mapped[datetime | None] = mapped_column(TS)
    notified_level: Mapped[int] = mapped_column(sa.Integer, server_default="-1")
    notified_severity: Mapped[str | None] = mapped_column(sa.Text)
    updated_at: Mapped[datetime] = mapped_column(TS, server_default=sa.func.now())

    __table_args__ = (
        sa.Index(
            "uq_alerts_open",
            "rule",
            "scope",
            unique=True,
            postgresql_where=sa.text("cleared_at IS NULL"),
        ),
        sa.Index("ix_alerts_raised_at", "raised_at"),
        sa.CheckConstraint("condition IN ('above', 'below')", name="condition"),
        sa.CheckConstraint("severity IN ('info', 'warning', 'critical')", name="severity"),
    )


class AlertNotification(Base):
    __tablename__ = "alert_notifications"

    id: Mapped[int] = mapped_column(sa.BigInteger, sa.Identity(), primary_key=True)
    alert_id: Mapped[int] = mapped_column(sa.ForeignKey("alerts.id", ondelete="CASCADE"))
    event: Mapped[str] = mapped_column(sa.Text)  # raised | escalated | cleared
    step: Mapped[str] = mapped_column(sa.Text)  # what was notified: "2/critical", "cleared"
    target: Mapped[str] = mapped_column(sa.Text)  # webhook:NAME | email:NAME
    body: Mapped[dict[str, Any]] = mapped_column(JSONB)
    created_at: Mapped[datetime] = mapped_column(TS)
    status: Mapped[str] = mapped_column(sa.Text, server_default="pending")
    attempts: Mapped[int] = mapped_column(sa.Integer, server_default="0")
    next_attempt_at: Mapped[datetime] = mapped_column(TS)
    sent_at: Mapped[datetime | None] = mapped_column(TS)
    last_error: Mapped[str | None] = mapped_column(sa.Text)

    __table_args__ = (
        sa.UniqueConstraint("alert_id", "target", "step"),
        sa.Index(
            "ix_alert_notifications_due",
            "next_attempt_at",
            postgresql_where=sa.text("status = 'pending'"),
        ),
        sa.CheckConstraint("status IN ('pending', 'sent', 'failed')", name="status"),
    )


class AlertDelivery(Base):
    __tablename__ = "alert_deliveries"

    id: Mapped[int] = mapped_column(sa.BigInteger, sa.Identity(), primary_key=True)
    notification_id: Mapped[int] = mapped_column(
        sa.ForeignKey("alert_notifications.id", ondelete="CASCADE"), index=True
    )
    attempt: Mapped[int] = mapped_column(sa.Integer)
    started_at: Mapped[datetime] = mapped_column(TS)
    duration_ms: Mapped[float] = mapped_column(sa.Double)
    ok: Mapped[bool] = mapped_column(sa.Boolean)
    detail: Mapped[str] = mapped_column(sa.Text)  # "HTTP 200", "250 OK", or the error
