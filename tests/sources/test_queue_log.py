"""The queue_log adapter on small logs written for each event and pitfall of the reference."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg

from ingest.sources.queue_log import Line, Members, events, parse
from ingest.sources.queue_log_import import import_queue_log

T = 1763625600  # 2025-11-20T08:00:00Z

LOG = f"""\
{T}|NONE|NONE|NONE|QUEUESTART|
{T}|MANAGER|sales|SIP/201|ADDMEMBER|
{T}|MANAGER|support|SIP/201|ADDMEMBER|
{T}|MANAGER|sales|SIP/202|ADDMEMBER|
{T + 10}|c1.1|sales|NONE|DID|5551000
{T + 10}|c1.1|sales|NONE|ENTERQUEUE||5551234|1
{T + 22}|c1.1|sales|SIP/202|RINGNOANSWER|15000
{T + 30}|c1.1|sales|SIP/201|CONNECT|20|c1.2|3
{T + 150}|c1.1|sales|SIP/201|COMPLETECALLER|20|120|1
{T + 150}|c2.1|sales|NONE|ENTERQUEUE||5559999|1
{T + 161}|c2.1|sales|NONE|ABANDON|1|1|11
{T + 200}|c3.1|sales|NONE|ENTERQUEUE||5551234|1
{T + 203}|c3.1|sales|SIP/202|CONNECT|3|c3.2|1
{T + 263}|c3.1|sales|SIP/202|ATTENDEDTRANSFER|LINK|SIP/202-01|SIP/301-02|3|60|1
{T + 300}|NONE|sales|SIP/202|PAUSE|lunch
{T + 310}|MANAGER|sales|SIP/201|REMOVEMEMBER|
{T + 400}|c4.1|support|NONE|ENTERQUEUE||5550000|1
{T + 460}|c4.1|support|NONE|EXITWITHTIMEOUT|1|1|60
{T + 500}|c5.1|support|NONE|FUNKYVERB|x|y
{T + 600}|c6.1|sales|NONE|ENTERQUEUE||5557777|1
"""


def _import(
    pg: psycopg.Connection[Any], text: str, tmp_path: Path, name: str = "q.log", **kw: Any
) -> Any:
    path = tmp_path / name
    path.write_text(text)
    return import_queue_log(pg, path, source="pbx1", **kw)


def segments(pg: psycopg.Connection[Any]) -> dict[str, dict[str, Any]]:
    from psycopg.rows import dict_row

    with pg.cursor(row_factory=dict_row) as cur:
        rows = cur.execute("SELECT * FROM contact_segments ORDER BY call_id, segment").fetchall()
    return {f"{r['call_id']}/{r['segment']}": r for r in rows}


def test_a_log_becomes_contacts_and_agent_states(
    pg: psycopg.Connection[Any], tmp_path: Path
) -> None:
    summary = _import(pg, LOG, tmp_path)
    assert summary.rejected == 0
    assert summary.skipped == {"QUEUESTART": 1, "DID": 1, "FUNKYVERB": 1}
    s = segments(pg)
    c1 = s["pbx1:c1.1/0"]
    # the source's wait and talk win; hold and wrap-up are no data, never 0
    assert (c1["outcome"], c1["wait_s"], c1["agent"], c1["talk_s"], c1["missed"]) == (
        "answered",
        20.0,
        "SIP/201",
        120.0,
        1,
    )
    assert (c1["hold_s"], c1["acw_s"], c1["ended_by"], c1["customer"]) == (
        None,
        None,
        "customer",
        "5551234",
    )
    assert (s["pbx1:c2.1/0"]["outcome"], s["pbx1:c2.1/0"]["wait_s"]) == ("abandoned", 11.0)
    # ATTENDEDTRANSFER ... LINK: talk is data5's first part, not data4
    c3 = s["pbx1:c3.1/0"]
    assert (c3["transferred"], c3["talk_s"], c3["transfer_to_external"]) == (
        True,
        60.0,
        "SIP/202-01|SIP/301-02",
    )
    assert (
        s["pbx1:c4.1/0"]["outcome"],
        s["pbx1:c4.1/0"]["overflow_reason"],
        s["pbx1:c4.1/0"]["wait_s"],
    ) == (
        "overflowed",
        "timeout",
        60.0,
    )
    # cut off by the end of the log: still waiting, nothing invented
    assert s["pbx1:c6.1/0"]["outcome"] is None
    missed = pg.execute("SELECT data->>'ring_s' FROM events WHERE type = 'call.missed'").fetchone()
    assert missed == ("15.0",)  # RINGNOANSWER is in milliseconds


def test_agent_states_follow_membership_pauses_and_calls(
    pg: psycopg.Connection[Any], tmp_path: Path
) -> None:
    _import(pg, LOG, tmp_path)
    rows = pg.execute(
        "SELECT agent, state, reason, extract(epoch FROM started_at)::bigint - %s"
        " FROM agent_states ORDER BY agent, started_at",
        (T,),
    ).fetchall()
    a201 = [r[1:] for r in rows if r[0] == "SIP/201"]
    a202 = [r[1:] for r in rows if r[0] == "SIP/202"]
    # on a call, then available again at once (queue_log has no wrap-up); leaving one of two
    # queues is not a logout: still available, now for support only
    assert a201 == [
        ("available", None, 0),
        ("on_call", None, 30),
        ("available", None, 150),
        ("available", None, 310),
    ]
    queues = pg.execute(
        "SELECT queues FROM agent_states WHERE agent = 'SIP/201' ORDER BY started_at DESC LIMIT 1"
    ).fetchone()
    assert queues == (["support"],)
    assert a202 == [
        ("available", None, 0),
        ("on_call", None, 203),
        ("available", None, 263),
        ("away", "lunch", 300),
    ]


def test_importing_again_or_an_overlapping_export_stores_nothing_twice(
    pg: psycopg.Connection[Any], tmp_path: Path
) -> None:
    first = _import(pg, LOG, tmp_path)
    again = _import(pg, LOG, tmp_path)
    assert first.inserted > 0 and again.inserted == 0
    assert again.duplicates == first.inserted
    lines = LOG.splitlines()
    later = "\n".join([*lines[10:], f"{T + 700}|c6.1|sales|NONE|ABANDON|1|1|100"]) + "\n"
    overlap = _import(pg, later, tmp_path, "later.log")
    assert overlap.inserted == 1  # only the new line
    assert segments(pg)["pbx1:c6.1/0"]["outcome"] == "abandoned"
    (kept,) = pg.execute("SELECT count(*) FROM source_lines").fetchone() or (0,)
    assert kept == 3


def test_a_bad_line_is_an_error_for_that_line_only(
    pg: psycopg.Connection[Any], tmp_path: Path
) -> None:
    text = LOG.replace(f"{T + 150}|c2.1|sales|NONE|ENTERQUEUE||5559999|1", "garbage line")
    summary = _import(pg, text, tmp_path)
    assert summary.rejected == 1
    assert summary.rejects[0].position == "line 10"
    assert segments(pg)["pbx1:c1.1/0"]["outcome"] == "answered"


def test_the_start_of_a_call_cut_off_by_the_export(
    pg: psycopg.Connection[Any], tmp_path: Path
) -> None:
    _import(pg, f"{T}|c9.1|sales|SIP/201|COMPLETEAGENT|12|200|1\n", tmp_path)
    c9 = segments(pg)["pbx1:c9.1/0"]
    assert (c9["outcome"], c9["left_at"], c9["talk_s"], c9["ended_by"]) == (
        "answered",
        None,
        200.0,
        "agent",
    )


REALTIME = """\
id,time,callid,queuename,agent,event,data1,data2,data3,data4,data5
1,2025-11-20 09:00:00,NONE,NONE,NONE,QUEUESTART,,,,,
2,2025-11-20 09:00:05,r1,Support,NONE,ENTERQUEUE,,200,1,,
3,2025-11-20 09:00:12,r1,Support,PJSIP/300,RINGNOANSWER,5000,,,,
4,2025-11-20 09:00:20,r1,Support,PJSIP/301,CONNECT,15,r1.5,2,,
5,2025-11-20 09:02:20,r1,Support,PJSIP/301,ATTENDEDTRANSFER,LINK,PJSIP/301-1,PJSIP/400-2,15,120|1
"""


def test_a_realtime_table_export_in_local_time(pg: psycopg.Connection[Any], tmp_path: Path) -> None:
    summary = _import(pg, REALTIME, tmp_path, "export.csv", tz="Europe/Berlin")
    assert summary.rejected == 0 and summary.skipped == {"QUEUESTART": 1}
    r1 = segments(pg)["pbx1:r1/0"]
    assert r1["queued_at"] == datetime(2025, 11, 20, 8, 0, 5, tzinfo=UTC)  # 09:00:05 in Berlin
    assert (r1["wait_s"], r1["talk_s"], r1["missed"]) == (15.0, 120.0, 1)  # data5 keeps "120|1"


PBXWARE = """\
uid,date_time,callid,queue_name,type,event,param1,param2,param3,entpos,expos,htime,ttime,time
1,{t},NONE,NONE,NONE,QUEUESTART,,,,0,0,0,0,x
2,{t1},p1,IT,NONE,ENTERQUEUE,5551111,,,1,0,0,0,x
3,{t2},p1,IT,SIP/10,RINGNOANSWER,,,,0,0,10000,0,x
4,{t3},p1,IT,SIP/11,CONNECT,,p1.9,4,0,0,25,0,x
5,{t4},p1,IT,SIP/11,COMPLETEAGENT,,,,1,0,25,300,x
6,{t1},p2,IT,NONE,ENTERQUEUE,5552222,,,2,0,0,0,x
7,{t3},p2,IT,NONE,ABANDON,,,,2,1,25,0,x
""".format(t=T, t1=T + 5, t2=T + 16, t3=T + 30, t4=T + 330)


def test_a_pbxware_export(pg: psycopg.Connection[Any], tmp_path: Path) -> None:
    summary = _import(pg, PBXWARE, tmp_path, "pbx.csv")
    assert summary.rejected == 0
    s = segments(pg)
    assert (s["pbx1:p1/0"]["wait_s"], s["pbx1:p1/0"]["talk_s"], s["pbx1:p1/0"]["missed"]) == (
        25.0,
        300.0,
        1,
    )
    assert (s["pbx1:p1/0"]["customer"], s["pbx1:p1/0"]["ended_by"]) == ("5551111", "agent")
    assert (s["pbx1:p2/0"]["outcome"], s["pbx1:p2/0"]["wait_s"]) == ("abandoned", 25.0)


def test_same_second_lines_in_any_order_give_the_same_contact() -> None:
    lines = [x for x in parse(LOG.splitlines(keepends=True)) if isinstance(x, Line)]
    forward = [e for line in lines for e in events(line, "s", Members())]
    backward = [e for line in reversed(lines) for e in events(line, "s", Members())]
    call = [e for e in forward if e.get("call_id") == "s:c1.1"]
    assert {e["id"] for e in call} <= {e["id"] for e in backward}


def test_a_transfer_to_a_second_queue_keeps_the_callid(
    pg: psycopg.Connection[Any], tmp_path: Path
) -> None:
    log = (
        f"{T}|t1.1|sales|NONE|ENTERQUEUE||5554444|1\n"
        f"{T + 4}|t1.1|sales|SIP/201|CONNECT|4|t1.2|1\n"
        f"{T + 64}|t1.1|sales|SIP/201|BLINDTRANSFER|6001|from-queue|4|60|1\n"
        f"{T + 64}|t1.1|support|NONE|ENTERQUEUE||5554444|1\n"
        f"{T + 70}|t1.1|support|SIP/301|CONNECT|6|t1.3|1\n"
        f"{T + 190}|t1.1|support|SIP/301|COMPLETEAGENT|6|120|1\n"
        f"{T + 200}|w1.1|support|NONE|ENTERQUEUE||5551111|1\n"
        f"{T + 215}|w1.1|support|NONE|WITHDRAW|1|1|15|moved\n"
    )
    _import(pg, log, tmp_path)
    s = segments(pg)
    first, second = s["pbx1:t1.1/0"], s["pbx1:t1.1/1"]
    assert (first["queue"], first["transferred"], first["talk_s"]) == ("sales", True, 60.0)
    assert first["transfer_to_external"] == "6001@from-queue"
    assert (second["queue"], second["wait_s"], second["agent"], second["talk_s"]) == (
        "support",
        6.0,
        "SIP/301",
        120.0,
    )
    assert first["contact_outcome"] and not second["contact_outcome"]  # answered once
    assert (s["pbx1:w1.1/0"]["outcome"], s["pbx1:w1.1/0"]["overflow_reason"]) == (
        "overflowed",
        "other",
    )
