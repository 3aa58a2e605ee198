from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

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
    return application


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as c:
        yield c
