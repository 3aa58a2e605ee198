"""Tailing a live queue_log, resuming exactly where the last committed batch ended.

Each batch's events and the file position after its last line are committed together, so a
restart (even after a kill) resumes at the first line not yet stored: nothing lost, nothing
counted twice (and the ids derived from each line would drop a repeat anyway). A file is known
by its inode and its first line. logrotate either renames the file and creates a new one (the
old one is read to its end, found by inode if the follower was down meanwhile, then the new
one from the start) or copies and truncates it (the size drops below the position: read from
the start)."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import psycopg

from ingest.sources.queue_log import Line, Members, Problem, _file_lines, events
from ingest.writer import IngestResult, ingest

CHUNK = 1 << 20


@dataclass
class Position:
    inode: int
    offset: int
    head: str


def stored(conn: psycopg.Connection[Any], source: str, path: Path) -> Position | None:
    row = conn.execute(
        'SELECT inode, "offset", head FROM follow_offsets WHERE source = %s AND path = %s',
        (source, str(path)),
    ).fetchone()
    return Position(*row) if row else None


def _save(conn: psycopg.Connection[Any], source: str, path: Path, pos: Position) -> None:
    conn.execute(
        'INSERT INTO follow_offsets (source, path, inode, "offset", head, updated_at)'
        " VALUES (%s, %s, %s, %s, %s, now()) ON CONFLICT (source, path) DO UPDATE"
        ' SET inode = EXCLUDED.inode, "offset" = EXCLUDED."offset", head = EXCLUDED.head,'
        " updated_at = now()",
        (source, str(path), pos.inode, pos.offset, pos.head),
    )


def _head(f: IO[bytes]) -> str:
    here = f.tell()
    f.seek(0)
    first = f.readline()
    f.seek(here)
    return first.decode("utf-8", "replace").rstrip("\r\n") if first.endswith(b"\n") else ""


def _find_by_inode(folder: Path, inode: int) -> Path | None:
    for candidate in folder.iterdir():
        try:
            if candidate.is_file() and candidate.stat().st_ino == inode:
                return candidate
        except OSError:
            continue
    return None


class Follower:
    """Give it an autocommit connection (or one inside a transaction you own): each batch is a
    `transaction()` block, which on a connection already in an implicit transaction would only
    be a savepoint."""

    def __init__(
        self,
        conn: psycopg.Connection[Any],
        path: Path,
        *,
        source: str,
        on_batch: Callable[[IngestResult], None] | None = None,
    ) -> None:
        self.conn, self.path, self.source, self.on_batch = conn, path, source, on_batch
        self.members = Members()
        self.total = IngestResult()

    def run(self, stop: threading.Event, poll_s: float = 0.5) -> IngestResult:
        last = stored(self.conn, self.source, self.path)
        if last is not None and self.path.exists() and self.path.stat().st_ino != last.inode:
            rotated = _find_by_inode(self.path.parent, last.inode)
            if rotated is not None:  # rotated while we were away: finish it first
                with rotated.open("rb") as old:
                    if _head(old) == last.head:
                        old.seek(last.offset)
                        self._drain(old, last)
        while not stop.is_set() and not self.path.exists():
            stop.wait(poll_s)
        if stop.is_set():
            return self.total
        f = self.path.open("rb")
        try:
            pos = Position(os.fstat(f.fileno()).st_ino, 0, _head(f))
            if (
                last is not None
                and last.inode == pos.inode
                and last.head == pos.head
                and os.fstat(f.fileno()).st_size >= last.offset
            ):
                pos.offset = last.offset
            f.seek(pos.offset)
            while not stop.is_set():
                if self._drain(f, pos):
                    continue
                try:
                    now = self.path.stat()
                except FileNotFoundError:
                    stop.wait(poll_s)
                    continue
                if now.st_ino != pos.inode:  # renamed away and re-created: new file
                    f.close()
                    f = self.path.open("rb")
                    pos = Position(os.fstat(f.fileno()).st_ino, 0, _head(f))
                    continue
                # copied and truncated: smaller than where we are, or (written again past our
                # position before we looked) another first line
                if now.st_size < pos.offset or (pos.head and _head(f) != pos.head):
                    f.seek(0)
                    pos.offset, pos.head = 0, _head(f)
                    continue
                stop.wait(poll_s)
        finally:
            f.close()
        return self.total

    def _drain(self, f: IO[bytes], pos: Position) -> bool:
        """Store every complete line from the current position; False when there was none."""
        f.seek(pos.offset)
        data = f.read(CHUNK)
        end = data.rfind(b"\n")
        if end < 0:
            return False
        chunk = data[: end + 1]
        if not pos.head:
            pos.head = _head(f)
        lines = chunk.decode("utf-8", "replace").splitlines()
        made: list[dict[str, Any]] = []
        raws: list[str] = []
        for item in _file_lines(lines, 0):
            if isinstance(item, Problem):
                self.total.rejected += 1
                continue
            assert isinstance(item, Line)
            for e in events(item, self.source, self.members):
                made.append(e)
                raws.append(item.raw)
        with self.conn.transaction():
            result = ingest(self.conn, made, raws=raws) if made else IngestResult()
            pos.offset += len(chunk)
            _save(self.conn, self.source, self.path, pos)
        self.total.add(result)
        if self.on_batch is not None:
            self.on_batch(self.total)
        return True
