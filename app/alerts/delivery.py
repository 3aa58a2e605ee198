"""Notifications out: webhooks (JSON, or Slack- / Teams-shaped bodies) and e-mail over SMTP.

The evaluator only writes the outbox (`alert_notifications`) in the tick's transaction; this
module drains it outside the tick. A notification is claimed with a short lease (so another
worker does not send it at the same time, and takes it over if this one dies), sent with a
timeout outside any transaction, and its attempt recorded. A failure is retried after
backoff_s, 2 x backoff_s, ... (at most max_backoff_s), up to max_attempts, then marked failed.
A dead or slow receiver costs its own timeout in a delivery thread, never the tick."""

from __future__ import annotations

import smtplib
import ssl
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from typing import Any

import httpx
import psycopg

from app.alerts.config import Alerting, EmailList, Smtp, Webhook
from app.alerts.texts import color, subject, text
from app.config import CallboardConfig

LEASE_S = 120.0  # a claimed notification is not taken by another worker for this long
DETAIL_MAX = 500


@dataclass(frozen=True)
class Claimed:
    id: int
    target: str
    event: str
    body: dict[str, Any]
    attempt: int  # this attempt's number (1 = first)


@dataclass(frozen=True)
class Outcome:
    ok: bool
    detail: str
    started_at: datetime
    duration_ms: float


class DeliveryError(Exception):
    pass


def claim(pg: psycopg.Connection[Any], now: datetime, *, limit: int = 20) -> list[Claimed]:
    """Take up to `limit` due notifications: attempts + 1 and a lease, committed by the caller
    before sending, so that no transaction stays open while a receiver is slow."""
    rows = pg.execute(
        "UPDATE alert_notifications n SET attempts = attempts + 1, next_attempt_at = %s"
        " FROM (SELECT id FROM alert_notifications WHERE status = 'pending'"
        "       AND next_attempt_at <= %s ORDER BY next_attempt_at, id LIMIT %s"
        "       FOR UPDATE SKIP LOCKED) due"
        " WHERE n.id = due.id RETURNING n.id, n.target, n.event, n.body, n.attempts",
        (now + timedelta(seconds=LEASE_S), now, limit),
    ).fetchall()
    return [Claimed(*r) for r in sorted(rows)]


def record(pg: psycopg.Connection[Any], c: Claimed, outcome: Outcome, policy: Alerting) -> str:
    """Store the attempt and the notification's new status; returns the status."""
    pg.execute(
        "INSERT INTO alert_deliveries (notification_id, attempt, started_at, duration_ms, ok,"
        " detail) VALUES (%s, %s, %s, %s, %s, %s)",
        (
            c.id,
            c.attempt,
            outcome.started_at,
            outcome.duration_ms,
            outcome.ok,
            outcome.detail[:DETAIL_MAX],
        ),
    )
    if outcome.ok:
        status, next_at, error = "sent", outcome.started_at, None
    elif c.attempt >= policy.max_attempts:
        status, next_at, error = "failed", outcome.started_at, outcome.detail[:DETAIL_MAX]
    else:
        status, error = "pending", outcome.detail[:DETAIL_MAX]
        next_at = outcome.started_at + timedelta(seconds=backoff(c.attempt, policy))
    pg.execute(
        "UPDATE alert_notifications SET status = %s, next_attempt_at = %s, last_error = %s,"
        " sent_at = CASE WHEN %s THEN %s ELSE sent_at END WHERE id = %s",
        (status, next_at, error, outcome.ok, outcome.started_at, c.id),
    )
    return status


def backoff(attempt: int, policy: Alerting) -> float:
    """Seconds before the attempt after `attempt` (1-based)."""
    return float(min(policy.max_backoff_s, policy.backoff_s * 2 ** (attempt - 1)))


