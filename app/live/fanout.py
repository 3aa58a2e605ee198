"""Fan-out: what each socket of this worker is sent of the published topics.

A subscriber keeps only the last state it sent per topic: when it is slow, the newest state
goes out as one patch against what it has (`base`: the seq that patch applies to), never a
backlog; a client that lost its state asks for a snapshot (`resend`). The first frame is a
heartbeat (the server's clock, from which the screens tick their timers)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from app.clock import Clock
from app.live.topics import diff


class Source(Protocol):
    """What a subscriber reads of its hub: the published topics and the clock."""

    clock: Clock
    topics: dict[str, Topic]
    newest_wall: float

    def clock_info(self) -> dict[str, Any]: ...


@dataclass(frozen=True)
class Topic:
    seq: int
    data: dict[str, Any]
    version: int = 0
    computed_at: str = ""  # ISO time the data was computed (the frames' ts)
    computed_wall: float = 0.0  # the same, as time.time()


PENDING = Topic(-1, {})


@dataclass(frozen=True)
class Publication:
    """What one step of the leader (or one read of a follower) brings."""

    version: int
    wall: float  # when that version's computation started (time.time())
    topics: dict[str, Topic]
    gone: list[str] = field(default_factory=list)


View = Callable[[str, dict[str, Any]], dict[str, Any]]


@dataclass(eq=False)
class Subscriber:
    topics: frozenset[str]
    view: View | None = None  # what this token may see of a payload (None: all of it)
    token_sha256: str | None = None
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    since: float = field(default_factory=time.time)
    sent: dict[str, Topic] = field(default_factory=dict)
    heartbeat: bool = True  # the first frame is a heartbeat: the clock, for the screens
    close: tuple[int, str] | None = None  # set when the server closes this socket

    def resend(self, topics: set[str]) -> None:
        """A snapshot of these topics next (a client that missed a patch asks for it)."""
        for name in topics & self.topics:
            if self.sent.get(name) is not PENDING:
                self.sent.pop(name, None)
        self.wake.set()

    def frames(self, hub: Source) -> list[dict[str, Any]]:
        """Frames for whatever changed since this subscriber's last send (latest state only)."""
        out: list[dict[str, Any]] = []
        if self.heartbeat:
            self.heartbeat = False
            now = hub.clock.now().isoformat()
            out.append({"topic": "_heartbeat", "seq": 0, "ts": now, "data": hub.clock_info()})
        for name in sorted(self.topics):
            current = hub.topics.get(name)
            last = self.sent.get(name)
            if current is None or (last is not None and last.seq == current.seq):
                continue
            if last is PENDING and hub.newest_wall < self.since:
                continue  # computed before this subscriber came: wait for the next one
            data = current.data if self.view is None else self.view(name, current.data)
            shown = Topic(current.seq, data, current.version, current.computed_at)
            frame: dict[str, Any] = {"topic": name, "seq": current.seq, "ts": current.computed_at}
            if last is None or last is PENDING:
                frame.update(kind="snapshot", data=data)
            else:  # against the frame before (`base`): a client holding another asks again
                frame.update(kind="patch", base=last.seq, data=diff(last.data, data))
            out.append(frame)
            self.sent[name] = shown
        return out
