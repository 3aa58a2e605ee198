"""Request dependencies. The connection dependency owns the transaction: commit when the
route returns, roll back when it raises; services never commit."""

from collections.abc import Iterator
from typing import Annotated, Any

import psycopg
from fastapi import Depends, Request
from sqlalchemy.engine import Engine


def get_engine(request: Request) -> Engine:
    engine: Engine = request.app.state.engine
    return engine


def get_conn(request: Request) -> Iterator[psycopg.Connection[Any]]:
    with get_engine(request).begin() as conn:
        yield conn.connection.driver_connection  # type: ignore[misc]


ConnDep = Annotated[psycopg.Connection[Any], Depends(get_conn)]
