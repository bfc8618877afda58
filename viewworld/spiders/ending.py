"""Phase 6 of ``wpposts``: the end of each site, as soon as it is done, and of the crawl.

Every second, each site with nothing left to do (no posts page, id listing or ``include=`` batch of it in
flight, no post of it waiting in the assembler, none handed to the item pipelines and not yet written) is
ended: its file is completed (``viewworld.signals.site_finished``), its state saved, its cluster in-flight
entry and its lock released, and it is forgotten. What is left when the crawl closes ends then.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from itemadapter import ItemAdapter
from scrapy import signals
from scrapy.utils.asyncio import create_looping_call

from viewworld.items import Post, Tombstone
from viewworld.pipelines import JsonLinesPipeline
from viewworld.signals import site_ended, site_finished
from viewworld.sites import FULL, LOCKED, ONE_OFF, RETRY_RUNS
from viewworld.spiders.common import utc_now

if TYPE_CHECKING:
    from viewworld.sites import Site

logger = logging.getLogger(__name__)

HAND_BACK_SECONDS = 1.0
"""How often sites that are done are ended."""


class SiteEnding:
    """Methods of the spider (``self`` is a :class:`~viewworld.spiders.wpposts.WpPostsSpider`)."""

    sites: dict[str, Site]
    assembled: Any
    waiting_sites: Any
    concurrent_sites: int
    start_waiting_sites: Any
    sites_by_key: dict[str, Site]
    handed_back: dict[str, Site]
    items_out: dict[tuple[str, int, bool], list[Site]]
    unendable: set[str]
    closed_doors: set[tuple[str, str, str]]
    hand_back_task: Any
    clustered: bool
    crawler: Any
    assembler: Any
    store: Any
    coordinator: Any

    def start_hand_backs(self) -> None:
        self.hand_back_task = create_looping_call(self.hand_back_finished_sites)
        self.hand_back_task.start(HAND_BACK_SECONDS, now=False)
        # JsonLinesPipeline says when an item is written; a crawl without it (written with -o) counts items out
        # of the pipelines when Scrapy does.
        pipelines = self.crawler.engine.scraper.itemproc.middlewares
        if not any(isinstance(pipeline, JsonLinesPipeline) for pipeline in pipelines):
            self.crawler.signals.connect(self.item_scraped, signal=signals.item_scraped)

    def item_scraped(self, item: Any, **_: Any) -> None:
        """Out of the pipelines, but not known to be written anywhere (a feed may store it only at the close): its
        post is not recorded as written, and is written again when it is met again."""
        self.handed_in(item)

    def handed_out(self, item: Any, site: Site | None = None) -> Any:
        """Counts ``item`` (a post or tombstone of ``site``, by default the site of its key) as handed to the
        item pipelines and not yet written: until it is written or lost, its site has not ended."""
        site = site or self.sites_by_key.get(item.site)
        if site is not None:
            site.items_pending += 1
            self.items_out.setdefault(item_key(item), []).append(site)
        return item

    def handed_in(self, item: Any, key: tuple[str, int, bool] | None | bool = False) -> Site | None:
        """Counts ``item`` out of the pipelines (written, dropped or failed on), once; its site. Known by what it
        says (``key``, its :func:`item_key` when the caller has it: its site, its post id, whether it is a
        tombstone), not by identity: a pipeline before the writing one may pass on another object (``dict(item)``,
        ``ItemAdapter(item).asdict()``)."""
        if key is False:
            key = item_key(item)
        sites = self.items_out.get(key) if key is not None else None
        if not sites:  # counted in already (a pipeline after the writing one dropped it), or never counted out
            return self.sites_by_key.get(key[0]) if key is not None else None
        site = sites.pop()
        if not sites:
            del self.items_out[key]
        site.items_pending -= 1
        return site

    def item_written(self, item: Any) -> None:
        """Called by JsonLinesPipeline once the item's line is written."""
        key = item_key(item)
        site = self.handed_in(item, key)
        if site is None or key is None:
            return
        if key[2]:
            site.tombstones.append(key[1])
            return
        modified = item.modified_gmt if isinstance(item, Post) else ItemAdapter(item).get("modified_gmt")
        if isinstance(modified, str) and modified:
            site.written[key[1]] = modified

    def item_failed(self, item: Any, **_: Any) -> None:
        """A pipeline failed on the item (signal ``item_error``; Scrapy logs the error): not written, so the
        site's mark holds."""
        site = self.handed_in(item)
        if site is not None:
            site.items_failed += 1

    def item_lost(self, item: Any, **_: Any) -> None:
        """A pipeline dropped the item (signal ``item_dropped``): no longer pending, unless it was written
        already (a pipeline after the writing one dropped it)."""
        self.handed_in(item)

    def hand_back_finished_sites(self) -> None:
        """Ends each site as soon as it is done, every second, not when the crawl ends (see :meth:`hand_back`).
        A run of several sites cut short (SIGTERM, a cron timeout) keeps the sites it finished; a cluster worker
        that runs for days keeps few files open, loses no finished site when it dies, and crawls every later
        claim of a site (the next hour's)."""
        if self.crawler.stats.get_value("viewworld/output_failed"):
            return  # the crawl is stopping: what can be kept is kept when it closes
        self.end_sites([site for site in self.sites.values() if self.site_done(site)])
        for request in self.start_waiting_sites():
            self.crawler.engine.crawl(request)

    def end_stuck_sites(self) -> list[Any]:
        """Called when nothing at all is in flight: a site that is not done then never will be (a request a middleware
        dropped without an errback, an item that left the pipelines unsaid). It ends, its mark where it was and its
        waiting posts dropped (its next run fetches them), so that it holds no turn (``CONCURRENT_SITES``, a cluster
        worker's claims) for ever. What another site's posts wait for of its dropped batches is asked for again: the
        requests returned. A site whose posts wait only for that is not stuck; one left waiting after them is."""
        for site in self.sites.values():
            if site.items_pending:  # no item is in the pipelines now: these left them unsaid
                logger.warning("%s: %d items left the item pipelines without a word (did a pipeline change their site "
                               "or id?); they count as not written, and the mark holds", site.url, site.items_pending)
                site.items_failed += site.items_pending
                self.forget_items(site)
        self.end_stuck([site for site in self.sites.values()
                        if not self.site_done(site) and (site.failure is not None or site.in_flight)])
        requests = list(self.assembled(flush=True))
        if not requests:
            self.end_stuck([site for site in self.sites.values() if not self.site_done(site)])
        return requests

    def end_stuck(self, sites: list[Site]) -> None:
        """Ends sites that will never be done, their mark where it was (their posts still waiting are dropped when
        they are forgotten, see ``PostAssembler.forget``)."""
        for site in sites:
            if site.failure is None and site.origin not in self.unendable:
                logger.error("%s: stuck, with nothing in flight: %d posts pages, %d id listing pages and %d batches "
                             "never answered (dropped by a middleware?); it ends now, its mark where it was (%d posts "
                             "not written: its next run fetches them)", site.url, site.pages_in_flight,
                             site.listing_in_flight, site.batches_in_flight,
                             self.assembler.waiting_by_site[site.origin])
        self.end_sites(sites, ended=False)

    def end_sites(self, sites: list[Site], ended: bool = True) -> None:
        """Ends each site (``ended``: its crawl ran to its end, see :meth:`end_site`), but for those whose ending
        failed before on an error nothing foresaw."""
        for site in sites:
            if site.origin in self.unendable:
                continue
            try:
                self.hand_back(site, ended)
            except self.store.save_errors as error:  # Redis did not answer: the next second tries again
                logger.warning("%s: not ended yet, %s did not answer (%s); trying again in a second", site.url,
                               self.store.location, error)
            except Exception:  # a bug: the site ends with the run instead, and the others still end on time
                logger.exception("%s: cannot be ended now; it ends with the run", site.url)
                self.unendable.add(site.origin)

    def hand_back(self, site: Site, ended: bool = True) -> None:
        """Completes the site's output and saves its state, then releases its in-flight entry (a cluster's) and
        its lock, and forgets it (its ids, its open file). What it shares with a site still crawled (a site
        given up as another spelling of it: the same key or lock) stays that site's."""
        if site.failure != LOCKED:  # a locked site is another run's: nothing of it is this one's
            crawled = [other for other in self.sites.values() if other is not site and other.failure is None]
            if not self.has_ended(site):  # it has when Redis interrupted the last attempt
                if not any(other.key == site.key for other in crawled):
                    self.crawler.signals.send_catch_log(site_finished, site_key=site.key)
                if site.failure is None:
                    self.end_site(site, ended)
                self.handed_back[site.origin] = site
            if self.clustered:
                self.coordinator.released(site.origin)
            if not any(other.state_key == site.state_key for other in crawled):
                self.store.unlock(site.state_key)
            logger.info("%s: ended (%s)", site.url, "given up" if site.failure is not None else
                        "its file completed" if site.mode == ONE_OFF else
                        "its file completed, its state saved, its lock released")
        elif not self.clustered:  # a worker's claim of a site locked by another is no failure of its own
            self.handed_back[site.origin] = site
        self.forget(site)

    def has_ended(self, site: Site) -> bool:
        """Whether its file was completed and its state saved (what may be left: its lock, its in-flight entry)."""
        return self.handed_back.get(site.origin) is site

    def site_done(self, site: Site) -> bool:
        """Nothing of the site is left to do: no request in flight, no post waiting or unwritten, and the walk
        over (the listing of ids begun, or the site given up)."""
        return not (site.in_flight or site.items_pending or self.assembler.waiting_by_site[site.origin]) and (
            site.failure is not None or site.listed is not None)

    def forget(self, site: Site) -> None:
        del self.sites[site.origin]
        for key in [key for key, known in self.sites_by_key.items() if known is site]:  # its key before a redirect too
            del self.sites_by_key[key]
        self.closed_doors -= {door for door in self.closed_doors if door[0] == site.origin}
        self.assembler.forget(site)
        self.forget_items(site)
        site.forget_posts()
        self.crawler.signals.send_catch_log(site_ended, site=site.origin)

    def forget_items(self, site: Site) -> None:
        """Stops counting the site's items out in the pipelines."""
        if not site.items_pending:  # a site that ends done has none
            return
        for key in [key for key, sites in self.items_out.items() if site in sites]:
            if not (others := [other for other in self.items_out[key] if other is not site]):
                del self.items_out[key]
            else:
                self.items_out[key] = others
        site.items_pending = 0

    def closed(self, reason: str) -> None:
        if self.hand_back_task is not None and self.hand_back_task.running:
            self.hand_back_task.stop()
        for site in self.sites.values():
            # Not one that ended already (its lock was left to release); one done in the last second ended all
            # the same, whatever stopped the run.
            if site.failure is None and not self.has_ended(site):
                self.end_site(site, ended=reason == "finished" or self.site_done(site))
        if self.waiting_sites:
            logger.warning("%d sites were not started: the run stopped before their turn (CONCURRENT_SITES=%d); "
                           "their next run crawls them", len(self.waiting_sites), self.concurrent_sites)
            self.crawler.stats.set_value("viewworld/sites_not_started", len(self.waiting_sites))
        self.store.unlock_all()
        if self.assembler.waiting_posts:
            logger.error("%d posts were still waiting for linked resources at the end", self.assembler.waiting_posts)

    def end_site(self, site: Site, ended: bool) -> None:
        """Says what the run did for ``site`` and keeps its new state (``ended``: the crawl of the site ran to
        its end: it is done, see :meth:`hand_back`, or the crawl closed as finished)."""
        stats = self.crawler.stats
        output_failed = bool(stats.get_value("viewworld/output_failed"))
        finished = ended and not output_failed
        waiting = self.assembler.waiting_by_site[site.origin]
        if finished and (site.in_flight or waiting):
            logger.error("%s: the walk did not end: %d posts pages, %d id listing pages and %d batches never answered "
                         "(dropped by a middleware?), %d posts waiting for them; the mark stays where it was",
                         site.url, site.pages_in_flight, site.listing_in_flight, site.batches_in_flight, waiting)
            finished = False
        seen = len(site.post_ids)
        logger.info("%s: %d posts seen (%d unchanged since the last run), %d written, %d deleted; "
                    "X-WP-Total %s", site.url, seen, site.unchanged, len(site.written), len(site.tombstones),
                    site.total)
        if seen == 0 and site.mode == FULL and ended:
            logger.error("%s: the API listed no post at all", site.url)
            stats.inc_value("viewworld/sites_empty")
        if site.mode != ONE_OFF and site.state is not None:  # none when its lock or state could not be had
            state = site.next_state(finished, utc_now(), written_kept=not output_failed,
                                    run=stats.get_value("viewworld/run"),
                                    output=stats.get_value(f"sites/{site.key}/output"))
            state.resources = self.assembler.known_resources(site)
            if site.retry_posts:
                logger.warning("%s: %d posts were written without a linked resource whose request failed (each "
                               "record's errors say which); %s", site.url, len(site.retry_posts),
                               f"{site.retries_given_up} of them lacked it {RETRY_RUNS} runs in a row and stay so, "
                               "the others are fetched again by the next run" if site.retries_given_up else
                               "the next run fetches them again")
            try:
                self.store.save(state)
            except self.store.save_errors as error:
                logger.error("%s: the state cannot be saved in %s: %s; the next run crawls again what this "
                             "one did", site.url, self.store.location, getattr(error, "strerror", None) or error)
                stats.set_value("viewworld/state_unsaved", True)


def item_key(item: Any) -> tuple[str, int, bool] | None:
    """What says which post or tombstone an item is, whatever object a pipeline made of it: (site key, post id,
    whether it is a tombstone); None for an item that says neither.

    >>> item_key(Tombstone("example.org", 7)), item_key({"site": "example.org", "id": 7, "title": "Hello"})
    (('example.org', 7, True), ('example.org', 7, False))
    """
    if isinstance(item, (Post, Tombstone)):
        return item.site, item.id, isinstance(item, Tombstone)
    if not ItemAdapter.is_item(item):
        return None
    adapter = ItemAdapter(item)
    site, post_id = adapter.get("site"), adapter.get("id")
    if not isinstance(site, str) or not isinstance(post_id, int):
        return None
    return site, post_id, bool(adapter.get("deleted"))
