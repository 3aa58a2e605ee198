"""The benches refuse to print a figure they could not measure: each is run here against a
deliberately broken setup and must exit 3 with its reason, and the performance page is made
from their records only."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from bench import all as bench_all  # noqa: E402
from bench.common import Load, free_port  # noqa: E402
from bench.harness import CANNOT_MEASURE, Run  # noqa: E402
from bench.ingest_http import CLIENTS, _post_all  # noqa: E402


def run_bench(
    name: str,
    *args: str,
    out: Path,
    timeout: float = 240,
    max_files: int | None = None,
    record_as: str | None = None,
) -> tuple[int, str, dict]:
    """Run bench/<name>.py; its exit code, output and record (`record_as`: the name it runs
    under when not `name`, as tick.py's for another floor)."""
    env = {**os.environ, "CALLBOARD_BENCH_OUT": str(out)}
    env.pop("DATABASE_URL", None)  # the benches start their own embedded server
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / f"{name}.py"), *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        preexec_fn=None if max_files is None else lambda: _limit_files(max_files),
    )
    record = out / f"{record_as or name}.json"
    return (
        done.returncode,
        done.stdout + done.stderr,
        json.loads(record.read_text()) if record.exists() else {},
    )


def _limit_files(n: int) -> None:
    import resource

    resource.setrlimit(resource.RLIMIT_NOFILE, (n, n))


