"""Alerts stored in PostgreSQL, evaluated on real metric rows."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg

from app.alerts.service import acknowledge, alerts_payload, evaluate_tick, listing
from app.auth.service import Principal
from app.config import store_config
from ingest.writer import ingest
from tests.alerts.conftest import abandoned, backlog, config, queued
from tests.conftest import libpq

TOPIC_KEYS = {
    "id",
    "name",
    "severity",
    "scope",
    "metric",
    "window",
    "value",
    "threshold",
    "condition",
    "raised_at",
    "escalated_at",
    "acknowledged_by",
    "acknowledged_at",
    "code",
    "params",
}


def outbox(pg: psycopg.Connection[Any]) -> list[tuple[str, str, str]]:
    return [
        tuple(r)
        for r in pg.execute(
            "SELECT event, step, target FROM alert_notifications ORDER BY id"
        ).fetchall()
    ]


def test_a_breach_on_real_metrics_raises_holds_and_clears(pg: psycopg.Connection[Any]) -> None:
    cfg = config(
        alerts=[backlog(above=2, notify=["webhook:ops"])],
        webhooks={"ops": {"url": "http://127.0.0.1:9/hook"}},
    )
    store_config(pg, cfg, origin="test")
    ingest(pg, queued(2, "x"))
    now = datetime.now(UTC)
    assert evaluate_tick(pg, cfg, None, now) == []  # 2 waiting is not above 2
    ingest(pg, queued(3, "y"))
    [t] = evaluate_tick(pg, cfg, None, now + timedelta(seconds=1))
    assert (t.kind, t.value, t.notify) == ("raised", 5, "raised")
    # the next ticks hold it: nothing changed, nothing written, nothing told again
    assert evaluate_tick(pg, cfg, None, now + timedelta(seconds=2)) == []
    assert evaluate_tick(pg, cfg, None, now + timedelta(seconds=3)) == []
    payload = alerts_payload(pg, cfg, now)
    [alert] = payload["active"]
    assert set(alert) == TOPIC_KEYS
    assert alert["name"] == "billing backlog" and alert["value"] == 5
    assert alert["code"] == "above" and alert["params"]["threshold"] == 2
    assert payload["meta"]["computed_at"]
    ingest(pg, abandoned(5, "y"))
    [t] = evaluate_tick(pg, cfg, None, now + timedelta(seconds=4))
    assert t.kind == "cleared"
    assert alerts_payload(pg, cfg, now)["active"] == []
    assert [a["cleared_at"] is not None for a in listing(pg, cleared=True)] == [True]
    assert outbox(pg) == [
        ("raised", "0/warning", "webhook:ops"),
        ("cleared", "cleared", "webhook:ops"),
    ]


def test_rows_from_the_tick_are_used_and_missing_windows_computed(
    pg: psycopg.Connection[Any],
) -> None:
    rule = backlog(above=2, metric="abandoned", window="30m")
    cfg = config(alerts=[rule, {**backlog(above=3), "name": "from the hub"}])
    store_config(pg, cfg, origin="test")
    ingest(pg, queued(3, "z"))
    ingest(pg, abandoned(3, "z"))
    hub_rows = {"queue": {"billing": {"key": "billing", "waiting_now": 9}}}  # window today
    done = {t.rule: t.value for t in evaluate_tick(pg, cfg, hub_rows, datetime.now(UTC))}
    assert done == {"billing backlog": 3, "from the hub": 9}


def test_one_notification_per_step(pg: psycopg.Connection[Any]) -> None:
    cfg = config(
        alerts=[backlog(above=2, step=2, notify=["webhook:ops", "webhook:chat"])],
        webhooks={"ops": {"url": "http://127.0.0.1:9/a"}, "chat": {"url": "http://127.0.0.1:9/b"}},
    )
    now = datetime.now(UTC)
    for i, waiting in enumerate([3, 3, 4, 5, 4, 3, 6, 6, 7]):
        rows = {"queue": {"billing": {"key": "billing", "waiting_now": waiting}}}
        evaluate_tick(pg, cfg, rows, now + timedelta(seconds=i))
    steps = [s for _, s, target in outbox(pg) if target == "webhook:ops"]
    assert steps == ["0/warning", "1/warning", "2/warning"]
    assert len(outbox(pg)) == 6  # and the same for the second target


def test_acknowledge_records_who_and_when_once(pg: psycopg.Connection[Any]) -> None:
    cfg = config(alerts=[backlog()])
    now = datetime.now(UTC).replace(microsecond=0)
    evaluate_tick(pg, cfg, {"queue": {"billing": {"key": "billing", "waiting_now": 5}}}, now)
    [alert] = alerts_payload(pg, cfg, now)["active"]
    done = acknowledge(pg, alert["id"], by="maria", now=now + timedelta(seconds=5))
    assert done["acknowledged_by"] == "maria"
    assert done["acknowledged_at"] == (now + timedelta(seconds=5)).isoformat().replace(
        "+00:00", "Z"
    )
    again = acknowledge(pg, alert["id"], by="olga", now=now + timedelta(seconds=9))
    assert again["acknowledged_by"] == "maria"


def test_agent_scope_alerts_from_state_and_schedule(pg: psycopg.Connection[Any]) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    cfg = config(
        alerts=[
            {
                "name": "long wrap-up",
                "scope": "team:north",
                "each_agent": True,
                "metric": "wrap_up_s",
                "above": 180,
                "severity": "info",
            },
            {
                "name": "break ending",
                "scope": "center",
                "each_agent": True,
                "metric": "break_ends_in_s",
                "below": 120,
                "severity": "info",
            },
        ],
        schedules=[
            {
                "agent": "a2",
                "start": (now - timedelta(minutes=13)).isoformat(),
                "end": (now + timedelta(seconds=100)).isoformat(),
                "activity": "break",
            },
        ],
    )
    store_config(pg, cfg, origin="test")
    ingest(
        pg,
        [
            {
                "id": "s1",
                "ts": (now - timedelta(minutes=4)).isoformat(),
                "type": "agent.state",
                "agent": "a1",
                "state": "wrap_up",
            },
            {
                "id": "s2",
                "ts": (now - timedelta(minutes=13)).isoformat(),
                "type": "agent.state",
                "agent": "a2",
                "state": "away",
                "reason": "break",
            },
            {
                "id": "s3",
                "ts": (now - timedelta(minutes=5)).isoformat(),
                "type": "agent.state",
                "agent": "a3",
                "state": "wrap_up",
            },  # south: not in the rule's scope
        ],
    )
    evaluate_tick(pg, cfg, None, now)
    by_scope = {a["scope"]: a for a in alerts_payload(pg, cfg, now)["active"]}
    assert set(by_scope) == {"agent:a1", "agent:a2"}
    assert by_scope["agent:a1"]["code"] == "wrap_up_running"
    assert by_scope["agent:a1"]["params"]["minutes"] == 4
    assert by_scope["agent:a2"]["code"] == "break_ending"
    assert by_scope["agent:a2"]["params"]["minutes"] == 2
    assert by_scope["agent:a2"]["params"]["activity"] == "break"
    # the agent's own widget: their scope only
    own = alerts_payload(pg, cfg, now, Principal("agent", "a1", own_team="north"))
    assert [a["scope"] for a in own["active"]] == ["agent:a1"]
    team = alerts_payload(pg, cfg, now, scope="team:north")
    assert {a["scope"] for a in team["active"]} == {"agent:a1", "agent:a2"}
    # a1 wraps up: the alert clears; a2's break is over: cleared too
    ingest(
        pg,
        [
            {
                "id": "s4",
                "ts": now.isoformat(),
                "type": "agent.state",
                "agent": "a1",
                "state": "available",
            }
        ],
    )
    later = now + timedelta(seconds=101)
    kinds = {t.scope: t.kind for t in evaluate_tick(pg, cfg, None, later)}
    assert kinds == {"agent:a1": "cleared", "agent:a2": "cleared"}


def test_two_evaluators_on_two_connections_raise_once(live_db: tuple[str, dict[str, str]]) -> None:
    url, _ = live_db
    cfg = config(
        alerts=[backlog(notify=["webhook:ops"])],
        webhooks={"ops": {"url": "http://127.0.0.1:9/hook"}},
    )
    rows = {"queue": {"billing": {"key": "billing", "waiting_now": 7}}}
    for round_ in range(5):
        now = datetime.now(UTC) + timedelta(minutes=round_)
        barrier = threading.Barrier(2)
        results: list[int] = []

        def evaluator(at: datetime, barrier: threading.Barrier, results: list[int]) -> None:
            with psycopg.connect(libpq(url)) as conn:
                barrier.wait()
                results.append(len(evaluate_tick(conn, cfg, rows, at)))
                conn.commit()

        threads = [
            threading.Thread(target=evaluator, args=(now, barrier, results)) for _ in range(2)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        with psycopg.connect(libpq(url)) as conn:
            assert conn.execute("SELECT count(*) FROM alerts").fetchone() == (1,)
            assert conn.execute("SELECT count(*) FROM alert_notifications").fetchone() == (1,)
        assert sorted(results)[-1] <= 1


def test_an_evaluator_without_the_lock_still_cannot_raise_twice(
    live_db: tuple[str, dict[str, str]],
) -> None:
    """The guard under the lock: a second evaluator that read the open alerts before the
    first committed (stale states) finds the open-alert index taken and writes nothing."""
    url, _ = live_db
    cfg = config(
        alerts=[backlog(notify=["webhook:ops"])],
        webhooks={"ops": {"url": "http://127.0.0.1:9/hook"}},
    )
    rows = {"queue": {"billing": {"key": "billing", "waiting_now": 7}}}
    now = datetime.now(UTC)
    with psycopg.connect(libpq(url)) as a, psycopg.connect(libpq(url)) as b:
        assert len(evaluate_tick(a, cfg, rows, now)) == 1
        a.commit()  # releases the lock; b evaluates as if it had read before a's commit
        from app.alerts import service

        transitions = service.evaluate(
            cfg.alerts, service.readings(cfg.alerts, {"today": rows}, now), now, {}
        )
        assert service._apply(b, cfg, transitions, {}, now) == []
        b.commit()
        assert a.execute("SELECT count(*) FROM alerts").fetchone() == (1,)


def test_rows_of_every_window_from_the_hub(pg: psycopg.Connection[Any]) -> None:
    """The hub hands over window -> level -> key -> row; a rule on its 30-minute window reads
    those rows rather than computing them again."""
    cfg = config(alerts=[backlog(above=2, metric="abandoned", window="30m")])
    hub_rows = {
        "today": {"queue": {"billing": {"key": "billing", "abandoned": 1}}},
        "30m": {"queue": {"billing": {"key": "billing", "abandoned": 8}}},
    }
    [t] = evaluate_tick(pg, cfg, hub_rows, datetime.now(UTC))
    assert (t.kind, t.value) == ("raised", 8)
