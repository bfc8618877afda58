"""``wpposts`` on several machines, on scrapy-redis and a real Redis (``-s REDIS_URL=redis://host:port/db``).

What goes through the shared queue is the *site*: scrapy-redis' scheduler queue (a sorted set in
Redis) holds one claim per site to crawl (claims bypass the duplicate filter scrapy-redis' scheduler
needs, in Redis too: a site is claimed again on every run, and its pages never reach it). The worker
that pops a claim crawls that site whole: its posts pages and the ``include=`` batches of linked
resources go through a local queue, because the posts waiting for a batch are in that worker's
memory. One worker per site at a time also makes per-site politeness (concurrency, delay) hold
across the cluster, and no post can appear in two workers' output of one crawl.

What scrapy-redis lacks, built here on Redis primitives:

- **claims and in-flight recovery**: claiming a site takes its lock (``SET NX`` with a TTL) and
  records ``site -> worker`` in a hash; every worker heartbeats; the sites of a worker whose heartbeat
  stopped (SIGKILL, a dead machine) go back to the queue; a site the worker is done with is handed back
  at once (the spider's ``hand_back``: its output completed, its state saved, its entry and lock released),
  not when the worker exits;
- **the shared idle condition**: a worker closes only once the queue has been empty, no worker has had
  work in flight and no dead worker's site is unrecovered, for ``MAX_IDLE_TIME_BEFORE_CLOSE`` seconds
  (scrapy-redis' own counts idle time per worker, and closes a worker while others are mid-crawl);
- **state in Redis**: high-water marks, known ids and locks (:class:`RedisStateStore`), so that any
  worker can run any site's next incremental crawl.
"""

from __future__ import annotations

import json
import logging
import os
import re
import socket
import time
import uuid
import warnings
from typing import TYPE_CHECKING, Any

from scrapy import Request, signals
from scrapy.exceptions import DontCloseSpider, NotConfigured, ScrapyDeprecationWarning
from scrapy.utils.asyncio import create_looping_call

from viewworld.arguments import SiteOptions
from viewworld.credentials import CredentialsError, credentials_for_sites
from viewworld.sites import LOCKED, Site
from viewworld.state import SiteLocked, SiteState

if TYPE_CHECKING:
    from scrapy import Spider
    from scrapy.crawler import Crawler
    from scrapy.settings import BaseSettings

# scrapy-redis 0.9.1 still passes `spider` to Scrapy APIs that deprecated it; its warnings only.
warnings.filterwarnings("ignore", category=ScrapyDeprecationWarning, module=r"scrapy_redis(\..*)?")

logger = logging.getLogger(__name__)

PREFIX = "viewworld"
LOCK_TTL_MS = 120_000
HEARTBEAT_SECONDS = 1.0
# Seconds a call to Redis may take: one that hangs (a network partition) would stop the reactor, and with it the
# heartbeat, until the kernel gives up on the connection (~15 minutes).
REDIS_TIMEOUT = 5.0
# Both clients' (ours, and scrapy-redis' scheduler's, whose own wait 30 s and once more on a timeout).
REDIS_OPTIONS = {"socket_timeout": REDIS_TIMEOUT, "socket_connect_timeout": REDIS_TIMEOUT, "retry_on_timeout": False}


def configure(settings: BaseSettings) -> None:
    """Switches a crawl to the cluster components when ``REDIS_URL`` is set (called from the spider's
    ``update_settings``, which sees ``-s`` values that ``settings.py`` cannot)."""
    if not settings.get("REDIS_URL"):
        return
    settings.set("SCHEDULER", "viewworld.cluster_scheduler.ClusterScheduler", priority="spider")
    settings.set("DUPEFILTER_CLASS", "scrapy_redis.dupefilter.RFPDupeFilter", priority="spider")
    settings.set("SCHEDULER_PERSIST", True, priority="spider")
    settings.set("SCHEDULER_QUEUE_CLASS", "scrapy_redis.queue.PriorityQueue", priority="spider")
    settings.set("SCHEDULER_QUEUE_KEY", f"{PREFIX}:%(spider)s:sites", priority="spider")
    settings.set("SCHEDULER_DUPEFILTER_KEY", f"{PREFIX}:%(spider)s:dupefilter", priority="spider")
    settings.set("REDIS_PARAMS", REDIS_OPTIONS | settings.getdict("REDIS_PARAMS"), priority="spider")
    extensions = dict(settings.getdict("EXTENSIONS"))
    extensions["viewworld.cluster.ClusterCoordinator"] = 600
    settings.set("EXTENSIONS", extensions, priority="spider")


