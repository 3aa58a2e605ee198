"""Notifications out: webhooks (JSON, or Slack- / Teams-shaped bodies) and e-mail over SMTP.

The evaluator only writes the outbox (`alert_notifications`) in the tick's transaction; this
module drains it outside the tick. A notification is claimed with a short lease (so another
worker does not send it at the same time, and takes it over if this one dies), sent with a
timeout outside any transaction, and its attempt recorded. A failure is retried after
backoff_s, 2 x backoff_s, ... (at most max_backoff_s), up to max_attempts, then marked failed.
A dead or slow receiver costs its own timeout in a delivery thread, never the tick.

Deliveries to one target never wait for another's: each target's notifications go out in
order in a thread of their own, each recorded as soon as it is answered, and the background
drain (Outbox) claims nothing more for a target still busy, so a receiver that never answers
holds back only its own (a hanging webhook once held a critical alert to a healthy one back
by 55 s, on every retry)."""

from __future__ import annotations

import functools
import smtplib
import ssl
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import AbstractContextManager, contextmanager
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


def claim(
    pg: psycopg.Connection[Any],
    now: datetime,
    *,
    limit: int = 20,
    per_target: int = 20,
    busy: frozenset[str] = frozenset(),
) -> list[Claimed]:
    """Take up to `limit` due notifications, at most `per_target` of one target and none of
    the `busy` targets: attempts + 1 and a lease, committed by the caller before sending, so
    that no transaction stays open while a receiver is slow."""
    rows = pg.execute(
        "UPDATE alert_notifications n SET attempts = attempts + 1, next_attempt_at = %s"
        " FROM (SELECT id FROM alert_notifications WHERE status = 'pending'"
        "       AND next_attempt_at <= %s AND target <> ALL(%s)"
        "       ORDER BY next_attempt_at, id FOR UPDATE SKIP LOCKED) due"
        " WHERE n.id = due.id AND n.id IN (SELECT id FROM (SELECT id, row_number() OVER"
        "   (PARTITION BY target ORDER BY next_attempt_at, id) AS nth FROM alert_notifications"
        "   WHERE status = 'pending' AND next_attempt_at <= %s AND target <> ALL(%s)) ranked"
        "   WHERE nth <= %s ORDER BY id LIMIT %s)"
        " RETURNING n.id, n.target, n.event, n.body, n.attempts",
        (now + timedelta(seconds=LEASE_S), now, sorted(busy), now, sorted(busy), per_target, limit),
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
    refused = smtp_send(smtp, message)
    if refused:
        raise DeliveryError(f"refused: {', '.join(sorted(refused))}")
    return f"accepted for {len(to.to)}"


def smtp_send(smtp: Smtp, message: EmailMessage) -> dict[str, Any]:
    """`message` handed to the [smtp] server (TLS and login as configured; the scheduled
    reports send through it too). Returns the recipients it refused (raises when it refused
    them all or could not be reached)."""
    connect: Callable[..., AbstractContextManager[smtplib.SMTP]] = (
        smtplib.SMTP_SSL if smtp.ssl else smtplib.SMTP
    )
    with connect(smtp.host, smtp.port, timeout=smtp.timeout_s) as client:
        if smtp.starttls:
            client.starttls(context=ssl.create_default_context())
        if smtp.user is not None and smtp.password_file is not None:
            password = smtp.password_file.read_text(encoding="utf-8").strip()
            client.login(smtp.user, password)
        return dict(client.send_message(message))


Connect = Callable[[], AbstractContextManager[psycopg.Connection[Any]]]


def deliver_in_order(
    connect: Connect, config: CallboardConfig, now: Callable[[], datetime], items: list[Claimed]
) -> list[tuple[int, str]]:
    """One target's claimed notifications, one after another, each recorded when answered."""
    done = []
    for c in items:
        outcome = send(config, c, now)
        with connect() as pg:
            done.append((c.id, record(pg, c, outcome, config.alerting)))
    return done


def by_target(claimed: list[Claimed]) -> dict[str, list[Claimed]]:
    groups: dict[str, list[Claimed]] = defaultdict(list)
    for c in claimed:
        groups[c.target].append(c)
    return groups


def drain_once(
    connect: Connect,
    config: CallboardConfig,
    now: Callable[[], datetime],
    *,
    limit: int = 20,
    pool: ThreadPoolExecutor | None = None,
) -> list[tuple[int, str]]:
    """Claim due notifications, send each target's side by side with the others', record each
    attempt; returns when all are answered (tests, `callboard alerts`). `connect` gives a
    connection in a transaction that commits on exit. Returns (notification id, status)."""
    with connect() as pg:
        claimed = claim(pg, now(), limit=limit)
    if not claimed:
        return []
    groups = by_target(claimed)
    lock = threading.Lock()

    @contextmanager
    def one_at_a_time() -> Iterator[psycopg.Connection[Any]]:
        # records are short; one at a time, as `connect` may hand out one shared connection
        with lock, connect() as pg:
            yield pg

    own = pool is None
    pool = pool or ThreadPoolExecutor(max_workers=min(8, len(groups)))
    try:
        futures = [
            pool.submit(deliver_in_order, one_at_a_time, config, now, g) for g in groups.values()
        ]
        return sorted(pair for f in futures for pair in f.result())
    finally:
        if own:
            pool.shutdown(wait=True)


class Outbox:
    """The background drain: each pass claims for the targets not busy and hands each target's
    notifications to a thread of its own; it never waits for a delivery. A target gets one
    notification per pass (its lease then covers its one timeout)."""

    def __init__(self, connect: Connect, pool: ThreadPoolExecutor) -> None:
        self.connect, self.pool = connect, pool
        self.busy: set[str] = set()
        self.sent = 0
        self.wake = threading.Event()  # set when a target is free again
        self._lock = threading.Lock()

    def drain(
        self, config: CallboardConfig, now: Callable[[], datetime], *, limit: int = 20
    ) -> int:
        """One pass; returns how many notifications it handed out."""
        with self._lock:
            busy = frozenset(self.busy)
        with self.connect() as pg:
            claimed = claim(pg, now(), limit=limit, per_target=1, busy=busy)
        for target, items in by_target(claimed).items():
            with self._lock:
                self.busy.add(target)
            future = self.pool.submit(deliver_in_order, self.connect, config, now, items)
            future.add_done_callback(functools.partial(self._done, target))
        return len(claimed)

    def _done(self, target: str, future: Future[list[tuple[int, str]]]) -> None:
        with self._lock:
            self.busy.discard(target)
        if not future.cancelled() and future.exception() is None:
            self.sent += sum(1 for _, status in future.result() if status == "sent")
        self.wake.set()
