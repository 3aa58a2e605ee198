"""Replay equals live: frames recorded from a running hub at moments T (its clock held at T)
equal GET /api/v1/screens/replay?at=T asked after later events were stored; bad moments are
422 with the reason; the access rules are live's."""

from __future__ import annotations

import csv
import io
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.clock import Clock
from app.live.topics import apply
from tests.live.conftest import snapshots

B = (datetime.now(UTC) - timedelta(hours=3)).replace(microsecond=0)


def at(s: float) -> datetime:
    return B + timedelta(seconds=s)


def ev(s: float, type_: str, **fields: Any) -> dict[str, Any]:
    name = fields.get("call_id") or fields.get("agent")
    return {"id": f"e{s}-{type_}-{name}", "type": type_, "ts": at(s).isoformat(), **fields}


# (moment recorded, the events up to it): each step leaves contacts waiting, talking and
# wrapping up that end in a later step, agents whose states change later, a survey and a
# repeat contact after the contact they judge, a queue first named later
STEPS: list[tuple[float, list[dict[str, Any]]]] = [
    (
        60,
        [
            ev(0, "agent.state", agent="a1", state="available", queues=["billing"]),
            ev(1, "agent.state", agent="a2", state="available", queues=["billing", "sales"]),
            ev(2, "agent.state", agent="a3", state="available", queues=["sales"]),
            ev(10, "call.queued", call_id="c1", queue="billing", customer="k1"),
            ev(12, "call.queued", call_id="c2", queue="billing", customer="k2"),
            ev(20, "call.answered", call_id="c1", queue="billing", agent="a1"),
            ev(40, "call.queued", call_id="c3", queue="sales", customer="k3"),
        ],
    ),
    (
        100,
        [
            ev(70, "call.abandoned", call_id="c2", queue="billing"),
            ev(80, "call.ended", call_id="c1", queue="billing", agent="a1", ended_by="customer"),
            ev(90, "call.answered", call_id="c3", queue="sales", agent="a3"),
        ],
    ),
    (
        210,
        [
            ev(120, "call.wrapped", call_id="c1", queue="billing", agent="a1"),
            ev(130, "survey.completed", call_id="c1", queue="billing", agent="a1", csat=5),
            ev(140, "call.queued", call_id="c4", queue="billing", customer="k1"),
            ev(150, "agent.state", agent="a2", state="away", reason="break"),
            ev(160, "call.ended", call_id="c3", queue="sales", agent="a3", ended_by="agent"),
            ev(170, "call.wrapped", call_id="c3", queue="sales", agent="a3"),
            ev(180, "call.queued", call_id="c5", queue="support", customer="k5"),
            ev(200, "call.overflowed", call_id="c4", queue="billing", reason="timeout"),
            ev(200, "call.queued", call_id="c4", queue="sales", customer="k1"),
        ],
    ),
    (
        260,
        [
            ev(230, "call.answered", call_id="c4", queue="sales", agent="a3"),
            ev(240, "call.abandoned", call_id="c5", queue="support"),
            ev(250, "agent.state", agent="a2", state="available", queues=["billing", "sales"]),
        ],
    ),
]
LAST = [
    ev(300, "call.ended", call_id="c4", queue="sales", agent="a3"),
    ev(330, "call.queued", call_id="c6", queue="billing", customer="k2"),
    ev(340, "agent.state", agent="a1", state="logged_out"),
]
TOPICS = {"center", "team:north", "team:south", "agent:a1", "agent:a3"}


def hold_clock(client: TestClient, moment: datetime) -> None:
    """The server's clock stands at `moment` (the hub's and the routes')."""
    clock = Clock(origin=moment, wall0=time.time(), speed=1e-12)
    client.app.state.clock = clock  # type: ignore[attr-defined]
    client.app.state.hub.clock = clock  # type: ignore[attr-defined]


