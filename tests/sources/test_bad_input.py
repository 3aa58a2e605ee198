"""No line, row or restart breaks a source (issue 10: items 4, 6, 7, 8, 13): each bad input is
rejected with its position and reason, kept in source_lines, and everything else is stored."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import orjson
import psycopg
import pytest

from ingest.sources.cdr import MappingError, import_cdr, load_mapping
from ingest.sources.follow import Follower
from ingest.sources.queue_log_import import import_queue_log
from tests.conftest import libpq
from tests.sources.conftest import cli as _cli
from tests.sources.test_follow import call, wait_for

T = 1763625600


@contextmanager
def following(pg: psycopg.Connection[Any], path: Path, source: str = "pbx") -> Iterator[Follower]:
    stop = threading.Event()
    follower = Follower(pg, path, source=source)
    thread = threading.Thread(target=follower.run, args=(stop, 0.05))
    thread.start()
    try:
        yield follower
    finally:
        stop.set()
        thread.join(timeout=10)
        assert not thread.is_alive()


def kept(pg: psycopg.Connection[Any], kind: str) -> list[tuple[str, str]]:
    rows = pg.execute(
        "SELECT raw, reason FROM source_lines WHERE kind = %s ORDER BY raw", (kind,)
    ).fetchall()
    return [(r[0], r[1]) for r in rows]


BAD_EPOCHS = [
    "²|b1.1|sales|NONE|ENTERQUEUE||5550001|1",  # isdigit() but not int()
    "1000000000000|b2.1|sales|NONE|ENTERQUEUE||5550002|1",  # 1e12: year 33658
    "10000000000000000000000|b3.1|sales|NONE|ENTERQUEUE||5550003|1",  # 1e22: overflows
    "99999999999|b4.1|sales|NONE|ENTERQUEUE||5550004|1",  # after 2200
]


def test_one_bad_line_never_stops_the_follower(pg: psycopg.Connection[Any], tmp_path: Path) -> None:
    path = tmp_path / "queue_log"
    path.write_text(call(0))
    with following(pg, path) as follower:
        wait_for(lambda: follower.summary.inserted >= 4)
        with path.open("a") as f:
            f.write("\n".join(BAD_EPOCHS) + "\n")
            f.write(f"{T}|long.1|sales|NONE|ENTERQUEUE||" + "x" * (1 << 20) + "y" * 5000 + "\n")
            f.write(call(1))
        wait_for(lambda: follower.summary.inserted >= 8)
        assert follower.summary.rejected == 5
    reasons = [r.reason for r in follower.summary.rejects]
    assert sum("not epoch seconds between 1970 and 2200" in r for r in reasons) == 4
    assert any("longer than 1048576 bytes" in r for r in reasons)
    assert follower.summary.rejects[-1].position == "line 8"  # 3 lines of call(0), 4 bad
    assert len(kept(pg, "rejected")) == 5


def test_the_file_import_rejects_the_same_lines_and_stores_the_rest(
    pg: psycopg.Connection[Any], tmp_path: Path
) -> None:
    path = tmp_path / "q.log"
    path.write_text(call(0) + "\n".join(BAD_EPOCHS) + "\n" + call(1))
    summary = import_queue_log(pg, path, source="pbx")
    assert (summary.inserted, summary.rejected) == (8, 4)
    assert [r.position for r in summary.rejects] == ["line 4", "line 5", "line 6", "line 7"]


def test_a_restarted_follower_remembers_who_is_paused(
    pg: psycopg.Connection[Any], tmp_path: Path
) -> None:
    path = tmp_path / "queue_log"
    path.write_text(
        f"{T}|CLI|sales|SIP/201|ADDMEMBER|\n"
        f"{T + 10}|p1.1|sales|NONE|ENTERQUEUE||5550001|1\n"
        f"{T + 12}|p1.1|sales|SIP/201|CONNECT|2|p1.2|1\n"
        f"{T + 20}|NONE|sales|SIP/201|PAUSE|Break\n"
    )
    with following(pg, path) as first:
        wait_for(lambda: first.summary.events >= 4)
    with path.open("a") as f:  # written while the follower was down
        f.write(f"{T + 70}|p1.1|sales|SIP/201|COMPLETECALLER|2|58|1\n")
    with following(pg, path) as second:
        wait_for(lambda: second.summary.events >= 2)
    assert second.summary.by_type == {"call.ended": 1, "agent.state": 1}
    last = pg.execute(
        "SELECT state, reason FROM agent_states WHERE agent = 'SIP/201' AND ended_at IS NULL"
    ).fetchone()
    assert last == ("away", "break")  # not a false `available` after the restart


def test_lines_split_on_newline_only_in_follow_and_import_alike(
    pg: psycopg.Connection[Any], tmp_path: Path
) -> None:
    path = tmp_path / "queue_log"
    odd = "Customer\u2028one\x1ctwo\x85three"
    path.write_text(
        f"{T}|u1.1|sales|NONE|ENTERQUEUE||5550001|1|{odd}\n"
        f"{T + 5}|u1.1|sales|SIP/201|CONNECT|5|u1.2|1\n"
        f"{T + 65}|u1.1|sales|SIP/201|COMPLETECALLER|5|60|1\n",
        encoding="utf-8",
    )
    with following(pg, path) as follower:
        wait_for(lambda: follower.summary.events >= 4)
    assert follower.summary.rejected == 0
    again = import_queue_log(pg, path, source="pbx")
    assert (again.inserted, again.duplicates, again.rejected) == (0, 4, 0)  # nothing twice


def test_two_pbxes_with_colliding_uniqueids_stay_two_contacts(
    pg: psycopg.Connection[Any], tmp_path: Path
) -> None:
    path = tmp_path / "q.log"
    path.write_text(call(0))
    import_queue_log(pg, path, source="pbx-a")
    import_queue_log(pg, path, source="pbx-b")
    rows = pg.execute("SELECT call_id FROM contact_segments ORDER BY call_id").fetchall()
    assert rows == [("pbx-a:f0.1",), ("pbx-b:f0.1",)]


REALTIME = """\
id,time,callid,queuename,agent,event,data1,data2,data3,data4,data5
1,2025-11-20 09:00:05,r1,Support,NONE,ENTERQUEUE,,200,1,,
2,2025-11-20 09:00:06,r2,Support,NONE,ENTERQUEUE,,201,1,,,extra
3,2025-11-20 09:00:07,r3,Support,NONE,ENTERQUEUE,,202
4,2025-11-20 09:00:08,r4,Support,NONE,ENTERQUEUE,,203,1,,
5,99999-11-20 09:00:08,r5,Support,NONE,ENTERQUEUE,,203,1,,
"""


def test_realtime_rows_with_extra_or_missing_columns_are_rejected_by_row(
    pg: psycopg.Connection[Any], tmp_path: Path
) -> None:
    path = tmp_path / "export.csv"
    path.write_text(REALTIME)
    summary = import_queue_log(pg, path, source="rt")
    assert summary.inserted == 2
    assert [(r.position, r.reason) for r in summary.rejects] == [
        ("line 3", "row 3: 12 columns where the header has 11"),
        ("line 4", "row 4: 8 columns where the header has 11"),
        ("line 6", "row 6: Invalid isoformat string: '99999-11-20 09:00:08'"),
    ]


BANK_HEADER = (
    "vru+line\tcall_id\tcustomer_id\tpriority\ttype\tdate\tvru_entry\tvru_exit\tvru_time"
    "\tq_start\tq_exit\tq_time\toutcome\tser_start\tser_exit\tser_time\tserver"
)


def bank_row(n: int, **change: str) -> str:
    row = {
        "vru+line": f"AA{n:04d}",
        "call_id": str(100 + n),
        "customer_id": "555",
        "priority": "2",
        "type": "PS",
        "date": "990201",
        "vru_entry": "9:00:00",
        "vru_exit": "9:00:10",
        "vru_time": "10",
        "q_start": "9:00:10",
        "q_exit": "9:01:10",
        "q_time": "60",
        "outcome": "AGENT",
        "ser_start": "9:01:10",
        "ser_exit": "9:03:10",
        "ser_time": "120",
        "server": "DORIT",
    }
    row.update(change)
    return "\t".join(row.values())


def test_bad_cdr_rows_are_rejected_with_their_reason_and_the_rest_stored(
    pg: psycopg.Connection[Any], tmp_path: Path
) -> None:
    path = tmp_path / "bank.txt"
    rows = [
        BANK_HEADER,
        bank_row(1),
        bank_row(2, priority="inf"),
        "AA0003\t103\t555",  # short
        bank_row(4, q_start="99999999999:00:00"),
        bank_row(5, q_time="nan"),
        bank_row(6, ser_time="-5"),
        bank_row(7, server="D\udcffRIT"),  # not UTF-8 (written as the raw byte below)
        bank_row(8),
    ]
    text = "\r\n".join(rows) + "\r\n"
    path.write_bytes(text.encode("utf-8", "surrogateescape"))
    _, mapping = load_mapping("anonymous-bank")
    summary = import_cdr(pg, path, mapping, source="bank")
    assert summary.counts["contacts"] == 2
    assert summary.inserted == 2 * 4  # queued, answered, ended, available
    assert [(r.position, r.reason) for r in summary.rejects] == [
        ("row 3", "priority: 'inf' is not a finite number"),
        ("row 4", "3 columns where the header has 17"),
        ("row 5", "q_start: '99999999999:00:00' is not a time"),
        ("row 6", "q_time: 'nan' is not a finite number"),
        ("row 7", "ser_time: '-5' is negative"),
        ("row 8", "not valid utf-8 text"),
    ]
    assert len(kept(pg, "rejected")) == 6


def test_a_mapping_that_cannot_work_is_refused_before_anything_is_stored(
    tmp_path: Path,
) -> None:
    shipped = (
        Path(__file__).parents[2] / "ingest/sources/mappings/anonymous-bank.toml"
    ).read_text()
    two = tmp_path / "two.toml"
    two.write_text(shipped.replace('delimiter = "\\t"', 'delimiter = "||"'))
    one_char = r"format.delimiter: must be one character \(got '\|\|'\)"
    with pytest.raises(MappingError, match=one_char):
        load_mapping(str(two))
    zone = tmp_path / "zone.toml"
    zone.write_text(shipped.replace("Asia/Jerusalem", "Mars/Olympus"))
    with pytest.raises(MappingError, match="unknown time zone 'Mars/Olympus'"):
        load_mapping(str(zone))


def test_mapping_errors_are_one_line_and_exit_2(migrated: str, tmp_path: Path) -> None:
    shipped = (
        Path(__file__).parents[2] / "ingest/sources/mappings/anonymous-bank.toml"
    ).read_text()
    wrong = tmp_path / "wrong.toml"
    wrong.write_text(shipped.replace('outcome = "outcome"', 'outcome = "result"'))
    data = tmp_path / "bank.txt"
    data.write_text(BANK_HEADER + "\n" + bank_row(1) + "\n")
    for mapping in (str(wrong), "no-such-mapping"):
        done = _cli(migrated, tmp_path, "import", "cdr", str(data), "--mapping", mapping)
        assert done.returncode == 2, done.stderr
        assert done.stdout == b""
        assert len(done.stderr.decode().strip().splitlines()) == 1
    assert (
        b"'result' are not in the file's header"
        in _cli(migrated, tmp_path, "import", "cdr", str(data), "--mapping", str(wrong)).stderr
    )
    with psycopg.connect(libpq(migrated)) as conn:
        assert conn.execute("SELECT count(*) FROM events").fetchone() == (0,)


def test_sigterm_stops_the_follower_with_its_summary_and_lines_kept(
    migrated: str, tmp_path: Path
) -> None:
    path = tmp_path / "queue_log"
    path.write_text(f"{T}|NONE|NONE|NONE|QUEUESTART|\n" + call(0) + "garbage\n")
    env = {**os.environ, "DATABASE_URL": migrated, "CALLBOARD_DATA_DIR": str(tmp_path)}
    env.pop("CALLBOARD_CONFIG", None)
    proc = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from app.cli import main; main()",
            "import",
            "queue-log",
            str(path),
            "--source",
            "pbx",
            "--follow",
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        with psycopg.connect(libpq(migrated), autocommit=True) as conn:
            wait_for(lambda: conn.execute("SELECT count(*) FROM events").fetchone() == (4,), 60)
            proc.send_signal(signal.SIGTERM)
            out, _ = proc.communicate(timeout=30)
            lines = conn.execute("SELECT kind, reason FROM source_lines ORDER BY kind").fetchall()
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0
    summary = orjson.loads(out)
    assert (summary["inserted"], summary["rejected"]) == (4, 1)
    assert summary["skipped"]["QUEUESTART"]["count"] == 1
    assert summary["errors"] == [
        {
            "position": "line 5",
            "reason": "line 5: not a queue_log line (epoch|callid|queue|agent|event|...)",
        }
    ]
    assert [k for k, _ in lines] == ["QUEUESTART", "rejected"]
