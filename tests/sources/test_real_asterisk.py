"""The real Asterisk 22 run's agent timelines against its load generator's record.

Runs only where the run's data lies beside the clone (`../shared/data/asterisk22-real`, never
copied into the project); skipped elsewhere. The patterns it holds are also written as small
fixtures in `test_agent_states.py`, which always run."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import psycopg
import pytest

from ingest.sources.normalize import Normalizer
from ingest.sources.queue_log_import import import_queue_log
from tests.sources import real_asterisk as real

DATA = real.data_dir()

pytestmark = pytest.mark.skipif(DATA is None, reason="no ../shared/data/asterisk22-real here")


def ours(pg: psycopg.Connection[Any], path: Path) -> dict[str, Any]:
    static = {a: [q for q, m in real.STATIC.items() if a in m] for a in real.STATIC["billing"]}
    import_queue_log(pg, path, source="pbx", static=static, normalizer=Normalizer())
    rows = pg.execute(
        "SELECT agent, started_at, state, reason, queues FROM agent_states"
        " ORDER BY agent, started_at"
    ).fetchall()
    return real.intervals_by_agent(rows)


def test_every_agents_timeline_matches_the_driver_record(pg: psycopg.Connection[Any]) -> None:
    assert DATA is not None
    start, end, expected = real.truth(DATA / "driver_truth.jsonl")
    unknown = real.unrecorded_calls(DATA / "queue_log", DATA / "driver_truth.jsonl")
    check = real.compare(start, end, expected, ours(pg, DATA / "queue_log"), unknown=unknown)
    print(real.report(check))  # figures in the README: pytest -s
    assert set(check.seconds) == set(real.NAMES.values())
    assert sum(check.seconds.values()) > 8 * 2000
    assert sum(check.wrong.values()) == 0, real.report(check)