def post(client: TestClient, token: str, events: list[dict[str, Any]]) -> None:
    r = client.post("/api/v1/events", json=events, headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200 and r.json()["rejected"] == 0, r.text


def settled(client: TestClient, ws: Any, state: dict[str, Any], seqs: dict[str, int]) -> None:
    """Read the socket until every topic is at what the hub last published, computed after
    what was posted (three computations later: the clock's, every tick here)."""
    hub = client.app.state.hub  # type: ignore[attr-defined]
    ticks = hub.ticks
    deadline = time.monotonic() + 20
    while hub.ticks < ticks + 3 and time.monotonic() < deadline:
        time.sleep(0.05)
    while time.monotonic() < deadline:
        if all(seqs.get(t) == hub.topics[t].seq for t in TOPICS if t in hub.topics):
            return
        frame = ws.receive_json()
        topic = frame["topic"]
        if topic not in TOPICS:
            continue
        if frame["kind"] == "snapshot":
            state[topic] = frame["data"]
        else:
            assert frame["base"] == seqs[topic]
            state[topic] = apply(state[topic], frame["data"])
        seqs[topic] = frame["seq"]
    raise AssertionError("the socket did not catch up with the hub")


def without_timing(payload: dict[str, Any]) -> dict[str, Any]:
    """A payload minus what differs by nature: which version published it, and when."""
    meta = {k: v for k, v in payload["meta"].items() if k not in ("version", "computed_at")}
    return {**payload, "meta": meta}


def replayed(client: TestClient, token: str, moment: datetime, **q: str) -> dict[str, Any]:
    r = client.get(
        "/api/v1/screens/replay",
        params={"at": moment.isoformat().replace("+00:00", "Z"), **q},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def test_a_frame_recorded_live_equals_the_replay_of_its_moment(live_client: Any) -> None:
    client, tokens = live_client
    client.app.state.hub.clock_s = 0  # every computation is the clock's: a whole frame at now
    recorded: dict[float, dict[str, dict[str, Any]]] = {}
    hold_clock(client, at(0))
    topics = ",".join(sorted(TOPICS))
    with client.websocket_connect(f"/api/v1/live?topics={topics}&token={tokens['admin']}") as ws:
        first = snapshots(ws, set(TOPICS))
        state = {t: f["data"] for t, f in first.items()}
        seqs = {t: f["seq"] for t, f in first.items()}
        for moment, events in STEPS:
            hold_clock(client, at(moment))
            post(client, tokens["ingest"], events)
            settled(client, ws, state, seqs)
            assert all(
                p["meta"]["now"].startswith(at(moment).isoformat()[:19]) for p in state.values()
            )
            recorded[moment] = {t: without_timing(p) for t, p in state.items()}
    hold_clock(client, at(400))
    post(client, tokens["ingest"], LAST)  # later events, stored before any replay is asked
    for moment, frames in recorded.items():
        wall = replayed(client, tokens["admin"], at(moment), screen="wall")
        sup = replayed(client, tokens["admin"], at(moment), screen="sup")
        a1 = replayed(client, tokens["admin"], at(moment), screen="agent", agent="a1")
        a3 = replayed(client, tokens["admin"], at(moment), screen="agent", agent="a3")
        assert set(sup["topics"]) == {"center", "team:north", "team:south"}
        got = {**wall["topics"], **sup["topics"], **a1["topics"], **a3["topics"]}
        for topic, live in frames.items():
            assert without_timing(got[topic]) == live, (moment, topic)
    # the frames are not all alike: the scenario moved between the moments
    billing = [f["center"]["windows"]["today"]["queues"]["billing"] for f in recorded.values()]
    assert [b["waiting_now"] for b in billing] == [1, 0, 0, 0]
    assert [f["agent:a1"]["windows"]["today"]["agent"]["state"] for f in recorded.values()] == [
        "on_call",
        "wrap_up",
        "available",
        "available",
    ]


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("yesterday", "not an RFC 3339 time"),
        ("2026-12-01", "not an RFC 3339 time"),
        ("2026-12-01T10:00:00", "not an RFC 3339 time"),  # no offset
        ("2026-13-01T10:00:00Z", "not a valid time"),
        ("2999-01-01T00:00:00Z", "in the future"),
        ("2001-01-01T00:00:00+02:00", "before any stored data"),
    ],
)
def test_a_bad_moment_is_422_with_the_reason(live_client: Any, value: str, reason: str) -> None:
    client, tokens = live_client
    post(client, tokens["ingest"], STEPS[0][1])
    for path, q in (
        ("/api/v1/screens/replay", {"screen": "wall"}),
        ("/api/v1/screens/sup/drill", {}),
        ("/api/v1/screens/wall/trends", {}),
        ("/api/v1/screens/agent/a1/plan", {}),
    ):
        r = client.get(
            path, params={**q, "at": value}, headers={"Authorization": f"Bearer {tokens['admin']}"}
        )
        assert r.status_code == 422 and reason in r.json()["detail"], (path, r.text)


