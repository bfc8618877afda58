"""Where items are written: one JSON Lines file per site and run.

A file is written as ``OUTPUT_DIR/<site>/posts-<UTC time>-<run id>.jsonl.part`` and renamed to
``.jsonl`` when the run closes it, so a complete ``.jsonl`` is never half-written.
"""

from __future__ import annotations

import json
import os
import secrets
from datetime import UTC, datetime
from pathlib import Path
from typing import Any


def new_run_id() -> str:
    """Short and random, so that runs and workers never collide."""
    return secrets.token_hex(4)


def run_stamp(moment: datetime | None = None) -> str:
    """``20261129T041500Z``."""
    return (moment or datetime.now(UTC)).astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


class JsonLinesFile:
    """One JSON object a line, UTF-8, flushed line by line; fsynced and renamed on close."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.part_path = path.with_name(path.name + ".part")
        self.part_path.parent.mkdir(parents=True, exist_ok=True)
        self._file = self.part_path.open("w", encoding="utf-8")
        self.count = 0

    def write(self, record: dict[str, Any]) -> None:
        self._file.write(json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n")
        self._file.flush()
        self.count += 1

    def close(self) -> Path:
        self._file.flush()
        os.fsync(self._file.fileno())
        self._file.close()
        self.part_path.replace(self.path)
        directory = os.open(self.path.parent, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)
        return self.path
