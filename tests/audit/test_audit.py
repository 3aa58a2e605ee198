"""Issue 25, the audit trail: each event recorded with who, when, from where and what;
read by admins only (API) and on the server (`callboard audit`); kept for keep_days."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from typing import Any

import orjson
import psycopg
from fastapi import FastAPI
from fastapi.testclient import TestClient

from app.audit.service import entries, prune, record
from app.auth.service import create_token
from app.config import CallboardConfig, store_config
from tests.conftest import libpq


def test_an_export_is_recorded_with_who_and_from_where(
    app: FastAPI, pg: psycopg.Connection[Any]
) -> None:
    token = create_token(pg, role="supervisor", teams=("north",), label="Maria")
    with TestClient(app, headers={"Authorization": f"Bearer {token}"}) as c:
        assert c.get("/api/v1/screens/sup/export/queues.csv").status_code == 200
    [e] = entries(pg, action="export")
    assert (e["actor"], e["role"], e["address"], e["target"]) == (
        "Maria",
        "supervisor",
        "testclient",
        "queues.csv",
    )


def test_the_api_is_for_admins(app: FastAPI, make_token: Callable[..., str]) -> None:
    admin, sup = make_token("admin"), make_token("supervisor", teams=("north",))
    with TestClient(app) as c:
        denied = c.get("/api/v1/audit", headers={"Authorization": f"Bearer {sup}"})
        assert denied.status_code == 403
        c.get("/api/v1/screens/sup/export/queues.csv", headers={"Authorization": f"Bearer {sup}"})
        r = c.get("/api/v1/audit?action=export", headers={"Authorization": f"Bearer {admin}"})
        assert r.status_code == 200
        assert [e["action"] for e in r.json()] == ["export"]
        assert r.json()[0]["role"] == "supervisor"


def test_a_configuration_change_is_recorded(pg: psycopg.Connection[Any]) -> None:
    pg.execute("DELETE FROM audit_log")  # other tests' servers (rolled back after this test)
    store_config(pg, CallboardConfig.model_validate({"queues": {"q1": {}}}), origin="f.toml")
    store_config(pg, CallboardConfig.model_validate({"queues": {"q1": {}}}), origin="f.toml")
    store_config(pg, CallboardConfig.model_validate({"queues": {"q2": {}}}), origin="g.toml")
    changes = entries(pg, action="config")
    assert [e["actor"] for e in changes] == ["g.toml", "f.toml"]  # unchanged: no entry


def test_entries_older_than_keep_days_are_pruned(pg: psycopg.Connection[Any]) -> None:
    pg.execute("DELETE FROM audit_log")
    record(pg, action="signin", actor="old")
    record(pg, action="signin", actor="new")
    pg.execute("UPDATE audit_log SET at = now() - interval '40 days' WHERE actor = 'old'")
    assert prune(pg, keep_days=30) == 1
    assert [e["actor"] for e in entries(pg)] == ["new"]


def test_token_commands_and_callboard_audit(live_db: tuple[str, dict[str, str]]) -> None:
    url, _ = live_db
    env = {"DATABASE_URL": url, "PATH": "/usr/bin:/bin"}

    def cli(*args: str) -> str:
        done = subprocess.run(
            [sys.executable, "-c", "from app.cli import main; main()", *args],
            capture_output=True,
            text=True,
            env=env,
            timeout=60,
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    token = cli("token", "create", "--role", "ingest", "--source", "pbx", "--label", "pbx feed")
    cli("token", "revoke", token.strip())
    lines = [orjson.loads(line) for line in cli("audit", "--since", "1h", "--json").splitlines()]
    actions = [(e["action"], e["target"]) for e in lines]
    assert actions[:2] == [
        ("token.revoke", actions[0][1]),
        ("token.create", actions[0][1].replace(")", ", pbx feed)")),
    ]
    assert lines[0]["actor"].startswith("cli:")
    with psycopg.connect(libpq(url)) as conn:
        row = conn.execute("SELECT sources FROM tokens WHERE label = 'pbx feed'").fetchone()
    assert row == (["pbx"],)
    assert "token.create" in cli("audit")


def test_callboard_wall_pair_and_unpair(live_db: tuple[str, dict[str, str]]) -> None:
    from app.auth import pairing
    from app.auth.service import principal_for

    url, _ = live_db
    env = {"DATABASE_URL": url, "PATH": "/usr/bin:/bin"}
    with psycopg.connect(libpq(url)) as conn:
        code = pairing.start(conn, secret="tv-secret", board="default")
        conn.commit()

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-c", "from app.cli import main; main()", *args],
            capture_output=True,
            text=True,
            env=env,
            timeout=60,
        )

    assert cli("wall", "pair", code, "nowhere").returncode == 2
    assert cli("wall", "pair", "XXX-XXX", "default").returncode == 1
    assert cli("wall", "pair", code.lower().replace("-", ""), "default").returncode == 0
    with psycopg.connect(libpq(url)) as conn:
        claimed = pairing.claim(conn, secret="tv-secret")
        conn.commit()
        assert claimed is not None
        token, board = claimed
        seen = principal_for(conn, token)
        assert board == "default" and seen is not None
        assert (seen.role, seen.kind, seen.wallboard) == ("wallboard", "paired", "default")
        assert pairing.claim(conn, secret="tv-secret") is None  # the code is used up
    assert "default" in cli("wall", "list").stdout
    assert cli("wall", "unpair", "default").returncode == 0
    with psycopg.connect(libpq(url)) as conn:
        assert principal_for(conn, token) is None
        actions = [e["action"] for e in entries(conn, action="wall")]
    assert actions == ["wall.unpair", "wall.pair"]
