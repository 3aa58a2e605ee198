"""Scheduled reports: when each [[reports]] entry is due, the days it covers, and its sending by
e-mail (the [smtp] server and [emails.NAME] lists the alerts use), at most once per due time.

`report_sends` is the outbox: one row per (entry, due time), so a due report is sent once
however many processes run, and a failed send is retried with the alerts' backoff
([alerting]) up to its max_attempts. A late source (the slowest source's newest event older
than the range's end) holds the send up to the entry's `wait_for_data_min`; then it goes, with
the gap stated in the report and in the mail."""

from __future__ import annotations

import logging
import smtplib
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from typing import Any
from zoneinfo import ZoneInfo

import psycopg

from app.alerts.config import EmailList, Smtp
from app.alerts.delivery import backoff, smtp_send
from app.config import CallboardConfig
from app.i18n import t
from app.metrics.windows import local_midnight
from app.reports import formats
from app.reports.config import DAYS, ScheduledReport
from app.reports.service import Days, build, zone_of

log = logging.getLogger(__name__)

# A due time missed by more than this (the server was down) is not sent late any more.
CATCH_UP = timedelta(hours=6)


def last_due(entry: ScheduledReport, now: datetime, tz: str) -> datetime:
    """The latest due time at or before `now` (local clock times in `tz`)."""
    zone = ZoneInfo(tz)
    kind, *rest = entry.schedule.split()
    if kind == "every":
        step = timedelta(minutes=int(rest[0]))
        midnight = local_midnight(now, tz)
        return midnight + ((now - midnight) // step) * step
    clock = rest[-1]
    hh, mm = (int(x) for x in clock.split(":"))
    local = now.astimezone(zone)
    day = local.date()
    for back in range(0, 8):
        d = day - timedelta(days=back)
        if kind == "weekly" and DAYS[d.weekday()] != rest[0]:
            continue
        at = datetime(d.year, d.month, d.day, hh, mm, tzinfo=zone).astimezone(UTC)
        if at <= now:
            return at
    raise AssertionError("a daily or weekly time falls within 8 days")


def days_for(entry: ScheduledReport, due: datetime, tz: str) -> Days:
    """The days a report due at `due` covers."""
    today = due.astimezone(ZoneInfo(tz)).date()
    if entry.range == "today-so-far":
        return Days(today, today)
    if entry.range == "yesterday":
        return Days(today - timedelta(days=1), today - timedelta(days=1))
    monday = today - timedelta(days=today.weekday())  # last-week: Monday to Sunday before
    return Days(monday - timedelta(days=7), monday - timedelta(days=1))


def range_end(entry: ScheduledReport, days: Days, due: datetime, tz: str) -> datetime:
    """The instant the data must reach for the report to be whole."""
    if entry.range == "today-so-far":
        return due
    return days.bounds(tz)[1]


def newest_event(conn: psycopg.Connection[Any]) -> datetime | None:
    """The slowest source's newest event (what every source has reached)."""
    row = conn.execute("SELECT min(last_event_ts) FROM source_stats").fetchone()
    return row[0] if row else None


@dataclass(frozen=True)
class Prepared:
    entry: ScheduledReport
    due: datetime
    report: dict[str, Any]
    gap: datetime | None  # the data reach only this far (None: whole)


def prepare(
    conn: psycopg.Connection[Any],
    config: CallboardConfig,
    entry: ScheduledReport,
    due: datetime,
    now: datetime,
    *,
    wait: bool,
) -> Prepared | None:
    """The report of `entry` due at `due`; None while a late source is still waited for."""
    tz = zone_of(config, entry.by)
    days = days_for(entry, due, tz)
    end = range_end(entry, days, due, tz)
    reached = newest_event(conn)
    late = reached is None or reached < end
    if late and wait and now < due + timedelta(minutes=entry.wait_for_data_min):
        return None
    report = build(
        conn,
        config,
        name=entry.report,
        days=days,
        by=entry.by,
        interval=entry.interval,
        now=min(now, end) if entry.range == "today-so-far" else now,
    )
    gap = (reached or days.bounds(tz)[0]) if late else None
    if gap is not None:
        report["gap"] = gap.isoformat().replace("+00:00", "Z")
    return Prepared(entry, due, report, gap)


def message(config: CallboardConfig, p: Prepared, to: EmailList) -> EmailMessage:
    assert config.smtp is not None
    lang = p.entry.lang or to.language
    r = p.report
    title = t(lang, f"report.name.{r['report']}")
    tb = formats.table(r, lang)
    msg = EmailMessage()
    msg["From"] = config.smtp.sender
    msg["To"] = ", ".join(to.to)
    msg["Subject"] = f"callboard · {title} · {r['from']} – {r['to']}"
    lines = [title, tb.subtitle, "", tb.rule]
    if p.gap is not None:
        lines += ["", t(lang, "report.gap", at=r["gap"])]
    lines += ["", tb.generated]
    msg.set_content("\n".join(lines) + "\n")
    data = formats.render(r, p.entry.format, lang) if p.entry.format != "json" else _json(r)
    maintype, _, subtype = formats.MEDIA[p.entry.format].split(";")[0].partition("/")
    filename = f"callboard-{p.entry.name}-{r['from']}-{r['to']}.{p.entry.format}"
    msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename)
    return msg


