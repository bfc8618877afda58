"""Downloader middlewares."""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING, Any

from scrapy.downloadermiddlewares.retry import get_retry_request
from scrapy.downloadermiddlewares.robotstxt import RobotsTxtMiddleware as ScrapyRobotsTxtMiddleware
from scrapy.exceptions import IgnoreRequest
from scrapy.utils.httpobj import urlparse_cached
from twisted.internet.defer import Deferred

from viewworld.signals import site_ended
from viewworld.sites import same_site
from viewworld.wordpress import parse_http_date

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.crawler import Crawler
    from scrapy.http import Response

logger = logging.getLogger(__name__)


class SiteScopeMiddleware:
    """Keeps every request of a site inside that site: ``_links`` and redirects that point at another
    host, port or scheme (``file:``, ``data:``) are dropped, so a hostile ``_links`` href can reach
    neither another site nor a private address. Counts each site's requests."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> SiteScopeMiddleware:
        return cls(crawler)

    def process_request(self, request: Request) -> None:
        site = request.meta.get("site")
        if site is None:
            # Scrapy's robots.txt requests carry no site: their redirects stay on the host they asked.
            first = (request.meta.get("redirect_urls") or [None])[0]
            if first is not None and first.endswith("/robots.txt") and not same_site(first, request.url):
                raise IgnoreRequest(f"{first} redirected to {request.url}, outside its site; not followed")
            return
        stats = self.crawler.stats
        assert stats is not None
        if not same_site(site, request.url):
            stats.inc_value("viewworld/requests_out_of_scope")
            raise IgnoreRequest(f"{request.url} is outside the site {site}; not followed")
        stats.inc_value(f"viewworld/requests/{site}")


class RobotsTxtMiddleware(ScrapyRobotsTxtMiddleware):
    """Scrapy's, but each crawl of a site reads its robots.txt afresh: Scrapy keeps a host's for the life of the
    process, and a cluster worker lives for days: a robots.txt changed since, or one that could not be fetched
    once (which Scrapy takes as "allow all"), would hold for every later claim of the site until the worker exits.
    When a site ends (``viewworld.signals.site_ended``), the robots.txt of every host its requests went to (its
    redirects' too) is forgotten, unless a site still crawled goes there too."""

    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler)
        self.hosts: dict[str, set[str]] = {}
        """The hosts each site's requests went to (``host:port``, as Scrapy keys robots.txt), by site."""
        crawler.signals.connect(self.site_ended, signal=site_ended)

    async def robot_parser(self, request: Request) -> Any:
        if (site := request.meta.get("site")) is not None:
            self.hosts.setdefault(site, set()).add(urlparse_cached(request).netloc)
        return await super().robot_parser(request)

    def site_ended(self, site: str) -> None:
        hosts = self.hosts.pop(site, set())
        for other in self.hosts.values():
            hosts -= other
        for host in hosts:
            if not isinstance(self._parsers.get(host), Deferred):  # one being fetched has requests waiting on it
                self._parsers.pop(host, None)


class CredentialsMiddleware:
    """Adds a site's application password to the requests that ask for it (``meta["authorized"]``)
    just before download, and takes it off again after, so that it never sits in a request queue (in
    memory or in Redis), retried and redirected requests included; only to the site's API root's host, over
    https (the spider's ``credentials_for``). Ordered after SiteScopeMiddleware (which has checked that the
    request stays inside its site) and above RetryMiddleware and RedirectMiddleware (which copy requests)."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> CredentialsMiddleware:
        return cls(crawler)

    def process_request(self, request: Request) -> None:
        if not request.meta.get("authorized"):
            return
        credentials_for = getattr(self.crawler.spider, "credentials_for", None)
        credentials = credentials_for(request.meta.get("site"), request.url) if credentials_for is not None else None
        if credentials is not None:
            request.headers["Authorization"] = credentials.authorization()

    def process_response(self, request: Request, response: Response) -> Response:
        request.headers.pop("Authorization", None)
        return response

    def process_exception(self, request: Request, exception: Exception) -> None:
        request.headers.pop("Authorization", None)


def retry_after_seconds(value: str, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header: delta-seconds or an HTTP-date.

    >>> retry_after_seconds("120")
    120.0
    >>> retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412470.0)
    10.0
    >>> retry_after_seconds("soon") is None
    True
    """
    value = value.strip()
    if value.isdigit():
        return float(value)
    moment = parse_http_date(value)
    if moment is None:
        return None
    return max(0.0, moment.timestamp() - (time.time() if now is None else now))


