"""The AMI adapter on a real Asterisk 22 run recorded both ways (`../shared/data/asterisk22-ami`:
every AMI event, and the queue_log of the same calls; never copied into the project). Skipped
where the data is not beside the clone; the same patterns are in the written fixtures of
`test_ami.py`, which always run."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import psycopg
import pytest

from ingest.sources.ami import AmiFile
from ingest.sources.commit import Committer
from ingest.sources.queue_log_import import import_queue_log
from tests.sources import real_asterisk as real


def _data() -> Path | None:
    for up in Path(__file__).resolve().parents:
        candidate = up.parent / "shared" / "data" / "asterisk22-ami"
        if candidate.is_dir():
            return candidate
    return None


DATA = _data()
pytestmark = pytest.mark.skipif(DATA is None, reason="no ../shared/data/asterisk22-ami here")
STATIC = {a: [q for q, m in real.STATIC.items() if a in m] for a in real.STATIC["billing"]}


def _contacts(pg: psycopg.Connection[Any]) -> tuple[Any, ...]:
    row = pg.execute(
        "SELECT count(DISTINCT call_id), count(*), count(*) FILTER (WHERE outcome = 'answered'),"
        " count(*) FILTER (WHERE outcome = 'abandoned'),"
        " count(*) FILTER (WHERE outcome = 'overflowed'), sum(talk_s), sum(wait_s), sum(missed)"
        " FROM contact_segments"
    ).fetchone()
    assert row is not None
    return tuple(row)


def test_queue_log_after_ami_adds_only_what_ami_missed(pg: psycopg.Connection[Any]) -> None:
    assert DATA is not None
    ami = Committer(pg, "pbx").run(AmiFile(DATA / "ami_events.txt", "pbx", static=STATIC).items())
    assert ami.rejected == 0
    assert ami.by_type["call.queued"] == 213 and ami.by_type["call.answered"] == 143
    after_ami = _contacts(pg)
    ql = import_queue_log(pg, DATA / "queue_log", source="pbx", static=STATIC)
    # Only agent states are new: membership lines (queue_log names who added the member, AMI
    # does not) and the PAUSEALL / UNPAUSEALL summaries; every call event was already stored.
    new = pg.execute(
        "SELECT type, count(*) FROM events WHERE raw LIKE '%%|%%' AND seq > ("
        "  SELECT max(seq) FROM events WHERE raw NOT LIKE '%%|%%') GROUP BY type"
    ).fetchall()
    assert {t for t, _ in new} <= {"agent.state"}, new
    assert ql.duplicates >= 760
    # 204 contacts, 213 queue visits: the same as AMI alone, nothing doubled
    assert _contacts(pg) == after_ami
    assert after_ami[:5] == (204, 213, 143, 61, 9)


def test_agent_timelines_match_the_driver_record(pg: psycopg.Connection[Any]) -> None:
    assert DATA is not None
    # this run's driver paused carol for lunch with an AMI action (`kind: ami`): the record's
    # reader knows it, and would refuse a kind it does not know
    Committer(pg, "pbx").run(AmiFile(DATA / "ami_events.txt", "pbx", static=STATIC).items())
    rows = pg.execute(
        "SELECT agent, started_at, state, reason, queues FROM agent_states ORDER BY agent, 2"
    ).fetchall()
    start, end, expected = real.truth(DATA / "driver_truth.jsonl")
    assert any(st[1:3] == ("away", "lunch") for st in expected["carol"])  # the AMI pause
    check = real.compare(start, end, expected, real.intervals_by_agent(rows))
    print(real.report(check))
    assert set(check.seconds) == set(real.NAMES.values())
    assert sum(check.seconds.values()) > 8 * 600
    assert sum(check.wrong.values()) == 0, real.report(check)
