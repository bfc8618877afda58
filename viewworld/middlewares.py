"""Downloader middlewares."""

from __future__ import annotations

from typing import TYPE_CHECKING

from scrapy.exceptions import IgnoreRequest

from viewworld.sites import same_site

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.crawler import Crawler
    from scrapy.http import Response


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
            return
        stats = self.crawler.stats
        assert stats is not None
        if not same_site(site, request.url):
            stats.inc_value("viewworld/requests_out_of_scope")
            raise IgnoreRequest(f"{request.url} is outside the site {site}; not followed")
        stats.inc_value(f"viewworld/requests/{site}")


class CredentialsMiddleware:
    """Adds a site's application password to the requests that ask for it (``meta["authorized"]``)
    just before download, and takes it off again after, so that it never sits in a request queue or
    a JOBDIR on disk, retried requests included. Ordered after SiteScopeMiddleware (which has checked
    that the request stays inside its site) and above RetryMiddleware (which copies requests)."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> CredentialsMiddleware:
        return cls(crawler)

    def process_request(self, request: Request) -> None:
        if not request.meta.get("authorized"):
            return
        credentials_for = getattr(self.crawler.spider, "credentials_for", None)
        credentials = credentials_for(request.meta.get("site")) if credentials_for is not None else None
        if credentials is not None:
            request.headers["Authorization"] = credentials.authorization()

    def process_response(self, request: Request, response: Response) -> Response:
        request.headers.pop("Authorization", None)
        return response

    def process_exception(self, request: Request, exception: Exception) -> None:
        request.headers.pop("Authorization", None)
