"""Downloader middlewares."""

from __future__ import annotations

from typing import TYPE_CHECKING

from scrapy.exceptions import IgnoreRequest

from viewworld.sites import same_site

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.crawler import Crawler
    from scrapy.statscollectors import StatsCollector


class SiteScopeMiddleware:
    """Keeps every request of a site inside that site: ``_links`` and redirects that point at another
    host, port or scheme family (``file:``, ``data:``) are dropped, so a hostile ``_links`` href can
    reach neither another site nor a private address. Counts each site's requests."""

    def __init__(self, stats: StatsCollector) -> None:
        self.stats = stats

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> SiteScopeMiddleware:
        assert crawler.stats is not None
        return cls(crawler.stats)

    def process_request(self, request: Request) -> None:
        site = request.meta.get("site")
        if site is None:
            return
        if not same_site(site, request.url):
            self.stats.inc_value("viewworld/requests_out_of_scope")
            raise IgnoreRequest(f"{request.url} is outside the site {site}; not followed")
        self.stats.inc_value(f"viewworld/requests/{site}")