def send(config: CallboardConfig, c: Claimed, now: Callable[[], datetime]) -> Outcome:
    """One attempt, with the target's timeout. Never raises: a failure is an outcome."""
    started, t0 = now(), time.perf_counter()
    try:
        channel, _, name = c.target.partition(":")
        if channel == "webhook" and name in config.webhooks:
            detail = post_webhook(config.webhooks[name], c.event, c.body)
        elif channel == "email" and name in config.emails and config.smtp is not None:
            detail = send_email(config.smtp, config.emails[name], c.event, c.body)
        else:
            raise DeliveryError(f"{c.target} is no longer configured")
        ok = True
    except (DeliveryError, httpx.HTTPError, smtplib.SMTPException, OSError) as exc:
        ok, detail = False, f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    return Outcome(ok, detail, started, (time.perf_counter() - t0) * 1000)


def webhook_body(hook: Webhook, event: str, body: dict[str, Any]) -> dict[str, Any]:
    words = text(hook.language, event, body["alert"])
    if hook.format == "slack":
        # Slack incoming webhooks (and Mattermost, Rocket.Chat): `text` is what every client
        # shows; the attachment adds the severity's color
        return {
            "text": words,
            "attachments": [
                {
                    "color": color(event, body["alert"]["severity"]),
                    "text": subject(hook.language, event, body["alert"]),
                }
            ],
        }
    if hook.format == "teams":
        # Microsoft Teams Workflows ("When a Teams webhook request is received"): an Adaptive Card
        return {
            "type": "message",
            "attachments": [
                {
                    "contentType": "application/vnd.microsoft.card.adaptive",
                    "content": {
                        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
                        "type": "AdaptiveCard",
                        "version": "1.4",
                        "body": [
                            {
                                "type": "TextBlock",
                                "text": subject(hook.language, event, body["alert"]),
                                "weight": "Bolder",
                                "wrap": True,
                            },
                            {"type": "TextBlock", "text": words, "wrap": True},
                        ],
                    },
                }
            ],
        }
    return {**body, "text": words}


def post_webhook(hook: Webhook, event: str, body: dict[str, Any]) -> str:
    response = httpx.post(
        hook.url,
        json=webhook_body(hook, event, body),
        headers={"User-Agent": "callboard-alerts", **hook.headers},
        timeout=hook.timeout_s,
        follow_redirects=False,
    )
    if response.status_code >= 300:
        raise DeliveryError(f"HTTP {response.status_code}: {response.text[:200]}")
    return f"HTTP {response.status_code}"


def send_email(smtp: Smtp, to: EmailList, event: str, body: dict[str, Any]) -> str:
    message = EmailMessage()
    message["From"] = smtp.sender
    message["To"] = ", ".join(to.to)
    message["Subject"] = subject(to.language, event, body["alert"])
    message.set_content(text(to.language, event, body["alert"]) + "\n")
    connect: Callable[..., AbstractContextManager[smtplib.SMTP]] = (
        smtplib.SMTP_SSL if smtp.ssl else smtplib.SMTP
    )
    with connect(smtp.host, smtp.port, timeout=smtp.timeout_s) as client:
        if smtp.starttls:
            client.starttls(context=ssl.create_default_context())
        if smtp.user is not None and smtp.password_file is not None:
            password = smtp.password_file.read_text(encoding="utf-8").strip()
            client.login(smtp.user, password)
        refused = client.send_message(message)
    if refused:
        raise DeliveryError(f"refused: {', '.join(sorted(refused))}")
    return f"accepted for {len(to.to)}"


def drain_once(
    connect: Callable[[], AbstractContextManager[psycopg.Connection[Any]]],
    config: CallboardConfig,
    now: Callable[[], datetime],
    *,
    limit: int = 20,
    pool: ThreadPoolExecutor | None = None,
) -> list[tuple[int, str]]:
    """Claim due notifications, send them side by side, record each attempt. `connect` gives
    a connection in a transaction that commits on exit. Returns (notification id, status)."""
    with connect() as pg:
        claimed = claim(pg, now(), limit=limit)
    if not claimed:
        return []
    own = pool is None
    pool = pool or ThreadPoolExecutor(max_workers=min(8, len(claimed)))
    try:
        outcomes = list(pool.map(lambda c: send(config, c, now), claimed))
    finally:
        if own:
            pool.shutdown(wait=True)
    with connect() as pg:
        return [
            (c.id, record(pg, c, o, config.alerting))
            for c, o in zip(claimed, outcomes, strict=True)
        ]
