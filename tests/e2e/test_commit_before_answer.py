"""An answer is sent only after its transaction committed: a client told 200 for a batch of
events can rely on them being stored (and on seeing them in its next request)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import httpx
import psycopg

from tests.conftest import libpq
from tests.e2e.conftest import Server

# a commit that takes a second: a deferred trigger runs at COMMIT, after the route returned
SLOW_COMMIT = """
CREATE FUNCTION slow_commit() RETURNS trigger LANGUAGE plpgsql AS
$$ BEGIN PERFORM pg_sleep(1); RETURN NULL; END $$;
CREATE CONSTRAINT TRIGGER slow_commit AFTER INSERT ON events
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION slow_commit();
"""


def test_posted_events_are_committed_when_the_answer_arrives(
    live_db: tuple[str, dict[str, str]], tmp_path: Path
) -> None:
    url, tokens = live_db
    with psycopg.connect(libpq(url), autocommit=True) as conn:
        conn.execute(SLOW_COMMIT)  # type: ignore[arg-type]
    srv = Server(url, tmp_path)
    srv.start()
    try:
        event = {
            "id": "commit-1",
            "ts": datetime.now(UTC).isoformat(),
            "type": "agent.state",
            "agent": "a1",
            "state": "available",
            "queues": ["billing"],
        }
        answer = httpx.post(
            f"{srv.base}/api/v1/events",
            json=[event],
            headers={"Authorization": f"Bearer {tokens['ingest']}"},
            timeout=30,
        )
        assert answer.status_code == 200, answer.text
        assert answer.json()["inserted"] == 1
        with psycopg.connect(libpq(url)) as conn:
            row = conn.execute("SELECT count(*) FROM events WHERE id = 'commit-1'").fetchone()
        assert row == (1,), "answered before the commit"
    finally:
        srv.stop()
