"""Events already in the contract's JSON: a JSON-lines file (`callboard import events`) and the
items of an HTTP batch (`POST /api/v1/events`), onto the one seam.

Both answer by index: the file's errors name the line (`line 3`, index 2: lines counted from
0, blank lines skipped but counted), the batch's the item's index in the posted array. Each
event goes to the committer with its position (`At`), so that a refusal by the writer (a cap
on new queues or agents) names it too. The events keep their own `source`; the committer's
name is the health row of the way they came (`events` for files, `api` for HTTP)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import orjson
import psycopg

from ingest.contract import event_or_error, validate_items
from ingest.sources.base import At, Item, Rejected
from ingest.sources.commit import BATCH, Committer, Summary
from ingest.sources.normalize import Normalizer

FILE_SOURCE = "events"  # the health row of `callboard import events`
HTTP_SOURCE = "api"  # the health row of POST /api/v1/events
KEEP_RAW = 4096  # characters of a rejected line kept in source_lines


def batch_items(objects: Iterable[Any]) -> Iterator[Item]:
    """The items of a posted array: `item N` positions, indexes from 0."""
    valid, errors = validate_items(objects)
    events = dict(valid)
    problems = {e.index: e.message for e in errors}
    for index in range(len(events) + len(problems)):
        if index in problems:
            yield Rejected(f"item {index}", problems[index], index=index)
        else:
            yield At(events[index], f"item {index}", index)


class EventsFile:
    """A JSON-lines file of contract events; a line that is not JSON, or not a valid event,
    is that line's reject (kept with its text)."""

    def __init__(self, path: Path, name: str = FILE_SOURCE) -> None:
        self.path, self.name = path, name

    def items(self) -> Iterator[Item]:
        with self.path.open("rb") as stream:
            for index, line in enumerate(stream):
                if not line.strip():
                    continue
                where = f"line {index + 1}"
                try:
                    obj = orjson.loads(line)
                except orjson.JSONDecodeError as exc:
                    error: str | None = f"not valid JSON ({exc})"
                else:
                    event, error = event_or_error(obj)
                if error is not None:
                    raw = line.decode("utf-8", "replace").rstrip("\r\n")
                    if len(raw) > KEEP_RAW:
                        raw = raw[:KEEP_RAW] + "…"
                    yield Rejected(where, error, raw, index)
                else:
                    yield At(event, where, index)


def import_jsonl(
    conn: psycopg.Connection[Any],
    path: Path,
    *,
    batch: int = BATCH,
    normalizer: Normalizer | None = None,
    progress: Callable[[Summary], None] | None = None,
    bulk: bool = False,
) -> Summary:
    """Import a file through the committer: each batch its own transaction (a savepoint when
    `conn` is already in one), so a crash loses at most the batch in flight and importing
    again stores only what is missing (`bulk`: derived rows made once at the end)."""
    source = EventsFile(path)
    committer = Committer(
        conn, source.name, batch=batch, normalizer=normalizer, progress=progress, bulk=bulk
    )
    return committer.run(source.items())


def errors_by_index(summary: Summary, *, say_where: bool = False) -> list[dict[str, Any]]:
    """The listed rejects as `{"index", "message"}` in input order (what the HTTP route and
    `callboard import events` have always answered); `say_where`: messages start with the
    position (`line 3: ...`)."""
    rejects = sorted(summary.rejects, key=lambda r: -1 if r.index is None else r.index)
    return [
        {"index": r.index, "message": f"{r.position}: {r.reason}" if say_where else r.reason}
        for r in rejects
    ]
