"""Phase 2 of ``wpposts``: finding a site's REST API root and checking its application password.

The root is, in this order: the home page's ``Link: <...>; rel="https://api.w.org/"`` header, its
``<link rel="https://api.w.org/">`` tag, ``/wp-json/``, ``/?rest_route=/``; a candidate is the root only
when it answers JSON listing the ``wp/v2`` namespace.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from viewworld.spiders.common import answer_error, describe_failure
from viewworld.wordpress import (
    ApiRoot,
    api_root_from_html,
    api_root_from_link_headers,
    fallback_api_roots,
    is_api_index,
    loads,
)

if TYPE_CHECKING:
    from collections.abc import Iterator

    from scrapy import Request
    from scrapy.http import Response
    from twisted.python.failure import Failure

    from viewworld.sites import Site

logger = logging.getLogger(__name__)


class ApiDiscovery:
    """Callbacks of the spider (``self`` is a :class:`~viewworld.spiders.wpposts.WpPostsSpider`)."""

    sites: dict[str, Site]
    handed_back: dict[str, Site]
    waiting_sites: Any
    clustered: bool
    sites_by_key: dict[str, Site]
    crawler: Any
    request: Any
    first_pages: Any

    def parse_home(self, response: Response, site_id: str) -> Iterator[Request]:
        site = self.sites[site_id]
        site.adopt(response.url)
        if not self.known_as(site):
            return
        advertised = api_root_from_link_headers(
            (value.decode("latin-1") for value in response.headers.getlist("Link")), response.url
        )
        if advertised is None and b"html" in (response.headers.get("Content-Type") or b""):
            advertised = api_root_from_html(response.text, response.url)
        if advertised is not None:  # an http root of a site behind a TLS proxy: asked for over https
            root = ApiRoot.from_url(advertised)
            advertised = advertised if (secure := site.over_https(root)) == root else secure.url
        candidates = [advertised] if advertised and site.in_scope(advertised) else []
        candidates += [url for url in fallback_api_roots(site.url) if url not in candidates]
        yield self.root_request(site, candidates, [])

    def root_request(self, site: Site, candidates: list[str], answers: list[str]) -> Request:
        return self.request(site, candidates[0], self.parse_root, self.root_failed, handle_all_statuses=True,
                            cb_kwargs={"candidates": candidates[1:], "answers": answers})

    def parse_root(self, response: Response, site_id: str, candidates: list[str],
                   answers: list[str]) -> Iterator[Request]:
        site = self.sites[site_id]
        try:
            index = loads(response.body) if response.status == 200 else None
        except ValueError:
            index = None
        if is_api_index(index):
            site.use_root(ApiRoot.from_url(response.url))
            if not self.known_as(site):
                return
            logger.info("%s: REST API at %s", site.url, site.api_root.url)
            yield from self.check_credentials_or_start(site)
            return
        what = "no wp/v2 namespace (WordPress older than 4.7?)" if isinstance(index, dict) else str(
            answer_error(response))
        answers = [*answers, f"{response.url}: {what}"]
        yield from self.next_root_or_give_up(site, candidates, answers)

    def root_failed(self, failure: Failure) -> Iterator[Request]:
        request = failure.request
        site = self.sites[request.cb_kwargs["site_id"]]
        answers = [*request.cb_kwargs["answers"], f"{request.url}: {describe_failure(failure)}"]
        yield from self.next_root_or_give_up(site, request.cb_kwargs["candidates"], answers)

    def next_root_or_give_up(self, site: Site, candidates: list[str], answers: list[str]) -> Iterator[Request]:
        if candidates:
            yield self.root_request(site, candidates, answers)
        else:
            self.give_up(site, "no WordPress REST API found (" + "; ".join(answers) + ")")

    def known_as(self, site: Site) -> bool:
        """Files the site under its name; False, and the site given up, when another site of this run has that
        name or that API root: two addresses of one site (``example.org`` redirects to ``www.example.org``,
        given too; ``example.org/blog`` is the WordPress of ``example.org``). Another site of a run on one
        machine counts even once it has ended, or before its turn has come; a cluster worker's claims are separate
        crawls."""
        root = site.api_root.url if site.api_root is not None else None
        others = [*self.sites.values(), *(() if self.clustered else (*self.handed_back.values(), *self.waiting_sites))]
        same_root = next((other for other in others
                          if root is not None and other.api_root is not None and other.api_root.url == root
                          and other.origin != site.origin), None)
        same_key = self.sites_by_key.get(site.key) or next((other for other in others if other.key == site.key
                                                             and other.origin != site.origin), None)
        for other, why in ((same_key, f"both are {site.key}"), (same_root, f"both have the API root {root}")):
            if other is not None and other.origin != site.origin and other.failure is None:
                self.give_up(site, f"the same site as {other.origin} ({why})")
                return False
        self.sites_by_key[site.key] = site  # a cluster worker's new claim of a site replaces the old one
        return True

    def site_unreachable(self, failure: Failure) -> None:
        site = self.sites[failure.request.cb_kwargs["site_id"]]
        self.give_up(site, f"unreachable: {describe_failure(failure)}")

    def give_up(self, site: Site, reason: str, stat: str = "viewworld/sites_failed") -> None:
        site.failure = reason
        logger.error("%s: cannot be crawled: %s", site.url, reason)
        self.crawler.stats.inc_value(stat)

    def check_credentials_or_start(self, site: Site) -> Iterator[Request]:
        if site.credentials is None:
            yield from self.first_pages(site)
            return
        assert site.api_root is not None
        yield self.request(site, site.api_root.endpoint("/wp/v2/users/me", {"_fields": "id,slug"}),
                           self.parse_credentials_check, self.credentials_check_failed, authorized=True)

    def parse_credentials_check(self, response: Response, site_id: str) -> Iterator[Request]:
        site = self.sites[site_id]
        if response.status != 200:
            error = answer_error(response)
            logger.warning("%s: the %s was not accepted (%s); revisions are skipped",
                           site.url, site.credentials, error)
            site.credentials = None
        yield from self.first_pages(site)

    def credentials_check_failed(self, failure: Failure) -> Iterator[Request]:
        site = self.sites[failure.request.cb_kwargs["site_id"]]
        logger.warning("%s: could not check the %s (%s); revisions are skipped",
                       site.url, site.credentials, describe_failure(failure))
        site.credentials = None
        yield from self.first_pages(site)
