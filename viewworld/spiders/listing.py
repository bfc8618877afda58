"""Phase 5 of ``wpposts``: listing a site's public ids (``_fields=id,modified_gmt``, 100 a page).

A full walk whose ``X-WP-Total`` did not move and matches what was seen needs no listing; otherwise,
and when a deletion sweep is due, the ids are listed at the end of the walk: posts the walk did not
show are fetched by ``include=``, and posts written before that are no longer public get a tombstone.
An incremental run also lists the ids published since its mark (``after=``): a scheduled post goes
public with the ``modified_gmt`` of the day it was scheduled, which ``modified_after`` does not reach.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from scrapy import Request

from viewworld.assembly import gmt
from viewworld.items import Tombstone
from viewworld.sites import FULL, INCREMENTAL, ONE_OFF
from viewworld.spiders.common import describe_failure, utc_now
from viewworld.wordpress import MAX_PAGES, capped_page_size

if TYPE_CHECKING:
    from collections.abc import Iterator

    from scrapy.http import Response
    from twisted.python.failure import Failure

    from viewworld.sites import Site

logger = logging.getLogger(__name__)


class IdListing:
    """Callbacks of the spider (``self`` is a :class:`~viewworld.spiders.wpposts.WpPostsSpider`)."""

    sites: dict[str, Site]
    crawler: Any
    arguments: Any
    request: Any
    posts_request: Any
    posts_filter: Any
    since_mark: Any
    read_list: Any
    last_page_told: Any
    concurrency: int
    page_lost: Any
    assembled: Any
    handed_out: Any

    def list_ids_or_finish(self, site: Site) -> Iterator[Any]:
        complete_walk = site.mode == FULL and site.walk_is_consistent and not site.pages_lost
        if site.mode == ONE_OFF and self.arguments.max_posts or complete_walk:
            site.listed = dict.fromkeys(site.post_ids) if complete_walk else {}
            yield from self.tombstones(site)
            return
        site.listed = {}
        if site.sweep:
            logger.info("%s: listing ids (deletion sweep)", site.url)
            yield self.listing_request(site, 1, "all")
            return
        requests = []  # made before any is yielded: the first must not end the listing before the second is made
        if not site.walk_is_consistent:
            logger.info("%s: listing ids (the post count moved during the walk)", site.url)
            requests.append(self.listing_request(site, 1, "walk"))
        if site.mode == INCREMENTAL and self.since_mark(site):
            requests.append(self.listing_request(site, 1, "published"))
        yield from requests

    def listing_request(self, site: Site, page: int, listing: str) -> Request:
        """Page ``page`` of a listing: ``all`` public ids (a sweep), those the walk asked for (``walk``), or
        those published since the mark, less the overlap (``published``)."""
        assert site.api_root is not None
        params: dict[str, object] = {"per_page": site.per_page, "page": page, "orderby": "id", "order": "asc",
                                     "_fields": "id,modified_gmt"}
        if listing == "walk":
            params.update(self.posts_filter(site))
        elif listing == "published":
            params["after"] = self.since_mark(site)
        site.listing_in_flight += 1
        asked, last = site.listing_pages.get(listing, (0, 0))
        site.listing_pages[listing] = (max(asked, page), last)
        return self.request(site, site.api_root.endpoint("/wp/v2/posts", params), self.parse_listing,
                            self.listing_failed, cb_kwargs={"page": page, "listing": listing,
                                                            "per_page": site.per_page})

    def parse_listing(self, response: Response, site_id: str, page: int, listing: str,
                      per_page: int) -> Iterator[Any]:
        site = self.sites[site_id]
        assert site.listed is not None  # list_ids_or_finish set it before asking for any listing page
        site.listing_in_flight -= 1
        lost_before = site.pages_lost
        answer = self.read_list(site, response, "id listing")
        if answer is None:  # past the end, or lost (and counted so by read_list)
            site.listing_lost = site.listing_lost or site.pages_lost > lost_before
        else:
            listed, listed_count, pages = answer
            site.listed.update({item["id"]: gmt(item.get("modified_gmt")) for item in listed})
            if pages.total is not None:
                site.listings.setdefault(listing, set()).add(pages.total)
            if page == 1 and (size := capped_page_size(per_page, listed_count, pages.total)):
                # The site caps its pages (see adopt_page_size).
                if size < site.per_page:  # not found already (by the walk, or the other listing)
                    logger.warning("%s: the id listing's page 1 held %d of the %d asked for, of %d: the site caps "
                                   "its pages; asking %d a page", site.url, size, per_page, pages.total, size)
                    site.lower_page_size(size)
                last = min(-(-pages.total // size), MAX_PAGES)
            else:
                last = self.last_page_told(site, pages, page, listed_count, MAX_PAGES) or page
            asked, told = site.listing_pages[listing]
            site.listing_pages[listing] = (asked, max(told, last))
        yield from self.more_listing_pages(site, listing)
        if site.listing_in_flight == 0:
            yield from self.listing_done(site)

    def more_listing_pages(self, site: Site, listing: str) -> Iterator[Request]:
        """A listing's next pages, up to the last its pages told of, a few more than the site's concurrency in
        flight: a count of millions (a hostile or broken site) does not put as many requests in memory at once."""
        window = 2 * self.concurrency
        while site.failure is None and site.listing_in_flight < window and \
                (pages := site.listing_pages.get(listing)) and pages[0] < pages[1]:
            yield self.listing_request(site, pages[0] + 1, listing)

    def listing_failed(self, failure: Failure) -> Iterator[Any]:
        site = self.listing_request_lost(failure, "id listing")
        yield from self.more_listing_pages(site, failure.request.cb_kwargs["listing"])
        if site.listing_in_flight == 0:
            yield from self.listing_done(site)

    def listing_request_lost(self, failure: Failure, what: str) -> Site:
        """Counts a listing's or deletion check's request that got no answer: the listing cannot tell."""
        site = self.sites[failure.request.cb_kwargs["site_id"]]
        site.listing_in_flight -= 1
        site.listing_lost = True
        self.page_lost(site, failure.request.url, f"{what}: {describe_failure(failure)}")
        return site

    def listing_done(self, site: Site) -> Iterator[Any]:
        if site.listing_moved:
            logger.warning("%s: the post count moved while the ids were listed; the mark and the sweep wait for "
                           "the next run", site.url)
        missing = site.missing_from_walk()
        if missing:
            logger.info("%s: the listing found %d posts the walk did not show; fetching them", site.url,
                        len(missing))
            self.crawler.stats.inc_value(f"sites/{site.key}/missed_by_walk", len(missing))
        # Posts an earlier run wrote without a linked resource that may come now, the walk did not show, and (after
        # a listing of every id) that are public still: asked for by id, now that any cap on pages is known.
        listed_all = site.sweep and not site.listing_lost and not site.listing_moved
        asked = set(missing)
        retry = [post_id for post_id in (site.state.retry if site.state is not None else ())
                 if post_id not in site.post_ids and post_id not in asked
                 and not (listed_all and post_id not in site.listed)]
        if retry:
            logger.info("%s: fetching again %d posts an earlier run wrote without a linked resource", site.url,
                        len(retry))
        yield from self.requests_by_id(site, missing + retry)
        yield from self.tombstones(site)
        yield from self.assembled(flush_site=site if site.pages_in_flight == 0 else None)

    def requests_by_id(self, site: Site, ids: list[int]) -> list[Request]:
        """Requests for the posts of ``ids`` (``include=``), the site's page size at a time; made at once, before any
        is yielded."""
        return [self.posts_request(site, 0, include=ids[start:start + site.per_page])
                for start in range(0, len(ids), site.per_page)]

    def tombstones(self, site: Site) -> Iterator[Request]:
        """Posts written before that the walk or listing did not show are asked for by id (``include=``,
        100 a request): those that come back are public still (a post deleted and another published while
        the offset pages were fetched leave the count as it was and push a public id off them); the rest
        get a tombstone."""
        if not site.sweep:
            return
        candidates = site.deleted()
        for start in range(0, len(candidates), site.per_page):
            ids = candidates[start:start + site.per_page]
            assert site.api_root is not None
            params = {**site.posts_by_id(ids), "_fields": "id,modified_gmt"}
            site.listing_in_flight += 1
            yield self.request(site, site.api_root.endpoint("/wp/v2/posts", params), self.parse_deletion_check,
                               self.deletion_check_failed, cb_kwargs={"ids": ids})

    def parse_deletion_check(self, response: Response, site_id: str, ids: list[int]) -> Iterator[Any]:
        site = self.sites[site_id]
        assert site.listed is not None
        site.listing_in_flight -= 1
        answer = self.read_list(site, response, "deletion check")
        if answer is None:
            site.listing_lost = True
            return
        if (answer[2].total or 0) > answer[1]:  # a cap on the page: what did not come back may be public still
            site.listing_lost = True
            logger.warning("%s: the deletion check got %d of the %d public posts it asked for (the site caps its "
                           "pages); no tombstone this run", site.url, answer[1], answer[2].total)
            return
        asked = set(ids)  # an answer naming more (a hostile or broken site) adds nothing to the listing
        public = {item["id"]: gmt(item.get("modified_gmt")) for item in answer[0] if item["id"] in asked}
        site.listed.update(public)
        now = utc_now()
        gone = [self.handed_out(Tombstone(site.key, post_id, True, now), site) for post_id in ids
                if post_id not in public]
        # Asked for before anything is yielded: the site is never seen done between the two.
        changed = site.missing_from_walk(among=public)
        refetch = self.requests_by_id(site, changed)
        yield from gone
        yield from refetch
        yield from self.assembled(flush_site=site if site.pages_in_flight == 0 else None)

    def deletion_check_failed(self, failure: Failure) -> Iterator[Any]:
        self.listing_request_lost(failure, "deletion check")
        return iter(())