def test_the_reads_follow_the_moment_and_the_tables_are_whole_again_after(
    live_client: Any,
) -> None:
    client, tokens = live_client
    post(client, tokens["ingest"], STEPS[0][1] + STEPS[1][1])
    auth = {"Authorization": f"Bearer {tokens['admin']}"}
    then = at(30).isoformat()  # c1 on a call, c2 and c3 waiting
    drill = client.get("/api/v1/screens/sup/drill", params={"at": then}, headers=auth).json()
    outcomes = {r["call_id"]: r["outcome"] for r in drill["contacts"]["rows"]}
    assert outcomes == {"c1": "answered", "c2": None}, outcomes  # (c3 queued at 40 s)
    events = client.get("/api/v1/screens/sup/contacts/c1", params={"at": then}, headers=auth)
    assert [e["type"] for e in events.json()["events"]] == ["call.queued", "call.answered"]
    text = client.get(
        "/api/v1/screens/sup/export/queues.csv", params={"at": then}, headers=auth
    ).text
    billing_then = next(r for r in csv.DictReader(io.StringIO(text)) if r["key"] == "billing")
    assert (billing_then["abandoned"], billing_then["waiting_now"]) == ("0", "1")  # c2 waits
    for _ in range(3):  # whatever pooled connection serves it: the stored rows, whole
        # from the stream's start (three hours ago may be yesterday: not 'today')
        until = (datetime.now(UTC) + timedelta(seconds=1)).isoformat()
        since = {"by": "queue", "from": at(0).isoformat(), "to": until}
        rows = client.get("/api/v1/metrics", params=since, headers=auth).json()["rows"]
        billing = next(r for r in rows if r["key"] == "billing")
        assert billing["abandoned"] == 1 and billing["waiting_now"] == 0, billing


def test_replay_keeps_the_access_rules_of_live(live_client: Any) -> None:
    client, tokens = live_client
    post(client, tokens["ingest"], STEPS[0][1])
    moment = at(30).isoformat()

    def status(token: str, **q: str) -> int:
        r = client.get(
            "/api/v1/screens/replay",
            params={"at": moment, **q},
            headers={"Authorization": f"Bearer {token}"},
        )
        return r.status_code

    assert status(tokens["a1"], screen="agent", agent="a1") == 200
    assert status(tokens["a1"], screen="agent", agent="a2") == 403
    assert status(tokens["a1"], screen="sup") == 403
    assert status(tokens["a1"], screen="wall") == 403
    assert status(tokens["wallboard"], screen="wall") == 200
    assert status(tokens["wallboard"], screen="wall", board="default") == 200
    assert status(tokens["wallboard"], screen="wall", board="nowhere") == 404
    # a "+00:00" typed into the address (a + in a query is a space) is still the offset
    typed = client.get(
        f"/api/v1/screens/replay?screen=wall&at={at(30).isoformat()}",
        headers={"Authorization": f"Bearer {tokens['wallboard']}"},
    )
    assert typed.status_code == 200 and typed.json()["at"] == moment.replace("+00:00", "Z")
    assert status(tokens["wallboard"], screen="sup") == 403
    assert status(tokens["north"], screen="agent", agent="a2") == 200
    assert status(tokens["north"], screen="agent", agent="a3") == 403
    assert (
        client.get("/api/v1/screens/replay", params={"at": moment, "screen": "wall"}).status_code
        == 401
    )
    # a supervisor's sup replay holds their teams only, as their socket does
    r = client.get(
        "/api/v1/screens/replay",
        params={"at": moment, "screen": "sup"},
        headers={"Authorization": f"Bearer {tokens['north']}"},
    )
    assert set(r.json()["topics"]) == {"center", "team:north"}
    teams = r.json()["topics"]["center"]["windows"]["today"]["teams"]
    assert set(teams) <= {"north"}
