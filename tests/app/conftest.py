from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import psycopg
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from app.auth.deps import token_lookup
from app.auth.service import create_token, principal_for
from app.deps import get_conn
from app.main import create_app
from app.settings import Settings


@pytest.fixture
def app(engine: Engine, pg: psycopg.Connection[Any]) -> FastAPI:
    """The app on the test's connection: each request is a savepoint inside the test's
    transaction, which is rolled back afterwards."""
    application = create_app(Settings(config=None, database_url="unused"), engine=engine)

    def test_conn() -> Iterator[psycopg.Connection[Any]]:
        with pg.transaction():
            yield pg

    application.dependency_overrides[get_conn] = test_conn
    # tokens are created in the test's transaction: look them up there too
    application.dependency_overrides[token_lookup] = lambda: lambda token: principal_for(pg, token)
    return application


@pytest.fixture
def make_token(pg: psycopg.Connection[Any]) -> Callable[..., str]:
    """A token of a role, created in the test's transaction."""

    def make(role: str, agent: str | None = None, teams: tuple[str, ...] = ()) -> str:
        return create_token(pg, role=role, agent=agent, teams=teams)  # type: ignore[arg-type]

    return make


@pytest.fixture
def anonymous(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as c:
        yield c


@pytest.fixture
def client(app: FastAPI, make_token: Callable[..., str]) -> Iterator[TestClient]:
    """An admin's client."""
    with TestClient(app, headers={"Authorization": f"Bearer {make_token('admin')}"}) as c:
        yield c
