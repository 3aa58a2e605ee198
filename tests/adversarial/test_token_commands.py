"""Issue 10, defect 17: `callboard token list` shows tokens without the token, and `callboard
token revoke` (by id, by the token, by a hash prefix) makes it unknown."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

import psycopg

from app.auth.service import digest, principal_for
from tests.conftest import libpq


def _cli(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": url}
    return subprocess.run(
        [sys.executable, "-c", "from app.cli import main; main()", "token", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_list_and_revoke(live_db: tuple[str, dict[str, str]]) -> None:
    url, tokens = live_db
    listed = _cli(url, "list", "--json")
    assert listed.returncode == 0, listed.stderr
    rows = [json.loads(line) for line in listed.stdout.splitlines()]
    assert {r["role"] for r in rows} >= {"admin", "ingest", "wallboard", "agent", "supervisor"}
    assert not any(t in listed.stdout for t in tokens.values())  # never the token itself
    by_role = {r["role"]: r for r in rows}

    def known(token: str) -> Any:
        with psycopg.connect(libpq(url)) as conn:
            return principal_for(conn, token)

    # by id, by the token, by an 8+ character prefix of its hash
    assert _cli(url, "revoke", str(by_role["wallboard"]["id"])).returncode == 0
    assert _cli(url, "revoke", tokens["ingest"]).returncode == 0
    assert _cli(url, "revoke", digest(tokens["a1"])[:10]).returncode == 0
    assert known(tokens["wallboard"]) is None
    assert known(tokens["ingest"]) is None
    assert known(tokens["a1"]) is None
    assert known(tokens["admin"]) is not None
    # nothing left to revoke, or nonsense: a clear line and a non-zero exit
    again = _cli(url, "revoke", str(by_role["wallboard"]["id"]))
    assert again.returncode == 1 and "no active token" in again.stderr
    assert _cli(url, "revoke", "zz").returncode == 2
    shown = _cli(url, "list", "--revoked", "--json").stdout
    revoked = [json.loads(line) for line in shown.splitlines() if json.loads(line)["revoked_at"]]
    assert len(revoked) == 3


def test_list_shows_what_is_in_force_with_its_kind(live_db: tuple[str, dict[str, str]]) -> None:
    """A person's sign-in session is listed as a session while it lasts; an expired one only
    with --revoked (with the ended and revoked tokens)."""
    from app.auth.service import create_token

    url, _ = live_db
    with psycopg.connect(libpq(url)) as conn:
        for name, expires in (
            ("ann", "now() + interval '1 hour'"),
            ("bob", "now() - interval '1 minute'"),
        ):
            create_token(conn, role="supervisor", teams=("north",), label=name, kind="session")
            conn.execute(
                f"UPDATE tokens SET expires_at = {expires} WHERE label = %s",
                (name,),
            )
        conn.commit()
    rows = [json.loads(line) for line in _cli(url, "list", "--json").stdout.splitlines()]
    sessions = {r["label"]: r["kind"] for r in rows if r["kind"] == "session"}
    assert sessions == {"ann": "session"}
    ended = _cli(url, "list", "--revoked", "--json").stdout
    assert {json.loads(line)["label"] for line in ended.splitlines()} >= {"ann", "bob"}
    table = _cli(url, "list").stdout
    assert "session" in table and "ann" in table and "bob" not in table, table
