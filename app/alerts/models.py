"""The alert tables (imported by app.models, so that Alembic and the model check see them).

- `alerts`: one row per alert's life: breach seen (pending while `for_s` holds), raised,
  escalated, acknowledged, cleared. At most one open row per (rule, scope): a partial unique
  index, so two workers evaluating the same tick cannot both raise it.
- `alert_notifications`: the outbox. One row per (alert, target, step) to be delivered, made in
  the same transaction as the transition; unique, so a step is notified once. A background task
  drains it outside the tick.
- `alert_deliveries`: every delivery attempt, with its outcome."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from app.models import TS, Base


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
