"""The one seam every source goes through.

A source turns its platform's input into a stream of *items*, each one of:

- a contract event (a model of `ingest.contract`, already validated: never a dict);
- `Rejected`: input that should have been an event and is not (bad value, bad row), with its
  position in the source and the reason, so the operator can find and fix it;
- `Raw`: an event with the source text it came from (a queue_log line, a CSV row);
- `At`: an event with its position (and index) in its input, for sources that answer by index;
- `Skipped`: input that is fine but makes no event (a verb without contact or agent state, a
  heartbeat), kept with its reason so nothing is silently dropped.

`Position` marks where the source stands after the items before it (a file offset, a stream
sequence, a message to acknowledge). The committer (`ingest.sources.commit`) stores the events,
the skipped lines and the last position seen in one transaction, so a restart resumes exactly
after what was stored. Parsers stay pure: no database, no network, easy to test on samples.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from ingest.contract import Event


@dataclass(frozen=True, slots=True)
class Rejected:
    position: str  # where in the source: "line 12", "row 7", "record 3 of shard-0001", "seq 99"
    reason: str  # one line a person can act on
    raw: str | None = None
    index: int | None = None  # the item's index in its input, where callers speak of indexes


@dataclass(frozen=True, slots=True)
class Skipped:
    position: str
    kind: str  # what it was (a queue_log verb, an AMI event name, a record type)
    reason: str
    raw: str
    ts: datetime | None = None
    key: str | None = None  # stable id, so a re-import stores it once (None: derived from raw)


@dataclass(frozen=True, slots=True)
class Position:
    """Where the source stands; stored with the batch that reached it (JSON), under the source's
    name and `key` (a followed file's path; "" for a source with one position). A source gets
    its last stored position back at its start (`ingest.sources.commit.stored_position`)."""

    value: dict[str, Any] = field(default_factory=dict)
    key: str = ""


@dataclass(frozen=True, slots=True)
class Raw:
    """An event with the source's own text it was made from (kept in `events.raw`)."""

    event: Event
    raw: str


@dataclass(frozen=True, slots=True)
class At:
    """An event with where it is in its input (`line 3`, `item 7`, and its index there), for
    sources whose callers name items by index (an HTTP batch, a JSON-lines file): should the
    writer refuse it (a cap on new queues or agents), the reject names it like a parse error."""

    event: Event
    position: str
    index: int | None = None


Item = Event | Raw | At | Rejected | Skipped | Position


class Source(Protocol):
    """A finite or endless source read synchronously (files, recordings)."""

    name: str  # the events' `source` field and the key its position is stored under

    def items(self) -> Iterator[Item]: ...


class AsyncSource(Protocol):
    """A live source (a socket, a stream); it ends when told to stop. Each `Position` it yields
    ends a batch: the committer stores everything before it and then calls `committed(position)`
    when the source has that method (to acknowledge messages only after the commit)."""

    name: str

    def items(self) -> AsyncIterator[Item]: ...


def scoped_call_id(source: str, platform_id: str) -> str:
    """A platform's call id scoped by the source's name: two PBXes' uniqueids can collide, and
    one PBX seen through two adapters (AMI and its queue_log) must give the same id."""
    return f"{source}:{platform_id}"
