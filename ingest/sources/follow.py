"""Tailing a live queue_log, resuming exactly where the last committed batch ended.

The follower is a source: it yields the items of each read and then a `Position` (inode, byte
offset, first line, line count, and what the lines said about members and pauses); the
committer stores the items and the position in one transaction, so a restart (even after a
kill) resumes at the first line not yet stored with the same knowledge of who is paused: nothing
lost, nothing counted twice, no false `available` after a restart.

A file is known by its inode and its first line. logrotate either renames the file and creates
a new one (the old one is read to its end, found by inode if the follower was down meanwhile,
then the new one from the start) or copies and truncates it (the size drops below the
position: read from the start).

One bad line never stops it: a line that cannot be read is rejected with its line number and
reason, and a line longer than a whole read (1 MiB) is skipped to its end and reported.
Lines of the second being written are held back for up to `HOLD_S`, so that a second's lines
are read together (their agent states are made consistent: see `queue_log.same_second`)."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import psycopg

from ingest.sources.base import Item, Position, Rejected
from ingest.sources.commit import Committer, Summary, stored_position
from ingest.sources.normalize import Normalizer
from ingest.sources.queue_log import Members, _file_lines
from ingest.sources.queue_log_import import items_of

CHUNK = 1 << 20
HOLD_S = 2.0


@dataclass
class _Pos:
    inode: int
    offset: int = 0
    head: str = ""
    line: int = 0  # lines before `offset`, for "line N" in rejects
    skipping: bool = False  # inside a line longer than CHUNK
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def load(cls, saved: dict[str, Any]) -> _Pos | None:
        if "inode" not in saved:
            return None
        return cls(
            int(saved["inode"]),
            int(saved.get("offset", 0)),
            str(saved.get("head", "")),
            int(saved.get("line", 0)),
            bool(saved.get("skipping", False)),
        )


def _head(f: IO[bytes]) -> str:
    here = f.tell()
    f.seek(0)
    first = f.readline(CHUNK)
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


def _epoch_of(line: bytes) -> bytes:
    return line.split(b"|", 1)[0].strip()


class QueueLogFollower:
    """`saved` is the position last stored for (source, path): `commit.stored_position`."""

    def __init__(
        self,
        path: Path,
        *,
        source: str,
        stop: threading.Event,
        saved: dict[str, Any] | None = None,
        static: dict[str, list[str]] | None = None,
        poll_s: float = 0.5,
        chunk: int = CHUNK,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.path, self.name, self.stop = path, source, stop
        self.saved = saved or {}
        self.members = Members.with_static(static)
        if "members" in self.saved:
            self.members.restore(self.saved["members"])
        self.poll_s, self.chunk, self.clock = poll_s, chunk, clock
        self._held: tuple[int, float] | None = None  # (offset, since) of lines held back

    @property
    def key(self) -> str:
        return str(self.path)

    def _position(self, pos: _Pos) -> Position:
        value = {
            "path": str(self.path),
            "inode": pos.inode,
            "offset": pos.offset,
            "head": pos.head,
            "line": pos.line,
            "skipping": pos.skipping,
            "members": self.members.to_json(),
        }
        return Position(value, self.key)

    def items(self) -> Iterator[Item]:
        last = _Pos.load(self.saved)
        if last is not None and self.path.exists() and self.path.stat().st_ino != last.inode:
            rotated = _find_by_inode(self.path.parent, last.inode)
            if rotated is not None:  # rotated while we were away: finish it first
                with rotated.open("rb") as old:
                    if _head(old) == last.head:
                        while made := self._drain(old, last, final=True):
                            yield from made
        while not self.stop.is_set() and not self.path.exists():
            self.stop.wait(self.poll_s)
        if self.stop.is_set():
            return
        f = self.path.open("rb")
        try:
            st = os.fstat(f.fileno())
            pos = _Pos(st.st_ino, 0, _head(f))
            if (
                last is not None
                and last.inode == pos.inode
                and last.head == pos.head
                and st.st_size >= last.offset
            ):
                pos = last
            while not self.stop.is_set():
                made = self._drain(f, pos)
                if made:
                    yield from made
                    continue
                try:
                    now = self.path.stat()
                except FileNotFoundError:
                    self.stop.wait(self.poll_s)
                    continue
                if now.st_ino != pos.inode:  # renamed away and re-created: finish, then new
                    while made := self._drain(f, pos, final=True):
                        yield from made
                    f.close()
                    f = self.path.open("rb")
                    pos = _Pos(os.fstat(f.fileno()).st_ino, 0, _head(f))
                    continue
                # copied and truncated: smaller than where we are, or (written again past our
                # position before we looked) another first line
                if now.st_size < pos.offset or (pos.head and _head(f) != pos.head):
                    pos.offset, pos.line, pos.skipping, pos.head = 0, 0, False, _head(f)
                    continue
                self.stop.wait(self.poll_s)
        finally:
            f.close()

    def _drain(self, f: IO[bytes], pos: _Pos, *, final: bool = False) -> list[Item]:
        """The items of the complete lines from the current position, then the position after
        them; [] when there was nothing to read."""
        f.seek(pos.offset)
        data = f.read(self.chunk)
        if not data:
            return []
        if not pos.head:
            pos.head = _head(f)
        if pos.skipping:  # the rest of an over-long line
            nl = data.find(b"\n")
            if nl < 0:
                pos.offset += len(data)
            else:
                pos.offset += nl + 1
                pos.line += 1
                pos.skipping = False
            return [self._position(pos)]
        end = data.rfind(b"\n")
        if end < 0:
            if len(data) < self.chunk:
                return []  # a line being written
            pos.skipping = True
            pos.offset += len(data)
            preview = data[:120].decode("utf-8", "replace")
            return [
                Rejected(
                    f"line {pos.line + 1}",
                    f"longer than {self.chunk} bytes: skipped to its end",
                    preview,
                ),
                self._position(pos),
            ]
        lines = data[: end + 1].split(b"\n")[:-1]
        take = len(lines) if final else self._ready(lines, pos.offset, full=len(data) == self.chunk)
        if take == 0:
            return []
        texts = [raw.decode("utf-8", "replace") for raw in lines[:take]]
        out = list(items_of(_file_lines(texts, pos.line), self.name, self.members))
        pos.offset += sum(len(raw) + 1 for raw in lines[:take])
        pos.line += take
        out.append(self._position(pos))
        return out

    def _ready(self, lines: list[bytes], offset: int, *, full: bool) -> int:
        """How many lines to read now: all but those of the last second while that second may
        still get lines (it is now, or the read was cut by the chunk), for at most HOLD_S."""
        last = _epoch_of(lines[-1])
        trailing = 0
        for raw in reversed(lines):
            if _epoch_of(raw) != last:
                break
            trailing += 1
        now = self.clock()
        try:
            recent = int(last) >= now - 1
        except ValueError:
            recent = False
        if not (recent or full):
            self._held = None
            return len(lines)
        if self._held is None or self._held[0] != offset:
            self._held = (offset, now)
        if now - self._held[1] >= HOLD_S:
            self._held = None
            return len(lines)
        return len(lines) - trailing


class Follower:
    """A follower and its committer: `run` until `stop` is set; `summary` grows as it goes.
    Give it an autocommit connection (each batch is a real `transaction()`)."""

    def __init__(
        self,
        conn: psycopg.Connection[Any],
        path: Path,
        *,
        source: str,
        static: dict[str, list[str]] | None = None,
        normalizer: Normalizer | None = None,
        progress: Callable[[Summary], None] | None = None,
    ) -> None:
        self.conn, self.path, self.source, self.static = conn, path, source, static
        self.committer = Committer(conn, source, normalizer=normalizer, progress=progress)
        self.summary = self.committer.summary

    def run(self, stop: threading.Event, poll_s: float = 0.5) -> Summary:
        saved = stored_position(self.conn, self.source, str(self.path))
        tail = QueueLogFollower(
            self.path,
            source=self.source,
            stop=stop,
            saved=saved,
            static=self.static,
            poll_s=poll_s,
        )
        return self.committer.run(tail.items(), at_positions=True)
