from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import orjson
import psycopg
import pytest
from fastapi import FastAPI
from sqlalchemy.engine import Engine

from app.auth.deps import token_lookup
from app.auth.service import principal_for
from app.config import CallboardConfig
from app.deps import get_conn
from app.main import create_app
from app.settings import Settings

TEAMS = {"north": {"agents": ["a1", "a2"]}, "south": {"agents": ["a3"]}}


def config(**extra: Any) -> CallboardConfig:
    """Queues billing and sales, teams north (a1, a2) and south (a3), and `extra`."""
    base: dict[str, Any] = {"queues": {"billing": {}, "sales": {}}, "teams": TEAMS}
    return CallboardConfig.model_validate(base | extra)


def backlog(above: float = 2, **kw: Any) -> dict[str, Any]:
    return {
        "name": "billing backlog",
        "scope": "queue:billing",
        "metric": "waiting_now",
        "above": above,
        **kw,
    }


def queued(n: int, prefix: str, queue: str = "billing") -> list[dict[str, Any]]:
    now = datetime.now(UTC).replace(microsecond=0)
    return [
        {
            "id": f"{prefix}{i}",
            "ts": (now - timedelta(seconds=30 - i)).isoformat(),
            "type": "call.queued",
            "call_id": f"{prefix}c{i}",
            "queue": queue,
        }
        for i in range(n)
    ]


def abandoned(n: int, prefix: str, queue: str = "billing") -> list[dict[str, Any]]:
    now = datetime.now(UTC).replace(microsecond=0)
    return [
        {
            "id": f"{prefix}ab{i}",
            "ts": now.isoformat(),
            "type": "call.abandoned",
            "call_id": f"{prefix}c{i}",
            "queue": queue,
        }
        for i in range(n)
    ]


class Receiver:
    """A real HTTP server on 127.0.0.1 that records what it is sent; `fail` answers 500 to
    that many requests first."""

    def __init__(self, fail: int = 0) -> None:
        self.bodies: list[dict[str, Any]] = []
        self.fail = fail
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                if receiver.fail > 0:
                    receiver.fail -= 1
                    self.send_response(500)
                    self.end_headers()
                    self.wfile.write(b"try again")
                    return
                receiver.bodies.append(orjson.loads(body))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


@pytest.fixture
def app(engine: Engine, pg: psycopg.Connection[Any]) -> FastAPI:
    """The app on the test's connection (each request a savepoint of the test's transaction,
    rolled back afterwards)."""
    application = create_app(Settings(config=None, database_url="unused"), engine=engine)

    def test_conn() -> Iterator[psycopg.Connection[Any]]:
        with pg.transaction():
            yield pg

    application.dependency_overrides[get_conn] = test_conn
    # tokens are created in the test's transaction: look them up there too (app/auth/tokens.py)
    application.dependency_overrides[token_lookup] = lambda: lambda token: principal_for(pg, token)
    return application
