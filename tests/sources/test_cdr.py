"""CDR import with the shipped anonymous-bank mapping, on rows written in its format."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
import pytest

from ingest.sources.cdr import import_cdr, load_mapping
from tests.sources.test_queue_log import segments

HEADER = (
    "vru+line\tcall_id\tcustomer_id\tpriority\ttype\tdate\tvru_entry\tvru_exit\tvru_time"
    "\tq_start\tq_exit\tq_time\toutcome\tser_start\tser_exit\tser_time\tserver"
)
ROWS = [
    # answered after 60 s in queue, served 120 s
    "AA0101\t100\t555\t2\tPS\t990201\t9:00:00\t9:00:10\t10\t9:00:10\t9:01:10\t60\tAGENT\t9:01:10\t9:03:10\t120\tDORIT",
    # served without queueing: answered with wait 0
    "AA0102\t100\t556\t0\tPS\t990201\t9:05:00\t9:05:08\t8\t0:00:00\t0:00:00\t0\tAGENT\t9:05:07\t9:06:07\t60\tTOVA",
    # abandoned after 30 s in queue
    "AA0103\t101\t0\t0\tNW\t990201\t9:10:00\t9:10:05\t5\t9:10:05\t9:10:35\t30\tHANG\t0:00:00\t0:00:00\t0\tNO_SERVER",
    # hung up inside the IVR: not a contact
    "AA0104\t102\t0\t0\tNW\t990201\t9:20:00\t9:20:30\t30\t0:00:00\t0:00:00\t0\tHANG\t0:00:00\t0:00:00\t0\tNO_SERVER",
    # PHANTOM: not a contact
    "AA0105\t103\t0\t0\tPS\t990201\t9:30:00\t9:30:01\t1\t0:00:00\t0:00:00\t0\tPHANTOM\t0:00:00\t0:00:00\t0\tNO_SERVER",
    # served but without any time: skipped, said why
    "AA0106\t104\t0\t0\tPS\t990201\t0:00:00\t0:00:00\t0\t0:00:00\t0:00:00\t0\tAGENT\t0:00:00\t0:00:00\t0\tMICHAL",
]


@pytest.fixture
def bank_file(tmp_path: Path) -> Path:
    path = tmp_path / "bank.txt"
    path.write_text("\r\n".join([HEADER, *ROWS]) + "\r\n")
    return path


def test_the_bank_mapping(pg: psycopg.Connection[Any], bank_file: Path) -> None:
    name, mapping = load_mapping("anonymous-bank")
    summary = import_cdr(pg, bank_file, mapping, source=name)
    assert (summary.counts["rows"], summary.counts["contacts"], summary.rejected) == (6, 3, 0)
    assert summary.skipped == {
        "hung up before the queue (IVR)": 1,
        "outcome PHANTOM": 1,
        "served but without any time": 1,
    }
    s = segments(pg)
    answered = s["anonymous-bank:AA0101-100/0"]
    # Israel time (UTC+2 in February): 9:00:10 local is 07:00:10 UTC
    assert answered["queued_at"] == datetime(1999, 2, 1, 7, 0, 10, tzinfo=UTC)
    assert (answered["outcome"], answered["wait_s"], answered["agent"], answered["talk_s"]) == (
        "answered",
        60.0,
        "DORIT",
        120.0,
    )
    assert (answered["customer"], answered["priority"], answered["queue"]) == ("555", 2, "PS")
    direct = s["anonymous-bank:AA0102-100/0"]  # the same call_id on another VRU line
    assert (direct["outcome"], direct["wait_s"], direct["agent"]) == ("answered", 0.0, "TOVA")
    gave_up = s["anonymous-bank:AA0103-101/0"]
    assert (gave_up["outcome"], gave_up["wait_s"], gave_up["customer"]) == ("abandoned", 30.0, None)
    again = import_cdr(pg, bank_file, mapping, source=name)
    assert again.inserted == 0 and again.duplicates == summary.inserted


def test_an_unknown_mapping_says_which_are_shipped() -> None:
    with pytest.raises(ValueError, match="anonymous-bank"):
        load_mapping("no-such-mapping")