def redis_client(settings: BaseSettings, **options: Any) -> Any:
    """The Redis that ``REDIS_URL`` names, as scrapy-redis connects to it (``options``: the client's own; calls
    time out after ``REDIS_TIMEOUT`` seconds unless they say otherwise)."""
    from scrapy_redis.connection import get_redis  # noqa: PLC0415 (a crawl on one machine never loads Redis)

    return get_redis(url=settings["REDIS_URL"], **(REDIS_OPTIONS | options))


def shown_redis_url(url: str) -> str:
    """``REDIS_URL`` as a message may show it: scheme, host, port and database (a socket's path), never its
    password (before an ``@``, or a ``password=`` in its query), whatever the password holds.

    >>> shown_redis_url("redis://:s3cret@127.0.0.1:6379/0"), shown_redis_url("redis://:ab/cd@host/0")
    ('redis://127.0.0.1:6379/0', 'redis://host/0')
    >>> shown_redis_url("redis://:p@ss/wd@host:6379/0?x"), shown_redis_url("redis://h st/0")
    ('redis://host:6379/0', 'redis://(unreadable)')
    >>> shown_redis_url("redis://host/0?password=s3cret"), shown_redis_url("unix://:pw@/run/redis.sock?db=2")
    ('redis://host/0', 'unix:///run/redis.sock')
    """
    scheme, _, rest = url.partition("://")
    if "@" in rest:
        rest = rest.rpartition("@")[2]  # what is before the last @ is user and password, "/" and "@" in it or not
    rest = rest.partition("?")[0].partition("#")[0]
    if scheme == "unix":
        return f"unix://{rest}" if re.fullmatch(r"[\w./-]*", rest) else "unix://(unreadable)"
    host, _, path = rest.partition("/")
    if not re.fullmatch(r"[\w.-]*(?::\d*)?|\[[0-9a-fA-F:.]*\](?::\d*)?", host) or not re.fullmatch(r"\d*", path):
        return f"{scheme}://(unreadable)"
    return f"{scheme}://{host}" + (f"/{path}" if path else "")


def _scrubbed(message: str, url: str, instead: str) -> str:
    """``message`` (an error of Redis' client), or ``instead`` when it shows a piece of the password in ``url``:
    after the ``:`` of what comes before its last ``@``, or a ``password=`` of its query (a port "not a number"
    shows what follows a ":" up to a "/").

    >>> _scrubbed("Port could not be cast to integer value as 'ab'", "redis://:ab/cd@host/0", "not a Redis URL")
    'not a Redis URL'
    >>> _scrubbed("Error 111 connecting to redis:6379.", "redis://redis:s3cret@redis:6379?db=1", "no answer")
    'Error 111 connecting to redis:6379.'
    """
    rest = url.partition("://")[2]
    passwords = [rest.rpartition("@")[0].partition(":")[2]]
    passwords += [value for name, _, value in (pair.partition("=") for pair in rest.partition("?")[2].split("&"))
                  if name == "password"]
    pieces = {piece for password in passwords for piece in re.split(r"[:/@?#&]", password) if piece}
    return instead if any(piece in message for piece in pieces) else message


def redis_problem(settings: BaseSettings, timeout: float = 10.0) -> tuple[bool, str] | None:
    """Why the Redis of ``REDIS_URL`` cannot carry a cluster: (whether the URL itself is wrong, what is wrong),
    or None when it answers a PING within ``timeout`` seconds. What is wrong never shows the URL's password."""
    from redis.exceptions import RedisError  # noqa: PLC0415 (a crawl on one machine never loads Redis)

    url = str(settings.get("REDIS_URL") or "")
    try:
        client = redis_client(settings, socket_connect_timeout=timeout, socket_timeout=timeout)
    except ValueError as error:
        return True, _scrubbed(str(error), url, "not a Redis URL")
    try:
        client.ping()
    except RedisError as error:
        return False, f"cannot be reached: {_scrubbed(str(error), url, 'no answer')}"
    finally:
        client.close()
    return None


def worker_name() -> str:
    """Unique to this process: a container restarted as PID 1 on the same hostname is not the worker it replaces."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def redis_time(server: Any) -> float:
    """Redis' clock: workers on several machines compare heartbeats by one clock, not each its own."""
    seconds, microseconds = server.time()
    return seconds + microseconds / 1e6


class LockLost(RuntimeError):
    """This worker no longer holds the lock of a site it is crawling: it was taken for dead meanwhile."""