def _json(report: dict[str, Any]) -> bytes:
    import orjson

    return orjson.dumps(report)


def send(smtp: Smtp, msg: EmailMessage) -> str:
    refused = smtp_send(smtp, msg)  # the alerts' SMTP client
    if refused:
        raise smtplib.SMTPException(f"refused: {', '.join(sorted(refused))}")
    return "accepted"


def deliver(config: CallboardConfig, p: Prepared) -> list[str]:
    """Send to every list of the entry; returns what each said (raises on the first failure)."""
    assert config.smtp is not None
    out = []
    for target in p.entry.notify:
        to = config.emails[target.partition(":")[2]]
        out.append(f"{target}: {send(config.smtp, message(config, p, to))}")
    return out


def run_due(
    connect: Callable[[], AbstractContextManager[psycopg.Connection[Any]]],
    config: CallboardConfig,
    now: datetime,
) -> list[tuple[str, str]]:
    """Every entry whose latest due time has no send yet (or a failed attempt now due again):
    prepare, send, record. Returns (entry name, status) of what was attempted or held."""
    done = []
    for entry in config.reports:
        due = last_due(entry, now, zone_of(config, entry.by))
        if now - due > CATCH_UP:
            continue
        with connect() as conn:
            # claim: the row is made (or an unsent one taken) in its own committed transaction
            conn.execute(
                "INSERT INTO report_sends (name, due_at, status, attempts, next_attempt_at)"
                " VALUES (%s, %s, 'pending', 0, %s) ON CONFLICT (name, due_at) DO NOTHING",
                (entry.name, due, now),
            )
            row = conn.execute(
                "SELECT status, attempts, next_attempt_at FROM report_sends"
                " WHERE name = %s AND due_at = %s FOR UPDATE SKIP LOCKED",
                (entry.name, due),
            ).fetchone()
            if row is None or row[0] != "pending" or row[2] > now:
                continue
            attempts = row[1]
            prepared = prepare(conn, config, entry, due, now, wait=True)
            if prepared is None:
                done.append((entry.name, "waiting"))
                continue
            conn.execute(
                "UPDATE report_sends SET attempts = attempts + 1, next_attempt_at = %s"
                " WHERE name = %s AND due_at = %s",
                (now + timedelta(minutes=5), entry.name, due),
            )
        try:
            detail, ok = "; ".join(deliver(config, prepared)), True
        except (smtplib.SMTPException, OSError) as exc:
            detail, ok = f"{type(exc).__name__}: {exc}", False
        policy = config.alerting
        if ok:
            status, next_at = "sent", now
        elif attempts + 1 >= policy.max_attempts:
            status, next_at = "failed", now
        else:
            status, next_at = "pending", now + timedelta(seconds=backoff(attempts + 1, policy))
        with connect() as conn:
            conn.execute(
                "UPDATE report_sends SET status = %s, next_attempt_at = %s, detail = %s,"
                " gap_at = %s, sent_at = CASE WHEN %s THEN %s END"
                " WHERE name = %s AND due_at = %s",
                (status, next_at, detail[:500], prepared.gap, ok, now, entry.name, due),
            )
        done.append((entry.name, status))
    return done


def send_now(
    conn: psycopg.Connection[Any], config: CallboardConfig, name: str, now: datetime
) -> Prepared:
    """`callboard report run NAME`: the entry's report for its latest due time, sent now
    (without waiting for a late source: the gap is stated)."""
    entry = next((e for e in config.reports if e.name == name), None)
    if entry is None:
        known = ", ".join(e.name for e in config.reports) or "none"
        raise LookupError(f"no [[reports]] named {name!r} (configured: {known})")
    due = last_due(entry, now, zone_of(config, entry.by))
    prepared = prepare(conn, config, entry, due, now, wait=False)
    assert prepared is not None
    deliver(config, prepared)
    return prepared
