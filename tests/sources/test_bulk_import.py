"""A bulk import (derived rows made once at the end) gives the tables a batch-by-batch import
gives, also when it was cut short and finished later."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import psycopg

from ingest.derived import finish_pending, mark_pending
from ingest.sources.commit import Committer
from ingest.sources.queue_log_import import QueueLogFile, import_queue_log
from tests.helpers import count, derived_snapshot
from tests.streams import queue_log_lines


def _log(tmp_path: Path, lines: int = 4000) -> Path:
    path = tmp_path / "queue_log"
    path.write_text("".join(queue_log_lines(lines=lines, agents=30, queues=4, seed=5)))
    return path


def _tables(pg: psycopg.Connection[Any]) -> dict[str, list[tuple[Any, ...]]]:
    out = derived_snapshot(pg)
    out["events"] = pg.execute(
        "SELECT source, id, ts, type, call_id, queue, agent, data, raw FROM events"
        " ORDER BY source, id"
    ).fetchall()
    out["live_changes"] = []  # written by both, not compared
    return out


def test_bulk_and_batch_by_batch_imports_give_equal_tables(
    pg: psycopg.Connection[Any], tmp_path: Path
) -> None:
    log = _log(tmp_path)
    with pg.transaction(force_rollback=True):
        by_batch = import_queue_log(pg, log, source="pbx", batch=300)
        expected = _tables(pg)
    bulk = import_queue_log(pg, log, source="pbx", batch=300, bulk=True)
    assert (bulk.inserted, bulk.rejected) == (by_batch.inserted, by_batch.rejected)
    assert bulk.inserted > 3000 and bulk.derived > 0
    got = _tables(pg)
    assert got["contact_segments"] and got["agent_states"]
    assert got == expected
    markers = pg.execute("SELECT key FROM derived_meta WHERE key LIKE 'pending:%'").fetchall()
    assert markers == []


def test_a_bulk_import_cut_short_is_finished_later(
    pg: psycopg.Connection[Any], tmp_path: Path
) -> None:
    log = _log(tmp_path, lines=2500)
    with pg.transaction(force_rollback=True):
        import_queue_log(pg, log, source="pbx", batch=250)
        expected = _tables(pg)
    committer = Committer(pg, "pbx", batch=250, bulk=True)
    committer._bulk_name = "pbx:2147483000"  # a server process that is gone
    for item in QueueLogFile(log, source="pbx").items():
        committer.add(item)
    committer.flush()  # ... and the process dies before finish_bulk
    assert count(pg, "contact_segments") == 0
    assert finish_pending(pg) == ["pbx:2147483000"]
    assert _tables(pg) == expected
    assert finish_pending(pg) == []


def test_a_running_bulk_import_is_not_taken_for_one_cut_short(
    pg: psycopg.Connection[Any],
) -> None:
    mark_pending(pg, f"pbx:{pg.info.backend_pid}", 1)
    assert finish_pending(pg) == []


def test_a_bulk_import_keeps_the_rollups_equal_to_a_rebuild(fresh_db: str, tmp_path: Path) -> None:
    """Each batch and each chunk of derived rows commits apart: each brings the rollups up to
    date in its own transaction, else they are left behind (read from rows until rebuilt)."""
    import sqlalchemy as sa

    from app import migrate
    from app.config import CallboardConfig, store_config
    from app.rollups import service
    from tests.conftest import libpq
    from tests.rollups.test_equal import close, rollup_rows

    engine = sa.create_engine(fresh_db)
    with engine.begin() as c:
        migrate.upgrade(c)
    engine.dispose()
    config = CallboardConfig.model_validate({})
    with psycopg.connect(libpq(fresh_db)) as conn:
        store_config(conn, config, origin="test")
        service.rebuild_if_outdated(conn, config)
        conn.commit()
        import_queue_log(conn, _log(tmp_path, lines=2000), source="pbx", batch=250, bulk=True)
        assert service.is_current(conn, config)  # in use, not left behind
        kept = rollup_rows(conn)
        assert kept["rollup_contacts"] and kept["rollup_agent_time"]
        service.rebuild(conn)
        assert close(rollup_rows(conn), kept)