# A site's state is saved only by the worker that holds its lock, in one step with the check: a worker taken for
# dead while it stalled (a VM paused, a network partition) must not overwrite the state of a worker that has
# claimed the site since, nor, once that one is done and the lock gone, the state it saved.
_SAVE_WHILE_LOCKED = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then
    return 0
end
redis.call('PEXPIRE', KEYS[1], ARGV[3])
redis.call('SET', KEYS[2], ARGV[2])
return 1
"""

# A lock is released only by the worker that holds it, in one step with the check.
_UNLOCK_IF_HELD = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
    return redis.call('DEL', KEYS[1])
end
return 0
"""

# A site goes back to the queue in one step: its in-flight entry (if still the given worker's: one live worker only
# puts a dead one's back, and a worker stopping puts back only what no other worker took), the lock that worker may
# hold, the claim queued again.
_RECOVER = """
if redis.call('HGET', KEYS[1], ARGV[1]) ~= ARGV[2] then
    return 0
end
redis.call('HDEL', KEYS[1], ARGV[1])
redis.call('HDEL', KEYS[4], ARGV[1])
if redis.call('GET', KEYS[2]) == ARGV[2] then
    redis.call('DEL', KEYS[2])
end
redis.call('ZADD', KEYS[3], ARGV[3], ARGV[4])
return 1
"""


class RedisStateStore:
    """The same interface as :class:`viewworld.state.StateStore`, with the state in Redis."""

    location = "Redis"

    def __init__(self, server: Any, worker: str) -> None:
        from redis.exceptions import RedisError

        self.server = server
        self.worker = worker
        self.locked: set[str] = set()
        self.save_errors: tuple[type[Exception], ...] = (OSError, RedisError, LockLost)

    def load(self, site: str) -> SiteState:
        data = self.server.get(f"{PREFIX}:state:{site}")
        if data is None:
            return SiteState(site)
        try:
            return SiteState.from_json(json.loads(data))
        except ValueError as error:
            raise ValueError(f"state of {site} in Redis cannot be read: {error}") from None

    def save(self, state: SiteState) -> None:
        lock, data = f"{PREFIX}:lock:{state.site}", json.dumps(state.to_json(), separators=(",", ":"))
        if not self.server.eval(_SAVE_WHILE_LOCKED, 2, lock, f"{PREFIX}:state:{state.site}", self.worker, data,
                                LOCK_TTL_MS):
            holder = self.server.get(lock)
            now = f"worker {holder.decode()} holds it" if holder else "it expired"
            raise LockLost(f"this worker no longer holds the site's lock ({now}): it was taken for dead, and the site "
                           "may have been crawled since")

    def lock(self, site: str) -> None:
        if site in self.locked:
            return
        if not self.server.set(f"{PREFIX}:lock:{site}", self.worker, nx=True, px=LOCK_TTL_MS):
            holder = self.server.get(f"{PREFIX}:lock:{site}")
            raise SiteLocked(f"worker {holder.decode() if holder else '?'} holds the lock of {site}")
        self.locked.add(site)

    def refresh(self) -> None:
        for site in self.locked:
            self.server.pexpire(f"{PREFIX}:lock:{site}", LOCK_TTL_MS)

    def unlock(self, site: str) -> None:
        if site in self.locked:
            self.server.eval(_UNLOCK_IF_HELD, 1, f"{PREFIX}:lock:{site}", self.worker)
            self.locked.discard(site)

    def unlock_all(self) -> None:
        for site in list(self.locked):
            self.unlock(site)


