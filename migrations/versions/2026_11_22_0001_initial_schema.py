"""Initial schema: raw events, derived contact segments / feedback / agent states, reference data.

Revision ID: 0001
Revises: (none)
Create Date: 2026-11-22 10:11:35.050557
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "agent_states",
        sa.Column("agent", sa.Text(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("state", sa.Text(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("queues", postgresql.ARRAY(sa.Text()), nullable=True),
        sa.PrimaryKeyConstraint("agent", "started_at", name=op.f("pk_agent_states")),
    )
    op.create_index(
        "ix_agent_states_current",
        "agent_states",
        ["agent"],
        unique=False,
        postgresql_where=sa.text("ended_at IS NULL"),
    )
    op.create_index("ix_agent_states_ended_at", "agent_states", ["ended_at"], unique=False)
    op.create_table(
        "agents",
        sa.Column("id", sa.Text(), nullable=False),
        sa.Column("display_name", sa.Text(), nullable=True),
        sa.Column("team", sa.Text(), nullable=True),
        sa.Column("auto_created", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agents")),
    )
    op.create_table(
        "config_versions",
        sa.Column("version", sa.Integer(), sa.Identity(always=False), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("sha256", sa.Text(), nullable=False),
        sa.Column("origin", sa.Text(), nullable=False),
        sa.Column("body", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.PrimaryKeyConstraint("version", name=op.f("pk_config_versions")),
    )
    op.create_table(
        "contact_segments",
        sa.Column("call_id", sa.Text(), nullable=False),
        sa.Column("segment", sa.SmallInteger(), nullable=False),
        sa.Column("queue", sa.Text(), nullable=False),
        sa.Column("is_first", sa.Boolean(), nullable=False),
        sa.Column("is_last", sa.Boolean(), nullable=False),
        sa.Column("channel", sa.Text(), nullable=True),
        sa.Column("customer", sa.Text(), nullable=True),
        sa.Column("priority", sa.Integer(), nullable=True),
        sa.Column("queued_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("outcome", sa.Text(), nullable=True),
        sa.Column("left_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("wait_s", sa.Float(), nullable=True),
        sa.Column("overflow_reason", sa.Text(), nullable=True),
        sa.Column("overflow_to", sa.Text(), nullable=True),
        sa.Column("missed", sa.Integer(), server_default="0", nullable=False),
        sa.Column("agent", sa.Text(), nullable=True),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ended_by", sa.Text(), nullable=True),
        sa.Column("talk_s", sa.Float(), nullable=True),
        sa.Column("hold_s", sa.Float(), nullable=True),
        sa.Column("wrapped_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("acw_s", sa.Float(), nullable=True),
        sa.Column("handled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("transferred", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("transfer_to_queue", sa.Text(), nullable=True),
        sa.Column("transfer_to_agent", sa.Text(), nullable=True),
        sa.Column("transfer_to_external", sa.Text(), nullable=True),
        sa.Column("contact_outcome", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("contact_wait_s", sa.Float(), nullable=True),
        sa.Column("notes", postgresql.ARRAY(sa.Text()), nullable=True),
        sa.PrimaryKeyConstraint("call_id", "segment", name=op.f("pk_contact_segments")),
    )
    op.create_index(
        "ix_contact_segments_agent_handled",
        "contact_segments",
        ["agent", "handled_at"],
        unique=False,
    )
    op.create_index(
        "ix_contact_segments_customer",
        "contact_segments",
        ["customer", "queued_at"],
        unique=False,
        postgresql_where=sa.text("customer IS NOT NULL"),
    )
    op.create_index(
        "ix_contact_segments_handled_at", "contact_segments", ["handled_at"], unique=False
    )
    op.create_index("ix_contact_segments_left_at", "contact_segments", ["left_at"], unique=False)
    op.create_index(
        "ix_contact_segments_queued_at", "contact_segments", ["queued_at"], unique=False
    )
    op.create_index(
        "ix_contact_segments_waiting",
        "contact_segments",
        ["queue"],
        unique=False,
        postgresql_where=sa.text("outcome IS NULL AND queued_at IS NOT NULL"),
    )
    op.create_table(
        "derived_meta",
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_derived_meta")),
    )
    op.create_table(
        "events",
        sa.Column("seq", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("id", sa.Text(), nullable=False),
        sa.Column("ts", sa.DateTime(timezone=True), nullable=False),
        sa.Column("type", sa.Text(), nullable=False),
        sa.Column("call_id", sa.Text(), nullable=True),
        sa.Column("queue", sa.Text(), nullable=True),
        sa.Column("agent", sa.Text(), nullable=True),
        sa.Column(
            "data",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column("raw", sa.Text(), nullable=True),
        sa.Column(
            "received_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_events")),
        sa.UniqueConstraint("source", "id", name=op.f("uq_events_source_id")),
    )
    op.create_index(
        "ix_events_agent_ts",
        "events",
        ["agent", "ts"],
        unique=False,
        postgresql_where=sa.text("agent IS NOT NULL"),
    )
    op.create_index(
        "ix_events_call_id",
        "events",
        ["call_id"],
        unique=False,
        postgresql_where=sa.text("call_id IS NOT NULL"),
    )
    op.create_index("ix_events_ts_brin", "events", ["ts"], unique=False, postgresql_using="brin")
    op.create_table(
        "feedback",
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("id", sa.Text(), nullable=False),
        sa.Column("call_id", sa.Text(), nullable=False),
        sa.Column("ts", sa.DateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("queue", sa.Text(), nullable=True),
        sa.Column("agent", sa.Text(), nullable=True),
        sa.Column("csat", sa.SmallInteger(), nullable=True),
        sa.Column("nps", sa.SmallInteger(), nullable=True),
        sa.Column("resolved", sa.Boolean(), nullable=True),
        sa.Column("score", sa.Float(), nullable=True),
        sa.Column("evaluator", sa.Text(), nullable=True),
        sa.Column("form", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("source", "id", name=op.f("pk_feedback")),
    )
    op.create_index("ix_feedback_call_id", "feedback", ["call_id"], unique=False)
    op.create_index("ix_feedback_ts", "feedback", ["ts"], unique=False)
    op.create_table(
        "queues",
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("auto_created", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_queues")),
    )
    op.create_table(
        "schedules",
        sa.Column("agent", sa.Text(), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("activity", sa.Text(), nullable=False),
        sa.CheckConstraint("ends_at > starts_at", name=op.f("ck_schedules_positive")),
        sa.PrimaryKeyConstraint("agent", "starts_at", name=op.f("pk_schedules")),
    )
    op.create_table(
        "teams",
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("supervisor", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_teams")),
    )


def downgrade() -> None:
    op.drop_table("teams")
    op.drop_table("schedules")
    op.drop_table("queues")
    op.drop_index("ix_feedback_ts", table_name="feedback")
    op.drop_index("ix_feedback_call_id", table_name="feedback")
    op.drop_table("feedback")
    op.drop_index("ix_events_ts_brin", table_name="events", postgresql_using="brin")
    op.drop_index(
        "ix_events_call_id", table_name="events", postgresql_where=sa.text("call_id IS NOT NULL")
    )
    op.drop_index(
        "ix_events_agent_ts", table_name="events", postgresql_where=sa.text("agent IS NOT NULL")
    )
    op.drop_table("events")
    op.drop_table("derived_meta")
    op.drop_index(
        "ix_contact_segments_waiting",
        table_name="contact_segments",
        postgresql_where=sa.text("outcome IS NULL AND queued_at IS NOT NULL"),
    )
    op.drop_index("ix_contact_segments_queued_at", table_name="contact_segments")
    op.drop_index("ix_contact_segments_left_at", table_name="contact_segments")
    op.drop_index("ix_contact_segments_handled_at", table_name="contact_segments")
    op.drop_index(
        "ix_contact_segments_customer",
        table_name="contact_segments",
        postgresql_where=sa.text("customer IS NOT NULL"),
    )
    op.drop_index("ix_contact_segments_agent_handled", table_name="contact_segments")
    op.drop_table("contact_segments")
    op.drop_table("config_versions")
    op.drop_table("agents")
    op.drop_index("ix_agent_states_ended_at", table_name="agent_states")
    op.drop_index(
        "ix_agent_states_current",
        table_name="agent_states",
        postgresql_where=sa.text("ended_at IS NULL"),
    )
    op.drop_table("agent_states")
