"""The scheduler of a cluster worker (see :mod:`viewworld.cluster`), in a module of its own so that a
crawl on one machine never imports scrapy-redis and Redis' client (~0.1 s of CPU on every run)."""

from __future__ import annotations

import heapq
import itertools
from typing import TYPE_CHECKING

from redis.exceptions import RedisError
from scrapy_redis.scheduler import Scheduler as RedisScheduler

if TYPE_CHECKING:
    from scrapy import Request, Spider
    from scrapy.crawler import Crawler


class ClusterScheduler(RedisScheduler):
    """scrapy-redis' scheduler for the shared queue of sites; a site's own requests stay local."""

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ClusterScheduler:
        scheduler = super().from_crawler(crawler)
        scheduler.crawler = crawler
        scheduler.local = []
        scheduler.order = itertools.count()
        scheduler.sites_per_worker = crawler.settings.getint("CLUSTER_SITES_PER_WORKER")
        return scheduler

    def enqueue_request(self, request: Request) -> bool:
        if request.meta.get("claim"):
            return super().enqueue_request(request)
        heapq.heappush(self.local, (-request.priority, next(self.order), request))
        return True

    def open(self, spider: Spider) -> None:
        super().open(spider)
        spider.cluster_scheduler = self

    def next_request(self) -> Request | None:
        if not self.local:
            try:
                for request in self.claim_sites():
                    self.enqueue_request(request)
            except RedisError:  # the heartbeat says so, and claims again within a second
                pass
        return heapq.heappop(self.local)[2] if self.local else None

    def claim_sites(self) -> list[Request]:
        """Takes sites from the shared queue while this worker has room; their first requests."""
        requests: list[Request] = []
        while not requests and self.can_claim():
            claim = super().next_request()
            if claim is None:
                break
            try:
                requests = self.spider.claim(claim.meta["site"], claim.meta.get("options"))
            except RedisError:  # ending the site crawled before failed: the claim goes back, to be tried again
                super().enqueue_request(claim)
                raise
        return requests

    def can_claim(self) -> bool:
        return self.spider.active_sites() < self.sites_per_worker and not self.spider.stopping()

    def has_pending_requests(self) -> bool:
        if self.local:
            return True
        try:
            return self.can_claim() and len(self.queue) > 0
        except RedisError:  # said by the heartbeat; the engine must not fail on it
            return False

    def __len__(self) -> int:
        return len(self.local)