def test_a_failed_precondition_stops_the_bench_with_its_reason(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CALLBOARD_BENCH_OUT", str(tmp_path))
    run = Run("x")
    run.require("rows filled", True, "10 rows")
    with pytest.raises(SystemExit) as stopped:
        run.require("clients connected", False, "45 of 5,000")
    assert stopped.value.code == CANNOT_MEASURE
    record = json.loads((tmp_path / "x.json").read_text())
    assert record["status"] == "cannot-measure"
    assert record["reason"] == "clients connected: 45 of 5,000"
    assert record["figures"] == []


def test_figures_say_met_or_missed_by_their_direction() -> None:
    run = Run("x")
    assert run.figure("tick", 8, "ms", target=10).met is True
    assert run.figure("tick", 12, "ms", target=10).met is False
    assert run.figure("ratio", 0.2, "x", target=0.3, better="higher").met is False
    assert run.figure("bytes", 5, "B").met is None


def test_the_page_is_made_from_the_records_and_keeps_the_written_part(tmp_path: Path) -> None:
    results = tmp_path / "results"
    results.mkdir()
    base = {
        "command": "python bench/tick.py --quick",
        "started_at": "2026-12-07T20:00:00+00:00",
        "seconds": 12.0,
        "commit": "abc1234",
        "cores": 2,
        "load_before": 0.5,
        "load_after": 0.7,
        "checks": [{"what": "rows filled", "detail": "1,000 contacts"}],
        "status": "measured",
    }
    fig = {"unit": "ms", "target": 10, "better": "lower", "note": ""}
    (results / "tick.quick.json").write_text(
        json.dumps(
            {
                **base,
                "bench": "tick",
                "quick": True,
                "figures": [{**fig, "name": "tick, nothing new", "value": 99, "met": False}],
            }
        )
    )
    (results / "tick.json").write_text(
        json.dumps(
            {
                **base,
                "bench": "tick",
                "quick": False,
                "figures": [{**fig, "name": "tick, nothing new", "value": 8, "met": True}],
            }
        )
    )
    (results / "live.quick.json").write_text(
        json.dumps(
            {
                **base,
                "bench": "live",
                "quick": True,
                "figures": [],
                "status": "cannot-measure",
                "reason": "clients connected: 45 of 5,000",
            }
        )
    )
    page = tmp_path / "PERFORMANCE.md"
    page.write_text(
        "# Performance\n\nIntro.\n\n<!-- bench:begin -->\nold\n<!-- bench:end -->\n\nHistory.\n"
    )
    bench_all.write_page(bench_all.records(results), page)
    text = page.read_text()
    assert "old" not in text and "Intro." in text and "History." in text
    assert "| tick, nothing new | 8.00 ms | ≤ 10 ms | met | tick (full) |" in text
    assert "99" not in text  # the full size wins over the quick one
    assert "live: could not measure" in text and "45 of 5,000" in text
    assert "precondition held: rows filled (1,000 contacts)" in text


def test_every_bench_reports_through_the_harness() -> None:
    """A bench that prints figures by itself could print one it did not measure."""
    scripts = {p.stem for p in (ROOT / "bench").glob("*.py")} - bench_all.NOT_BENCHES
    outside = scripts - set(bench_all.benches())
    assert not outside, f"benches not using bench/harness.py: {sorted(outside)}"
    for name in bench_all.benches():
        assert "--quick" in (ROOT / "bench" / f"{name}.py").read_text(), f"{name}: no --quick"


class _Hang(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        threading.Event().wait(3)  # longer than the client's patience below
        self.send_response(503)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


def test_the_load_generator_survives_a_receiver_that_does_not_answer() -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Hang)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    load = Load(f"http://127.0.0.1:{server.server_port}", "t", 100.0, retries=1, timeout=0.3)
    try:
        load.start()
        threading.Event().wait(2.5)
        alive = load.is_alive()
        load.stop()
    finally:
        server.shutdown()
        server.server_close()
    assert alive, "the load generator died on a slow response"
    assert load.failed >= 1 and load.sent == 0
    assert "ReadTimeout" in load.errors


class _Busy(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.send_response(503)
        self.send_header("Retry-After", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


def test_ingest_http_stops_posting_to_a_server_that_stays_busy() -> None:
    """More busy retries than batches end the posting at once (a server that timed out every
    batch kept the bench for hours), and the batches left are counted as not stored."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Busy)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        posted = _post_all(f"http://127.0.0.1:{server.server_port}", "t", iter([b"[]"] * 10), 10)
    finally:
        server.shutdown()
        server.server_close()
    assert 10 < posted.retried <= 10 + CLIENTS
    assert posted.failed >= 1 and posted.stored == 0 and posted.batches < 10


@pytest.mark.slow
def test_cluster_without_history_cannot_measure(tmp_path: Path) -> None:
    code, output, record = run_bench("cluster", "--quick", "--hours", "0", out=tmp_path)
    assert code == CANNOT_MEASURE, output[-2000:]
    assert "CANNOT MEASURE: history filled" in output
    assert record["status"] == "cannot-measure" and not record["figures"]


@pytest.mark.slow
def test_flood_with_no_requests_cannot_measure(tmp_path: Path) -> None:
    code, output, record = run_bench("flood", "--quick", "--requests", "0", out=tmp_path)
    assert code == CANNOT_MEASURE, output[-2000:]
    assert "CANNOT MEASURE" in output
    assert not record["figures"]


@pytest.mark.slow
def test_restart_whose_server_cannot_start_in_time_cannot_measure(tmp_path: Path) -> None:
    code, output, record = run_bench(
        "restart",
        *("--events", "3000", "--agents", "20", "--queues", "2", "--days", "1"),
        *("--restarts", "1", "--timeout", "0.5", "--data", str(tmp_path / "data")),
        out=tmp_path,
    )
    assert code == CANNOT_MEASURE, output[-2000:]
    assert "CANNOT MEASURE: restart 1 (cold): the server started" in output
    assert not record["figures"]


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_live_whose_clients_cannot_all_connect_cannot_measure(tmp_path: Path) -> None:
    """300 open files for the bench and its server: 500 websocket clients cannot all connect
    (the bench raises its limit to the hard one, which is 300 here)."""
    code, output, record = run_bench(
        "live",
        *("--quick", "--clients", "500", "--probes", "3", "--seconds", "3", "--rate", "100"),
        out=tmp_path,
        timeout=540,
        max_files=300,
    )
    assert code == CANNOT_MEASURE, output[-2000:]
    assert "CANNOT MEASURE: every client connected" in output
    assert record["status"] == "cannot-measure"


def assert_cannot_measure(code: int, output: str, record: dict, bench: str, what: str) -> None:
    """Exit 3 with the precondition's name, recorded as such, and no figure printed."""
    assert code == CANNOT_MEASURE, output[-2000:]
    assert f"{bench}: CANNOT MEASURE: {what}" in output, output[-2000:]
    assert record["status"] == "cannot-measure" and record["reason"].startswith(what)
    assert not record["figures"]
    assert f"== {bench}:" not in output  # the table of checks and figures was never printed


@pytest.mark.slow
def test_alerts_whose_receiver_refuses_cannot_measure(tmp_path: Path) -> None:
    code, output, record = run_bench(
        "alerts", "--quick", "--ticks", "1", "--receiver-refuses", out=tmp_path
    )
    assert_cannot_measure(
        code, output, record, "alerts", "the webhook receiver got every notification"
    )
    assert "0 of " in record["reason"] and "refused" in record["reason"]


@pytest.mark.slow
def test_ingest_given_duplicate_events_cannot_measure(tmp_path: Path) -> None:
    """10 events given twice: the writer stores them once, fewer than it was given."""
    code, output, record = run_bench("ingest", "--calls", "100", "--duplicates", "10", out=tmp_path)
    assert_cannot_measure(
        code, output, record, "ingest", "every event stored once by the writer, with rollups"
    )


@pytest.mark.slow
def test_ingest_http_posting_to_a_closed_port_cannot_measure(tmp_path: Path) -> None:
    closed = f"http://127.0.0.1:{free_port()}"
    code, output, record = run_bench(
        "ingest_http", "--calls", "100", "--post-to", closed, out=tmp_path
    )
    assert_cannot_measure(code, output, record, "ingest_http", "HTTP: every request answered 2xx")
    assert "ConnectError" in output


@pytest.mark.slow
def test_queue_log_import_of_a_garbled_file_cannot_measure(tmp_path: Path) -> None:
    """Every line garbled: each is rejected with its position (that check holds), and no
    event is made from the file."""
    code, output, record = run_bench(
        "queue_log_import", "--lines", "2000", "--corrupt", "1", out=tmp_path
    )
    assert_cannot_measure(code, output, record, "queue_log_import", "events stored")
    held = {c["what"] for c in record["checks"]}
    assert "every line of the file stored, skipped or rejected" in held
    assert "every rejected line given with its position" in held


@pytest.mark.slow
def test_reports_whose_month_is_not_filled_cannot_measure(tmp_path: Path) -> None:
    """One hour of history (NOW's day) for a report of the 7 days before it."""
    code, output, record = run_bench("reports", "--quick", "--hours", "1", out=tmp_path)
    assert_cannot_measure(code, output, record, "reports", "every day of the report filled")
    assert record["reason"].endswith("0 of 7 days hold contacts")


@pytest.mark.slow
def test_tick_on_a_floor_smaller_than_its_queues_cannot_measure(tmp_path: Path) -> None:
    """30 agents make 96 contacts an hour: 500 queues cannot all have contacts."""
    code, output, record = run_bench(
        "tick", "--quick", "--agents", "30", "--queues", "500", out=tmp_path, record_as="tick-30"
    )
    assert_cannot_measure(
        code, output, record, "tick-30", "every queue and agent of the floor filled"
    )
    assert "96 of 500 queues" in record["reason"]


@pytest.mark.slow
def test_trend_on_a_floor_without_the_cases_groups_cannot_measure(tmp_path: Path) -> None:
    """2 queues: the case "one queue" (q7) has no contacts to trend."""
    code, output, record = run_bench(
        "trend",
        *("--quick", "--agents", "25", "--queues", "2"),
        out=tmp_path,
        record_as="trend-25-2",
    )
    assert_cannot_measure(
        code, output, record, "trend-25-2", "one queue: every group has contacts today"
    )
    assert record["reason"].endswith("none for q7")