class RetryAfterMiddleware:
    """Honours ``Retry-After`` on 429 and 503 answers, which Scrapy's RetryMiddleware ignores
    (scrapy#3849): the site's download slot waits as told, at most ``RETRY_AFTER_MAX`` seconds, before
    the request is retried. The slot keeps that pace, without jitter (which would cut the wait by up to
    half), until the wait is over, whatever answers to requests already in flight (or AutoThrottle) say
    meanwhile; the first answer after it brings the slot's own delay and jitter back.

    Ordered above RetryMiddleware (550), so that it sees those answers first; like it, it does not retry
    requests with ``dont_retry``, and retries at most ``max_retry_times`` (a request's) or ``RETRY_TIMES``
    times; the slot waits all the same."""

    STATUSES = (429, 503)

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.maximum = crawler.settings.getfloat("RETRY_AFTER_MAX")
        self.waits: dict[str, tuple[float, float, float]] = {}
        """Per slot: its own delay and jitter, and until when (``clock()``) it is to wait instead."""
        self.clock = time.monotonic

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RetryAfterMiddleware:
        return cls(crawler)

    def process_response(self, request: Request, response: Response) -> Request | Response:
        slot = self._slot(request)
        if response.status not in self.STATUSES or b"Retry-After" not in response.headers:
            if slot is not None:
                self._keep_waiting_or_restore(*slot)
            return response
        wait = retry_after_seconds(response.headers[b"Retry-After"].decode("latin-1"))
        if wait is None:
            return response
        wait = min(wait, self.maximum)
        # The site asked every request to wait, this one retried or not.
        if slot is not None:
            key, download_slot = slot
            own = (download_slot.delay, getattr(download_slot, "jitter", 0.0), 0.0)
            usual, jitter, until = self.waits.get(key, own)
            self.waits[key] = (usual, jitter, max(until, self.clock() + wait))
            download_slot.delay = max(download_slot.delay, wait)
            download_slot.jitter = 0.0
        # How many times: the request's max_retry_times, else RETRY_TIMES, as for RetryMiddleware.
        retry = None if request.meta.get("dont_retry") else get_retry_request(
            request, spider=self.crawler.spider, reason=f"{response.status} Retry-After")
        if retry is None:
            return response
        logger.warning("%s answered %d: waiting %.0f s (Retry-After) before retrying %s",
                       urlparse_cached(request).netloc, response.status, wait, request.url)
        stats = self.crawler.stats
        assert stats is not None
        stats.inc_value("viewworld/retry_after")
        return retry

    def _keep_waiting_or_restore(self, key: str, slot: Any) -> None:
        if key not in self.waits:
            return
        usual, jitter, until = self.waits[key]
        remaining = until - self.clock()
        if remaining > 0:
            slot.delay = max(slot.delay, remaining)
        else:
            slot.delay, slot.jitter = usual, jitter
            del self.waits[key]

    def _slot(self, request: Request) -> tuple[str, Any] | None:
        try:
            engine = self.crawler.engine
        except RuntimeError:  # not started: no slot to slow down
            return None
        key = request.meta.get("download_slot") or urlparse_cached(request).hostname or ""
        slot = engine.downloader.slots.get(key)
        return None if slot is None else (key, slot)
