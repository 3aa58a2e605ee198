"""Issue 25, finding 4: a flood of made-up tokens never stands in front of a real one. The
lookup here blocks for unknown tokens (a database slowed by the flood); the real token,
known to be in force, is answered while the made-up ones still wait."""

from __future__ import annotations

import threading

import anyio
import pytest

from app.auth.service import Principal, digest
from app.auth.tokens import Busy, TokenCache

REAL = "cb_real_token"


@pytest.mark.anyio
async def test_a_real_token_is_answered_while_made_up_ones_wait() -> None:
    release = threading.Event()
    looked_up: list[str] = []

    def lookup(token: str) -> Principal | None:
        looked_up.append(token)
        if token == REAL:
            return Principal("admin", name="Dana")
        release.wait(10)  # the flood's lookups are slow
        return None

    cache = TokenCache(lookup, known=lambda: {digest(REAL)})
    outcomes: list[str] = []

    async def bogus(i: int) -> None:
        try:
            outcomes.append("none" if await cache.principal(f"cb_bogus{i}") is None else "?")
        except Busy:
            outcomes.append("busy")

    async with anyio.create_task_group() as tg:
        for i in range(50):
            tg.start_soon(bogus, i)
        await anyio.sleep(0.1)  # the flood is in: its first lookup holds its lane
        with anyio.fail_after(5):
            principal = await cache.principal(REAL)
        assert principal is not None and principal.name == "Dana"
        assert not release.is_set() and outcomes == []  # answered ahead of every bogus one
        release.set()
    assert len(outcomes) == 50 and set(outcomes) <= {"none", "busy"}
    assert looked_up.index(REAL) > 0  # it came after the flood's first lookup had started


@pytest.mark.anyio
async def test_a_token_not_yet_known_still_works() -> None:
    cache = TokenCache(lambda t: Principal("wallboard"), known=lambda: set())
    assert await cache.principal("cb_new") == Principal("wallboard")


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"
