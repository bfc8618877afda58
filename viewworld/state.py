"""Crawl state per site, kept between runs in ``STATE_DIR``: what has been durably written, and a lock.

``STATE_DIR/<site>.json`` holds the high-water mark of ``modified_gmt`` written, every known post id
with the ``modified_gmt`` of the version written, the discovered API root, the authors and terms
fetched (so an hourly run does not fetch them again), when the last deletion sweep ran and the last
run's summary. It is replaced atomically (written aside, fsynced, renamed), and
only after the run's output file is complete, so it never claims a post that is not in a ``.jsonl``.
``STATE_DIR/<site>.lock`` is held (``flock``) until the run has ended the site: a second run for the site is
refused.
"""

from __future__ import annotations

import fcntl
import json
import os
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

STATE_VERSION = 1


class SiteLocked(RuntimeError):
    """Another run holds this site's lock."""


@dataclass
class SiteState:
    site: str
    api_root: str | None = None
    mark: str | None = None
    """The newest ``modified_gmt`` such that every post modified up to it has been written."""
    posts: dict[int, str] = field(default_factory=dict)
    """Post id -> ``modified_gmt`` of the version last written."""
    last_sweep: str | None = None
    last_run: dict[str, Any] = field(default_factory=dict)
    resources: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Authors and terms fetched so far, by collection URL."""
    resources_fetched_at: str | None = None
    """When ``resources`` were last fetched afresh; older than the sweep interval, they are fetched again."""
    retry: dict[int, int] = field(default_factory=dict)
    """Posts written without a linked resource whose request failed for a reason that may pass (a 5xx, a
    timeout): id -> runs that wrote them so. The next runs fetch them again by id, up to ``RETRY_RUNS``."""
    per_page: int | None = None
    """The page size the site was found to allow (a cap below what was asked), used from then on."""

    @property
    def is_new(self) -> bool:
        return self.mark is None and not self.posts

    def sweep_due(self, interval: float, now: datetime) -> bool:
        return _older_than(self.last_sweep, interval, now)

    def resources_fresh(self, interval: float, now: datetime) -> bool:
        return bool(self.resources) and not _older_than(self.resources_fetched_at, interval, now)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["version"] = STATE_VERSION
        data["posts"] = {str(post_id): modified for post_id, modified in sorted(self.posts.items())}
        data["retry"] = {str(post_id): runs for post_id, runs in sorted(self.retry.items())}
        return data

    @classmethod
    def from_json(cls, data: Any) -> SiteState:
        """The state in ``data`` (what :meth:`to_json` made); ``ValueError`` naming what is wrong when it is not one.

        >>> SiteState.from_json({"site": "example.org", "mark": "2024-06-01T00:00:00Z", "posts": {"7": "2024-05-01"}})
        ... # doctest: +ELLIPSIS
        SiteState(site='example.org', api_root=None, mark='2024-06-01T00:00:00Z', posts={7: '2024-05-01'}, ...)
        >>> SiteState.from_json({"site": "example.org", "mark": "yesterday"})
        Traceback (most recent call last):
        ValueError: its mark is no UTC time: 'yesterday'
        """
        if not isinstance(data, dict) or not isinstance(data.get("site"), str):
            raise ValueError("no state: a JSON object with the site's name was expected")
        for name in ("mark", "last_sweep", "resources_fetched_at"):
            if (moment := data.get(name)) is not None and not _is_utc_text(moment):
                raise ValueError(f"its {name.replace('_', ' ')} is no UTC time: {moment!r}")
        for name, kind in (("posts", dict), ("last_run", dict), ("resources", dict), ("api_root", str)):
            if data.get(name) is not None and not isinstance(data[name], kind):
                raise ValueError(f"its {name} is not a JSON {'object' if kind is dict else 'string'}")
        try:
            posts = {int(post_id): modified for post_id, modified in (data.get("posts") or {}).items()}
        except ValueError:
            raise ValueError("its posts are not keyed by post id") from None
        retry = data.get("retry") if isinstance(data.get("retry"), dict) else {}  # a hint: what is not one is dropped
        retry = {int(post_id): runs for post_id, runs in retry.items()
                 if isinstance(post_id, str) and post_id.isascii() and post_id.isdigit() and type(runs) is int}
        per_page = data.get("per_page")
        return cls(site=data["site"], api_root=data.get("api_root"), mark=data.get("mark"), posts=posts,
                   last_sweep=data.get("last_sweep"), last_run=data.get("last_run") or {},
                   resources=data.get("resources") or {}, resources_fetched_at=data.get("resources_fetched_at"),
                   retry=retry, per_page=per_page if type(per_page) is int and 1 <= per_page <= 100 else None)


def _is_utc_text(value: Any) -> bool:
    try:
        parse_utc(value)
    except (TypeError, ValueError, AttributeError):
        return False
    return True


def _older_than(moment: str | None, seconds: float, now: datetime) -> bool:
    """Whether ``moment`` is ``seconds`` old or more, or never was; a moment in the future (saved while this
    host's clock ran ahead) counts as old: it would otherwise hold off sweeps until the clock caught up.

    >>> now = datetime(2024, 6, 1, tzinfo=UTC)
    >>> [_older_than(moment, 86400, now) for moment in (None, "2024-05-31T12:00:00Z", "2024-07-01T00:00:00Z")]
    [True, False, True]
    """
    if moment is None:
        return True
    age = now - parse_utc(moment)
    return age >= timedelta(seconds=seconds) or age < timedelta(0)


def parse_utc(value: str) -> datetime:
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def utc_text(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# Locks this process holds, by lock file: the crawl command takes them before the crawl starts (so
# that a second run exits before it opens anything), and the spider finds them taken by itself.
_HELD_LOCKS: dict[Path, int] = {}


class StateStore:
    save_errors: tuple[type[Exception], ...] = (OSError,)  # what :meth:`save` raises when it cannot save

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    @property
    def location(self) -> str:
        return str(self.directory)

    def path(self, site: str) -> Path:
        return self.directory / f"{site}.json"

    def load(self, site: str) -> SiteState:
        """The site's state; a new one when there is none. A damaged file raises ``ValueError``."""
        path = self.path(site)
        try:
            return SiteState.from_json(json.loads(path.read_text(encoding="utf-8")))
        except FileNotFoundError:
            return SiteState(site)
        except (OSError, ValueError) as error:
            raise ValueError(f"state file {path} cannot be read: {error}") from None

    def save(self, state: SiteState) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        path = self.path(state.site)
        temporary = path.with_name(path.name + ".tmp")
        with temporary.open("w", encoding="utf-8") as file:
            json.dump(state.to_json(), file, separators=(",", ":"))
            file.flush()
            os.fsync(file.fileno())
        temporary.replace(path)
        fsync_directory(self.directory)

    def lock(self, site: str) -> None:
        """Takes the site's lock until :meth:`unlock`, :meth:`unlock_all` or the end of this process (a SIGKILL too:
        the kernel releases it); raises :class:`SiteLocked` when another process holds it."""
        path = (self.directory / f"{site}.lock").resolve()
        if path in _HELD_LOCKS:
            return
        self.directory.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(descriptor)
            raise SiteLocked(f"another run holds the lock {path}") from None
        os.ftruncate(descriptor, 0)
        os.write(descriptor, f"{os.getpid()}\n".encode())
        _HELD_LOCKS[path] = descriptor

    def unlock(self, site: str) -> None:
        _release((self.directory / f"{site}.lock").resolve())

    def unlock_all(self) -> None:
        for path in [path for path in _HELD_LOCKS if path.parent == self.directory.resolve()]:
            _release(path)


def _release(lock_path: Path) -> None:
    descriptor = _HELD_LOCKS.pop(lock_path, None)
    if descriptor is not None:
        fcntl.flock(descriptor, fcntl.LOCK_UN)
        os.close(descriptor)


def fsync_directory(directory: Path) -> None:
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
