"""A Scrapy extension the benchmark adds to the crawl it measures: the crawl's CPU time in steady state.

Steady state starts when the first posts page comes back (start-up, robots.txt and discovery are
behind) and ends when the crawl closes (the last batch, the cleaning and writing of the last post,
the state saved). The CPU time between the two (user + system, all threads of the process) goes into
the stats as ``bench/steady_cpu_seconds``, the posts written meanwhile as ``bench/steady_posts``.
The probe listens to ``response_received`` only: a signal per post would itself cost CPU per post.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from scrapy import signals

if TYPE_CHECKING:
    from scrapy.crawler import Crawler


class SteadyCpuProbe:
    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.started: float | None = None
        self.posts_before = 0

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> SteadyCpuProbe:
        probe = cls(crawler)
        crawler.signals.connect(probe.response_received, signal=signals.response_received)
        crawler.signals.connect(probe.spider_closed, signal=signals.spider_closed)
        return probe

    def response_received(self, response: Any, request: Any, spider: Any) -> None:
        if self.started is None and "wp/v2/posts" in request.url.replace("%2F", "/"):
            self.started = time.process_time()
            self.posts_before = self.items()

    def spider_closed(self, spider: Any, reason: str) -> None:
        if self.started is not None:
            self.crawler.stats.set_value("bench/steady_cpu_seconds", round(time.process_time() - self.started, 3))
            self.crawler.stats.set_value("bench/steady_posts", self.items() - self.posts_before)

    def items(self) -> int:
        return self.crawler.stats.get_value("item_scraped_count", 0)
