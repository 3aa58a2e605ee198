"""Every window of a live topic holds exactly what the metrics API computes for that window at
the same instant (one definition: docs/METRICS.md)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import psycopg

from app.config import CallboardConfig, current_config
from app.live.topics import TICKING
from app.metrics.service import compute
from tests.live.conftest import frames_until
from tests.live.test_hub import post


def _ev(call: str, queue: str, t: datetime, type_: str, **more: str) -> dict[str, Any]:
    suffix = type_.rpartition(".")[2]
    return {
        "id": f"{call}-{suffix}",
        "ts": t.isoformat(),
        "type": type_,
        "call_id": call,
        "queue": queue,
        **more,
    }


def _day(now: datetime) -> list[dict[str, Any]]:
    """Calls over the last 50 minutes: answered, abandoned, handled, with agents."""
    out: list[dict[str, Any]] = []
    for i in range(12):
        t = now - timedelta(minutes=50 - 4 * i)
        call, agent, queue = f"w{i}", ("a1", "a2", "a3")[i % 3], ("billing", "sales")[i % 2]
        out.append(_ev(call, queue, t, "call.queued"))
        if i % 4 == 3:
            out.append(_ev(call, queue, t + timedelta(seconds=40), "call.abandoned"))
        else:
            at = t + timedelta(seconds=10 + i)
            out.append(_ev(call, queue, at, "call.answered", agent=agent))
            out.append(_ev(call, queue, at + timedelta(seconds=90), "call.ended", agent=agent))
    return out


def test_each_window_equals_the_metrics_api_at_the_same_instant(
    live_client: Any, live_db: tuple[str, dict[str, str]]
) -> None:
    client, tokens = live_client
    url, _ = live_db
    post(client, tokens["ingest"], _day(datetime.now(UTC).replace(microsecond=0)))
    topics = "center,queue:billing"
    with client.websocket_connect(f"/api/v1/live?topics={topics}&token={tokens['admin']}") as ws:
        center = frames_until(ws, "center", "snapshot")["data"]
    meta = center["meta"]
    now = datetime.fromisoformat(meta["now"])
    assert set(center["windows"]) == {"today", "interval", "30m"}
    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as conn:
        stored = current_config(conn)
        assert stored is not None
        config: CallboardConfig = stored[1]
        for window, section in center["windows"].items():
            for level, got in (("queue", section["queues"]), ("team", section["teams"])):
                rows = compute(conn, config, by=level, now=now, window=window)["rows"]
                # through JSON, as the frame went, but what the screens tick themselves
                want = {r["key"]: _framed(r) for r in orjson.loads(orjson.dumps(rows))}
                assert got == want, (window, level)
            [c] = compute(conn, config, by="center", now=now, window=window)["rows"]
            assert section["center"] == _framed(orjson.loads(orjson.dumps(c)))
            assert (
                meta["windows"][window]["from"]
                == compute(conn, config, by="center", now=now, window=window)["from"]
            )
    assert center["windows"]["today"]["queues"]["billing"]["answered"] >= 4


def _framed(row: dict[str, Any]) -> dict[str, Any]:
    """A row as a frame carries it: without what grows every second (from its instant)."""
    return {k: v for k, v in row.items() if k not in TICKING}


def test_the_live_windows_are_configurable_and_checked() -> None:
    import pytest
    from pydantic import ValidationError

    config = CallboardConfig.model_validate({"live": {"windows": ["60m", "today", "15m"]}})
    assert config.live.windows == ("60m", "today", "15m")
    for bad in (["today", "90m"], [], ["today", "today"]):
        with pytest.raises(ValidationError):
            CallboardConfig.model_validate({"live": {"windows": bad}})
