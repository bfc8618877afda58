"""Where items are written: one JSON Lines file per site and run.

A file is written as ``OUTPUT_DIR/<site>/posts-<UTC time>-<run id>.jsonl.part``, flushed every few lines,
and fsynced and renamed to ``.jsonl`` when the site ends, so a ``.jsonl`` is never half-written. A
run killed before that leaves the ``.part``; the next run of the site completes it. A run holds an
``flock`` on each ``.part`` it writes (the kernel lets go of it when the process dies, however it dies):
a ``.part`` that is locked belongs to a live run, a one-off run of the site say, and is left alone.
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
import secrets
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, NamedTuple

import orjson

from viewworld.state import fsync_directory

if TYPE_CHECKING:
    from collections.abc import Iterator


def new_run_id() -> str:
    """Short and random, so that runs and workers never collide."""
    return secrets.token_hex(4)


def run_stamp(moment: datetime | None = None) -> str:
    """``20261129T041500Z``."""
    return (moment or datetime.now(UTC)).astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


FLUSH_EVERY = 32
# With io's default 8 KB buffer, lines of 4 KB took a write() a post; 32 KB takes one for 8. Each site of a run
# keeps its file, and its buffer, until the site ends.
BUFFER_BYTES = 32 * 1024


def json_line(record: dict[str, Any]) -> bytes:
    """One compact JSON line in UTF-8. orjson writes one in a tenth of the time of Python's json; what it
    refuses (a lone surrogate, an integer past 64 bits, a key that is no string) Python's json writes,
    escaping to ASCII so that the line is valid UTF-8 all the same.

    >>> json_line({"title": "Café", "id": 7})
    b'{"title":"Caf\\xc3\\xa9","id":7}\\n'
    >>> json_line({"title": "\\ud800"})
    b'{"title":"\\\\ud800"}\\n'
    """
    try:
        return orjson.dumps(record, option=orjson.OPT_APPEND_NEWLINE)
    except TypeError:
        return json.dumps(record, separators=(",", ":")).encode() + b"\n"


class JsonLinesFile:
    """One JSON object a line, UTF-8, flushed every few lines; fsynced and renamed on close."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.part_path = path.with_name(path.name + ".part")
        self.part_path.parent.mkdir(parents=True, exist_ok=True)
        # Locked before it has the name recovery looks for, so that no recovery ever sees it unlocked.
        new_path = self.part_path.with_name(self.part_path.name + ".new")
        self._file = new_path.open("wb", buffering=BUFFER_BYTES)
        fcntl.flock(self._file.fileno(), fcntl.LOCK_EX)
        new_path.replace(self.part_path)
        self.count = 0
        self.broken = False
        """A write failed (a full disk): part of a line may be in the file, which stays a ``.part``."""

    def write(self, record: dict[str, Any]) -> None:
        try:
            self._file.write(json_line(record))
        except OSError:
            self.broken = True
            raise
        self.count += 1
        # A dead run's lines are recovered from the .part file, but nothing counts as written before the
        # run ends: flushing every few lines, not every line, loses nothing and saves a syscall a post.
        if self.count % FLUSH_EVERY == 0:
            self._file.flush()

    def close(self) -> Path:
        """Renamed while still locked: a recovery never takes a finished file for a dead run's. A file a write
        failed on is not: it stays a ``.part``, its whole lines recovered by the next run (OSError raised)."""
        if self.broken:
            try:
                self._file.close()
            except OSError:
                pass  # what the buffer held is lost, as the write that failed said
            raise OSError(errno.EIO, f"a write failed: left as {self.part_path.name}, for the next run to recover")
        try:
            self._file.flush()
            os.fsync(self._file.fileno())
            self.part_path.replace(self.path)
        finally:
            self._file.close()
        fsync_directory(self.path.parent)
        return self.path


class Recovered(NamedTuple):
    path: Path
    """The completed ``.jsonl``."""
    records: int
    versions: dict[int, str]
    """Per post id, the ``modified_gmt`` of its last line: what the state can count as written. A post whose
    last line is its tombstone is not in it (the state keeps what it knew: the next sweep says it again, a
    duplicate, where a stale file could otherwise make the state forget a post written since)."""
    retry: frozenset[int] = frozenset()
    """Posts whose last line lacks a linked resource that may come next time (an ``errors`` entry with
    ``retry``): the state's ``retry`` takes them."""


def recover_part_files(directory: Path) -> Iterator[Recovered]:
    """Completes the ``.part`` files a dead run left (killed before it could rename them): their whole
    lines are kept, a torn last line dropped, and the file renamed to ``.jsonl``. Yields what each
    completed file holds as soon as it is complete, so that the state can count it as written even if a
    later file cannot be completed.

    A ``.part`` a live run is still writing (it holds its ``flock``) is left alone. The file is read a line
    at a time (a first crawl of a big site killed late leaves gigabytes), and written under a temporary name
    that is fsynced, then renamed: like a live run's, a ``.jsonl`` is never half-written.
    """
    for part_path in sorted(directory.glob("*.jsonl.part")):
        try:
            part = part_path.open("rb")
        except FileNotFoundError:  # finished (renamed) since the listing
            continue
        with part:
            try:
                fcntl.flock(part.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                if os.stat(part_path).st_ino != os.fstat(part.fileno()).st_ino:
                    continue
            except (BlockingIOError, FileNotFoundError):  # a live run's, or finished meanwhile
                continue
            path = part_path.with_name(part_path.name.removesuffix(".part"))
            temporary = path.with_name(path.name + ".recovering")
            try:
                records, versions, retry = _copy_records(part, temporary)
                temporary.replace(path)
            except OSError:
                temporary.unlink(missing_ok=True)  # a disk full keeps no half copy; the .part is still there
                raise
            part_path.unlink()
        fsync_directory(directory)
        yield Recovered(path, records, versions, frozenset(retry))


def _copy_records(part: BinaryIO, temporary: Path) -> tuple[int, dict[int, str], set[int]]:
    records, versions, retry = 0, {}, set()
    with temporary.open("wb") as file:
        for line in part:
            try:
                record = json.loads(line)
            except ValueError:
                continue
            if isinstance(record, dict) and isinstance(record.get("id"), int):
                file.write(line if line.endswith(b"\n") else line + b"\n")
                records += 1
                modified = record.get("modified_gmt")
                if record.get("deleted") is True:
                    versions.pop(record["id"], None)
                elif isinstance(modified, str) and modified:
                    versions[record["id"]] = modified
                errors = record.get("errors")
                if isinstance(errors, list) and any(isinstance(e, dict) and e.get("retry") is True for e in errors):
                    retry.add(record["id"])
                else:
                    retry.discard(record["id"])
        file.flush()
        os.fsync(file.fileno())
    return records, versions, retry
