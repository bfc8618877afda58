"""Scrapy's downloader, keeping a site to ``CONCURRENT_REQUESTS_PER_DOMAIN`` requests at a time.

Scrapy 2.19 starts each download as an asyncio task (under its default asyncio reactor) and counts the
request as transferring only once that task runs; its slot, meanwhile, keeps starting queued requests
for as long as fewer are counted. With no delay between requests (``DOWNLOAD_DELAY=0`` and AutoThrottle
off, or AutoThrottle down to no delay), every request queued in one turn of the event loop went at
once: a crawl told 4 at a time had up to 7 requests at the site, a plain Scrapy spider up to 15
(``CONCURRENT_REQUESTS``). With a delay the slot starts one request per delay, and the count is right
by then.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from scrapy.core.downloader import Downloader as ScrapyDownloader

if TYPE_CHECKING:
    from collections.abc import Coroutine

    from scrapy import Request
    from scrapy.core.downloader import Slot
    from twisted.internet.defer import Deferred


class Downloader(ScrapyDownloader):
    """Counts a request as transferring when its slot starts it, not when the task runs (Scrapy's
    ``_download`` adds it again, which changes nothing, and removes it when the answer is in)."""

    def _wait_for_download(self, slot: Slot, request: Request,
                           queue_dfd: Deferred[Any]) -> Coroutine[Any, Any, None]:
        slot.transferring.add(request)
        return super()._wait_for_download(slot, request, queue_dfd)