class ClusterCoordinator:
    """Heartbeats, in-flight recovery and the shared idle condition."""

    def __init__(self, crawler: Crawler) -> None:
        if not crawler.settings.get("REDIS_URL"):
            raise NotConfigured
        self.crawler = crawler
        self.server = redis_client(crawler.settings)
        self.max_idle = crawler.settings.getfloat("MAX_IDLE_TIME_BEFORE_CLOSE")
        # A worker whose heartbeat is older than this is dead: its sites go back to the queue.
        self.worker_timeout = crawler.settings.getfloat("CLUSTER_WORKER_TIMEOUT")
        self.idle_since: float | None = None
        self.task: Any = None
        from redis.exceptions import RedisError  # noqa: PLC0415 (a crawl on one machine never loads Redis)

        self.redis_errors: tuple[type[Exception], ...] = (RedisError,)
        crawler.signals.connect(self.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(self.spider_idle, signal=signals.spider_idle)
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ClusterCoordinator:
        return cls(crawler)

    @property
    def spider(self) -> Any:
        return self.crawler.spider

    @property
    def worker(self) -> str:
        return self.spider.worker

    def spider_opened(self, spider: Spider) -> None:
        spider.coordinator = self
        self.heartbeat()
        self.task = create_looping_call(self.heartbeat)
        self.task.start(HEARTBEAT_SECONDS, now=False)

    def heartbeat(self) -> None:
        """Every second: says this worker is alive (first: whatever claiming does, a live worker is never taken
        for dead), renews its locks, and claims queued sites it has room for (an idle engine asks its scheduler
        only every few seconds), but not once the crawl is closing. A Redis that does not answer for a while is
        said, and the heartbeat goes on (stopped, this worker would be taken for dead and its sites crawled twice)."""
        try:
            busy = self.busy()
            self.beat(busy)
            self.spider.store.refresh()
        except self.redis_errors as error:
            logger.warning("Redis did not answer the heartbeat (%s); trying again in a second", error)
            return
        except Exception:  # stopped, it would have the worker taken for dead: its sites crawled twice at once
            logger.exception("the heartbeat failed; it goes on")
            return
        if busy:
            self.idle_since = None
        try:
            for request in self.spider.cluster_scheduler.claim_sites():
                self.crawler.engine.crawl(request)
        except self.redis_errors as error:
            logger.warning("Redis did not answer while sites were claimed (%s); trying again in a second", error)
        except Exception:  # a claim nothing foresaw (one queued by another version): the heartbeat must go on
            logger.exception("a claim failed; the heartbeat goes on")

    def beat(self, busy: bool) -> None:
        self.server.hset(f"{PREFIX}:workers", self.worker,
                         json.dumps({"at": redis_time(self.server), "busy": busy}))

    def busy(self) -> bool:
        return bool(self.crawler.engine.downloader.active or self.spider.active_sites())

    def claimed(self, site: str, options: SiteOptions | None) -> None:
        """Records that this worker crawls ``site`` until it is done with it (a dead worker's entries are
        put back in the queue, with the arguments of its claim), and says at once that it is busy."""
        transaction = self.server.pipeline(transaction=True)  # both, or neither: a recovery never sees one alone
        transaction.hset(f"{PREFIX}:claims", site, json.dumps((options or SiteOptions()).to_json()))
        transaction.hset(f"{PREFIX}:inflight", site, self.worker)
        transaction.execute()
        self.beat(True)

    def released(self, site: str) -> None:
        """This worker is done with ``site``: it is no longer its to recover should the worker die. Called while
        the worker still holds the site's lock, so that no other worker can have claimed it meanwhile."""
        if self.server.hget(f"{PREFIX}:inflight", site) == self.worker.encode():
            self.server.hdel(f"{PREFIX}:inflight", site)
            self.server.hdel(f"{PREFIX}:claims", site)

    def recover_dead_workers(self) -> int:
        """Puts the sites of workers whose heartbeat stopped back in the queue; returns how many. (A worker says
        it is alive before it claims its first site: one with a site in flight and no heartbeat is dead.)"""
        inflight = self.server.hgetall(f"{PREFIX}:inflight")  # before the heartbeats: none newer than they are
        now = redis_time(self.server)
        workers = {name.decode(): json.loads(value) for name, value in self.server.hgetall(f"{PREFIX}:workers").items()}
        dead = {name for name, beat in workers.items() if now - beat["at"] > self.worker_timeout}
        recovered = 0
        for site, worker in inflight.items():
            worker_name, origin = worker.decode(), site.decode()
            if worker_name in dead or worker_name not in workers:
                if self.requeue(origin, worker_name):
                    logger.warning("worker %s stopped while crawling %s: the site goes back to the queue, with "
                                   "the arguments it was claimed with", worker_name, origin)
                    recovered += 1
        for name in dead:
            self.server.hdel(f"{PREFIX}:workers", name)
        return recovered

    def requeue(self, origin: str, worker: str, options: SiteOptions | None = None) -> bool:
        """Puts ``origin`` back in the queue if its in-flight entry is ``worker``'s, in one step with removing that
        entry and the lock ``worker`` may hold (see ``_RECOVER``); whether it did."""
        queue = self.spider.cluster_scheduler.queue
        if options is None:  # the arguments its claim came with
            options = SiteOptions.from_json(json.loads(self.server.hget(f"{PREFIX}:claims", origin) or "null"))
        claim = self.spider.claim_request(origin, options)
        lock = f"{PREFIX}:lock:{self.spider.state_key_of(origin)}"
        return bool(self.server.eval(_RECOVER, 4, f"{PREFIX}:inflight", lock, queue.key, f"{PREFIX}:claims", origin,
                                     worker, -claim.priority, queue._encode_request(claim)))

    def cluster_idle(self) -> bool:
        """No site queued, no dead worker's site unrecovered, no live worker with work in flight."""
        if self.recover_dead_workers():
            return False
        if self.server.zcard(f"{PREFIX}:{self.spider.name}:sites"):
            return False
        beats = [json.loads(value) for name, value in self.server.hgetall(f"{PREFIX}:workers").items()
                 if name.decode() != self.worker]
        return not any(beat["busy"] for beat in beats)

    def spider_idle(self) -> None:
        try:
            idle = self.cluster_idle()
        except self.redis_errors as error:  # a Redis restarting: the worker waits for it, it does not close
            logger.warning("Redis did not answer (%s); the worker waits", error)
            raise DontCloseSpider from None
        if not idle:
            self.idle_since = None
            raise DontCloseSpider
        now = time.monotonic()
        if self.idle_since is None:
            self.idle_since = now
        if now - self.idle_since < self.max_idle:
            raise DontCloseSpider

    def spider_closed(self, spider: Spider, reason: str) -> None:
        """The sites this worker had not finished (SIGTERM, Scrapyd's cancel: the crawl closed before them) go
        back to the queue for another worker, or this one restarted; then they are no longer this worker's."""
        if self.task is not None and self.task.running:
            self.task.stop()
        try:
            for origin in self.spider.claimed_sites():
                if self.spider.unfinished(origin) and self.requeue(origin, self.worker,
                                                                   self.spider.sites[origin].options):
                    logger.warning("%s: not finished when the crawl closed (%s): the site goes back to the queue",
                                   origin, reason)
                self.released(origin)
            self.server.hdel(f"{PREFIX}:workers", self.worker)
        except self.redis_errors as error:
            logger.error("Redis did not answer as the worker closed (%s): its unfinished sites go back to the queue "
                         "once it is taken for dead", error)


class ClusterClaims:
    """The spider's side of the cluster (``self`` is a :class:`~viewworld.spiders.wpposts.WpPostsSpider`):
    claims of sites taken from the shared queue."""

    sites: dict[str, Site]
    crawler: Any
    assembler: Any
    coordinator: ClusterCoordinator
    prepare: Any
    first_requests: Any
    site_done: Any
    hand_back: Any
    unendable: set[str]
    parse_home: Any

    def claim_request(self, origin: str, options: SiteOptions | None = None) -> Request:
        """A claim of ``origin`` for the shared queue, with what the crawl of it asks (none: the defaults)."""
        meta = {"claim": True, "site": origin, "options": (options or SiteOptions()).to_json()}
        return Request(origin + "/", meta=meta, dont_filter=True, callback=self.parse_home)

    def claim(self, origin: str, options: object = None) -> list[Request]:
        """This worker takes a site from the shared queue; nothing when another worker holds it, or when this one
        is crawling it (the claim was queued while that crawl was on: it is that crawl's)."""
        current = self.sites.get(origin)
        if current is not None and current.failure != LOCKED:
            if not self.site_done(current) or origin in self.unendable:
                return []
            self.hand_back(current)  # done, and not handed back yet: this claim is the next crawl
        site = Site(origin, options=SiteOptions.from_json(options))
        try:
            site.credentials = credentials_for_sites((origin,), single_site_variables=False).get(origin)
        except CredentialsError as error:  # the file changed since the worker started: said, and this claim given up
            self.sites[origin] = site
            self.give_up(site, str(error))
            return []
        self.sites[origin] = site
        try:
            if not self.prepare(site):
                return []
            self.coordinator.claimed(origin, site.options)
            return list(self.first_requests(site))
        except Exception as error:  # Redis did not answer, or nothing foresaw it: this claim is lost, not the state
            logger.exception("%s: cannot be claimed", site.url)
            self.give_up(site, f"cannot be claimed: {error!r}")
            return []

    def unfinished(self, origin: str) -> bool:
        """Whether this worker's crawl of ``origin`` closed before its end (not given up, not done)."""
        site = self.sites.get(origin)
        return site is not None and site.failure is None and not self.site_done(site)

    def claimed_sites(self) -> list[str]:
        return [origin for origin, site in self.sites.items() if site.failure != LOCKED]

    def active_sites(self) -> int:
        """Sites with work left in this worker: pages or listings in flight, or posts waiting."""
        return sum(1 for site in self.sites.values() if site.failure is None and (
            site.listed is None or site.pages_in_flight or site.listing_in_flight
            or self.assembler.waiting_by_site[site.origin]))

    @staticmethod
    def state_key_of(origin: str) -> str:
        return Site(origin).state_key
