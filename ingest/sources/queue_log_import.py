"""A queue_log (any layout) as a source of items for the committer.

Lines are split on `\\n` only (what Asterisk writes): a U+2028 or `\\x1c` inside a line is data,
in the file import and in `--follow` alike, so both read the same lines and give the same ids."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import psycopg
from pydantic import ValidationError

from ingest.contract import describe, event_adapter
from ingest.sources.base import Item, Raw, Rejected, Skipped
from ingest.sources.commit import Committer, Summary
from ingest.sources.normalize import Normalizer
from ingest.sources.queue_log import NO_EVENT, Line, Members, Problem, by_second, parse

BATCH = 5000


def reason(verb: str) -> str:
    if verb in NO_EVENT:
        return "carries no contact or agent state (kept in source_lines)"
    return "not a queue verb callboard knows (kept in source_lines)"


def items_of(lines: Iterable[Line | Problem], source: str, members: Members) -> Iterator[Item]:
    """Committer items for parsed lines: events with their line, skipped lines, rejects."""
    for got in by_second(lines, source, members):
        if isinstance(got, Problem):
            yield Rejected(f"line {got.index + 1}", got.message, got.raw)
            continue
        line, made = got
        if not made:
            yield Skipped(
                f"line {line.index + 1}", line.verb, reason(line.verb), line.raw, line.ts, line.key
            )
            continue
        for e in made:
            try:
                yield Raw(event_adapter.validate_python(e), line.raw)
            except ValidationError as exc:
                yield Rejected(f"line {line.index + 1}", describe(exc), line.raw)


def split_lines(f: Any) -> Iterator[str]:
    """A text file's lines split on \\n only (never str.splitlines' other separators)."""
    rest = ""
    while True:
        chunk = f.read(1 << 20)
        if not chunk:
            break
        parts = (rest + chunk).split("\n")
        rest = parts.pop()
        for p in parts:
            yield p + "\n"
    if rest:
        yield rest


class QueueLogFile:
    """A whole file, read once (`callboard import queue-log FILE`)."""

    def __init__(
        self,
        path: Path,
        *,
        source: str,
        tz: str = "UTC",
        static: dict[str, list[str]] | None = None,
    ) -> None:
        self.path, self.name, self.tz = path, source, tz
        self.members = Members.with_static(static)

    def items(self) -> Iterator[Item]:
        with self.path.open(encoding="utf-8", errors="replace", newline="") as f:
            yield from items_of(parse(split_lines(f), tz=self.tz), self.name, self.members)


def import_queue_log(
    conn: psycopg.Connection[Any],
    path: Path,
    *,
    source: str,
    tz: str = "UTC",
    batch: int = BATCH,
    static: dict[str, list[str]] | None = None,
    normalizer: Normalizer | None = None,
    progress: Callable[[Summary], None] | None = None,
    bulk: bool = False,
) -> Summary:
    """Import a queue_log through the committer (`bulk`: derived rows made once at the end)."""
    committer = Committer(
        conn, source, batch=batch, normalizer=normalizer, progress=progress, bulk=bulk
    )
    return committer.run(QueueLogFile(path, source=source, tz=tz, static=static).items())
