"""Progress while crawling (posts written or already written at their version / ``X-WP-Total`` per site,
with an ETA) and a one-screen summary per site at the end."""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING, Any

from scrapy import signals
from scrapy.exceptions import NotConfigured
from scrapy.utils.asyncio import create_looping_call

if TYPE_CHECKING:
    from scrapy import Spider
    from scrapy.crawler import Crawler
    from scrapy.statscollectors import StatsCollector

    from viewworld.sites import Site

logger = logging.getLogger(__name__)


def eta(done: int, total: int | None, elapsed: float) -> str:
    """``1m20s`` left at the rate so far; ``?`` when it cannot be told.

    >>> eta(50, 150, 40.0)
    '1m20s'
    >>> eta(0, 150, 40.0)
    '?'
    """
    if not total or done <= 0 or elapsed <= 0:
        return "?"
    seconds = int(max(total - done, 0) * elapsed / done)
    minutes, seconds = divmod(seconds, 60)
    return f"{minutes}m{seconds:02d}s" if minutes else f"{seconds}s"


class Progress:
    def __init__(self, stats: StatsCollector, interval: float) -> None:
        self.stats = stats
        self.interval = interval
        self.started = time.monotonic()
        self.task: Any = None
        self.spider: Spider | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Progress:
        assert crawler.stats is not None
        progress = cls(crawler.stats, crawler.settings.getfloat("PROGRESS_INTERVAL"))
        crawler.signals.connect(progress.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(progress.spider_closed, signal=signals.spider_closed)
        if not hasattr(crawler.spidercls, "name"):
            raise NotConfigured
        return progress

    def sites(self) -> list[Site]:
        return list(getattr(self.spider, "sites", {}).values())

    def spider_opened(self, spider: Spider) -> None:
        self.spider = spider
        self.started = time.monotonic()
        if self.interval > 0:
            self.task = create_looping_call(self.log_progress)
            self.task.start(self.interval, now=False)

    def log_progress(self) -> None:
        now = time.monotonic()
        for site in self.sites():
            if site.failure is not None:
                continue
            elapsed = now - (site.started or self.started)  # a site may have waited for its turn
            # Posts already written at their version count as done (a run finishing a killed first crawl).
            done = self.stats.get_value(f"sites/{site.key}/items", 0) + site.unchanged
            total = site.total
            share = f" ({100 * done // total}%)" if total else ""
            logger.info("%s: %d/%s posts%s, ETA %s", site.key, done, total if total is not None else "?",
                        share, eta(done, total, elapsed))

    def spider_closed(self, spider: Spider, reason: str) -> None:
        if self.task is not None and self.task.running:
            self.task.stop()
        lines = [f"Summary ({reason}, {time.monotonic() - self.started:.1f} s):"]
        # With the sites that ended and were forgotten while the crawl went on (a site a cluster worker claimed
        # more than once: the last claim's line, with the counts of every claim).
        sites = {**getattr(self.spider, "handed_back", {}), **{site.origin: site for site in self.sites()}}
        for site in sites.values():
            requests = self.stats.get_value(f"viewworld/requests/{site.origin}", 0)
            errors = self.stats.get_value(f"sites/{site.key}/errors", 0)
            posts = self.stats.get_value(f"sites/{site.key}/items", 0)
            total = site.total if site.total is not None else "?"
            if site.failure is not None:
                lines.append(f"  {site.key}: FAILED: {site.failure}")
                continue
            output = self.stats.get_value(f"sites/{site.key}/output", "no output (no post)") or "no output (failed)"
            lines.append(f"  {site.key}: {posts} posts written, {site.unchanged} unchanged (X-WP-Total {total}), "
                         f"{requests} requests, {errors} errors -> {output}")
        lines += [f"  {site.key}: not started (the run stopped before its turn)"
                  for site in getattr(self.spider, "waiting_sites", ())]
        logger.info("\n".join(lines))
