"""``wpposts``: every published post of WordPress sites, through the REST API.

The map of the crawl, per site:

1. take the site's lock and state: a full crawl the first time (or with ``full=1``), else incremental;
2. discover the API root (remembered from the last run; else the home page's ``Link`` header, its
   ``<link>`` tag, ``/wp-json/``, ``/?rest_route=/``), and check the application password if any;
3. walk ``wp/v2/posts``, a few pages at a time once the first tells how many; an incremental run asks
   only for posts modified since the mark; any run skips posts already written at their current
   version (except with ``full=1``);
4. hand each post to the assembler, which batches its linked resources into ``include=`` requests,
   and yield each post once everything it links to has arrived or failed;
5. when the walk may have missed posts (the count moved under it) or a deletion sweep is due, list the
   public ids (``_fields=id``), and in an incremental run those published since the mark (``after=``: a
   scheduled post goes public with an old ``modified_gmt``); fetch what the walk missed, and ask by id
   for the posts written before that no listing showed: a tombstone for each that does not come back;
6. as soon as the site is done (or when the crawl closes), keep its new state: what was written, and the
   mark when nothing was lost.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from scrapy import Request, Spider, signals
from scrapy.exceptions import DontCloseSpider, IgnoreRequest
from scrapy.spidermiddlewares.httperror import HttpError

from viewworld import cluster
from viewworld.cluster import ClusterClaims
from viewworld.arguments import CrawlArguments
from viewworld.assembly import Batch, PostAssembler, build_post, gmt
from viewworld.credentials import credentials_configured, credentials_for_sites, tls_unsafe_for_credentials
from viewworld.output import recover_part_files
from viewworld.sites import FULL, INCREMENTAL, LOCKED, ONE_OFF, Site
from viewworld.spiders.common import answer_error, describe_failure, is_json, utc_now, with_int_id
from viewworld.spiders.discovery import ApiDiscovery
from viewworld.spiders.ending import SiteEnding
from viewworld.spiders.listing import IdListing
from viewworld.state import SiteLocked, StateStore, parse_utc, utc_text
from viewworld.wordpress import (
    MAX_PAGES,
    MAX_PER_PAGE,
    ApiRoot,
    Pagination,
    WordPressError,
    capped_page_size,
    http_date,
    links_like,
    loads,
    pagination,
    per_page_refused,
    plausible_total_pages,
    post_links,
    posts_fields,
)


if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Iterator, Mapping

    from scrapy.crawler import Crawler
    from scrapy.http import Response
    from scrapy.settings import BaseSettings
    from twisted.python.failure import Failure


logger = logging.getLogger(__name__)

# Linked resources go before further posts pages, so that posts complete (and leave memory) early.
BATCH_PRIORITY = 10
EARLY_FLUSH_MIN_PAGES = 5
# Error answers whose JSON names what WordPress said; other statuses are retried or fail as usual.
WORDPRESS_ERROR_STATUSES = [400, 401, 403, 404, 410]
# Errors a site's security settings give on purpose: the field stays empty, with a warning, not an error.
CLOSED_DOOR_CODES = {"rest_user_cannot_view", "rest_cannot_read", "rest_forbidden", "rest_login_required",
                     "rest_cannot_view", "rest_not_logged_in"}
PAGE_PAST_THE_END = "rest_post_invalid_page_number"
# A linked resource's request that failed with these (0: no answer; 200: no JSON list) may succeed next run.
PASSING_STATUSES = {0, 200, 408, 425, 429}
ALL_ERROR_STATUSES = list(range(400, 600))
# Errors on the first posts page that mean the site will not be crawled at all (exit 3).
BLOCKED_CODES = {"rest_login_required", "rest_disabled", "rest_forbidden", "rest_cannot_access",
                 "cloudflare_challenge", "login_page", "html_instead_of_json"}
REVISION_FIELDS = "id,date_gmt,modified_gmt,author,title,content"


class WpPostsSpider(ClusterClaims, ApiDiscovery, IdListing, SiteEnding, Spider):
    name = "wpposts"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__()
        self.arguments = self.check_arguments(kwargs)
        credentials = credentials_for_sites(self.arguments.sites)
        self.waiting_sites = deque(Site(url, credentials=credentials.get(url)) for url in self.arguments.sites)
        """Sites given and not started yet: a run on one machine crawls ``CONCURRENT_SITES`` at a time."""
        self.sites: dict[str, Site] = {}
        """The sites being crawled, by the URL they were given as."""
        self.sites_by_key: dict[str, Site] = {}
        self.handed_back: dict[str, Site] = {}
        """Sites ended and forgotten while the crawl goes on (see :meth:`hand_back`), for the summary."""
        self.hand_back_task: Any = None
        self.items_out: dict[tuple[str, int, bool], list[Site]] = {}
        """The site of each item handed to the item pipelines and not yet written or lost, by what the item says
        (site key, post id, tombstone or not; see ``viewworld.spiders.ending.item_key``)."""
        self.unendable: set[str] = set()
        """Sites (origins) whose ending failed on an error nothing foresaw: they end with the run."""
        self.closed_doors: set[tuple[str, str, str]] = set()
        self.credentials_withheld: set[str] = set()
        """Sites whose credentials a request was refused (said once)."""
        self.tls_unsafe: str | None = None
        """Why a password would not be safe over TLS in this crawl (see tls_unsafe_for_credentials), or None."""

    @staticmethod
    def check_arguments(raw: Mapping[str, object]) -> CrawlArguments:
        """Validates arguments and credentials before a crawl starts (the crawl command calls this too)."""
        arguments = CrawlArguments.parse(raw)
        credentials_for_sites(arguments.sites)
        return arguments

    @classmethod
    def run_plan(cls, raw: Mapping[str, object]) -> tuple[int, list[str]]:
        """How many sites a run crawls (the crawl command checks the files it may keep open), and the state keys
        whose locks it takes before it starts (none for a one-off crawl)."""
        arguments = cls.check_arguments(raw)
        return len(arguments.sites), [] if arguments.one_off else [Site(url).state_key for url in arguments.sites]

    @classmethod
    def update_settings(cls, settings: BaseSettings) -> None:
        super().update_settings(settings)
        cluster.configure(settings)
        if credentials_configured():  # the crawl command refuses a DOWNLOAD_VERIFY_CERTIFICATES=False given with -s
            settings.set("DOWNLOAD_VERIFY_CERTIFICATES", True, priority="spider")

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> WpPostsSpider:
        spider = super().from_crawler(crawler, *args, **kwargs)
        settings = crawler.settings
        spider.assembler = PostAssembler(max_waiting_posts=settings.getint("ASSEMBLY_MAX_WAITING_POSTS"))
        spider.clustered = bool(settings.get("REDIS_URL"))
        if spider.clustered:
            spider.worker = cluster.worker_name()
            spider.store = cluster.RedisStateStore(cluster.redis_client(settings), spider.worker)
        else:
            spider.store = StateStore(Path(settings["STATE_DIR"]))
        spider.output_dir = Path(settings["OUTPUT_DIR"])
        spider.overlap = timedelta(seconds=settings.getfloat("INCREMENTAL_OVERLAP"))
        spider.sweep_interval = settings.getfloat("DELETION_SWEEP_INTERVAL")
        spider.only_needed_fields = settings.getbool("POSTS_ONLY_NEEDED_FIELDS")
        spider.revision_counts = settings.getbool("REVISION_COUNTS", True)
        spider.concurrency = settings.getint("CONCURRENT_REQUESTS_PER_DOMAIN")
        spider.tls_unsafe = tls_unsafe_for_credentials(settings)
        if credentials_configured() and spider.tls_unsafe is None:
            logger.info("TLS certificates are verified (DOWNLOAD_VERIFY_CERTIFICATES): credentials are set")
        spider.concurrent_sites = max(settings.getint("CONCURRENT_SITES"), 0)
        crawler.signals.connect(spider.flush_batches_when_idle, signal=signals.spider_idle)
        crawler.signals.connect(spider.start_hand_backs, signal=signals.spider_opened)
        crawler.signals.connect(spider.item_lost, signal=signals.item_dropped)
        crawler.signals.connect(spider.item_failed, signal=signals.item_error)
        return spider

    async def start(self) -> AsyncIterator[Any]:
        if self.clustered:
            # Workers share a queue of sites: a site given here is queued for whichever worker is free, and is this
            # worker's only once it claims it (which may come before this generator is asked for the next one).
            given = [site.origin for site in self.waiting_sites] if self.arguments.sites_given else []
            self.waiting_sites.clear()
            for origin in given:
                yield self.claim_request(origin, self.arguments.site_options)
            return
        for request in self.start_waiting_sites():
            yield request

    def start_waiting_sites(self) -> Iterator[Request]:
        """The first requests of the sites given, in order, while fewer than ``CONCURRENT_SITES`` (0: no limit)
        are crawled; the others start as sites end (:meth:`hand_back_finished_sites`). A run of hundreds of
        sites thus finishes them one after another, each with open files, sockets and memory for a few at a
        time, and a run cut short keeps the sites it finished."""
        while self.waiting_sites and not self.clustered and not self.stopping() and not (
                self.concurrent_sites and self.sites_crawled() >= self.concurrent_sites):
            site = self.waiting_sites.popleft()
            self.sites[site.origin] = site
            try:
                requests = list(self.first_requests(site)) if self.prepare(site) else []
            except Exception as error:  # nothing foresaw it: this site is given up, the others go on
                logger.exception("%s: cannot be started", site.url)
                self.give_up(site, f"cannot be started: {error!r}")
                continue
            yield from requests

    def sites_crawled(self) -> int:
        """Sites started and not ended, but for those given up (they end within the second) and those whose
        ending failed (they end with the run)."""
        return sum(1 for site in self.sites.values() if site.failure is None and site.origin not in self.unendable)

    def stopping(self) -> bool:
        """Whether the crawl is closing (SIGTERM, ``CLOSESPIDER_*``, an output that failed): no site starts then."""
        if self.crawler.stats.get_value("viewworld/output_failed"):  # the close is scheduled
            return True
        try:
            engine = self.crawler.engine
        except RuntimeError:  # no engine yet: the spider's callbacks called directly
            return False
        slot = engine._slot  # Scrapy's: set from the spider's opening until its close, ``closing`` once that began
        return not engine.running or slot is None or slot.closing is not None

    def first_requests(self, site: Site) -> Iterator[Request]:
        if site.root_remembered:
            yield from self.check_credentials_or_start(site)
        else:
            yield self.request(site, site.url + "/", self.parse_home, self.site_unreachable,
                               handle_all_statuses=True)

    # 1. Lock and state ------------------------------------------------------------------------------

    def prepare(self, site: Site) -> bool:
        site.started = time.monotonic()
        if not self.known_as(site):
            return False
        options = site.options or self.arguments.site_options
        site.per_page = options.per_page
        if self.arguments.one_off:
            site.mode = ONE_OFF
            return True
        try:
            self.store.lock(site.state_key)
            site.state = self.store.load(site.state_key)
        except SiteLocked as error:
            site.failure = LOCKED
            if self.clustered:  # another worker has the site: nothing wrong
                logger.info("%s: %s; another worker crawls it", site.url, error)
                return False
            logger.warning("%s: skipped: %s (is another crawl of this site still running?)", site.url, error)
            self.crawler.stats.inc_value("viewworld/sites_locked")
            return False
        except ValueError as error:
            self.give_up(site, str(error), stat="viewworld/state_damaged")
            return False
        if site.state.api_root:
            site.use_root(ApiRoot.from_url(site.state.api_root))
            site.root_remembered = True
            if not self.known_as(site):
                return False
        recovered, failure = 0, None
        try:
            for key in site.output_keys():
                for path, records, versions, retry in recover_part_files(self.output_dir / key):
                    logger.warning("%s: recovered %d records a dead run left in %s", site.url, records, path)
                    known = site.state.posts  # a version written since (a killed one-off run's file) is kept
                    for post_id in retry:  # written lacking a resource that may come now (full=1: at the same version)
                        if post_id in versions and (known.get(post_id) is None or versions[post_id] >= known[post_id]):
                            site.state.retry.setdefault(post_id, 1)
                    known.update({post_id: version for post_id, version in versions.items()
                                  if known.get(post_id) is None or version > known[post_id]})
                    recovered += 1
        except OSError as error:  # a disk full, a file not ours: crawled now, the site would write them again
            failure = f"the files a dead run left under {self.output_dir} cannot be completed: {error}"
        if recovered:
            # Their .part files are gone: what they held is recorded now, whatever becomes of this run.
            try:
                self.store.save(site.state)
            except self.store.save_errors as error:
                logger.warning("%s: the state cannot be saved in %s: %s; the posts recovered are recorded when the "
                               "site ends, else written again by its next run", site.url, self.store.location,
                               getattr(error, "strerror", None) or error)
        if failure is not None:
            self.give_up(site, failure, stat="viewworld/recovery_failed")  # the output's disk: exit 5
            return False
        full = options.full or site.state.mark is None
        now = datetime.now(UTC)
        site.mode = FULL if full else INCREMENTAL
        site.rewrite = options.full
        site.sweep = full or options.sweep or site.state.sweep_due(self.sweep_interval, now)
        if site.state.per_page and not site.sweep:
            # A cap an earlier run found; a sweep asks the usual size again, and finds it again if it still holds
            # (a page 1 short because a plugin hides some posts would otherwise lower it run after run).
            site.per_page = min(site.per_page, site.state.per_page)
        # Authors and terms change rarely: an incremental run reuses them, a full crawl or a day refreshes them.
        if not full and site.state.resources_fresh(self.sweep_interval, now):
            self.assembler.preload(site, site.state.resources)
        else:
            site.state.resources_fetched_at = utc_text(now)
        logger.info("%s: %s crawl%s", site.url, site.mode, " with a deletion sweep" if site.sweep else "")
        return True

    # 2. Discovery: viewworld/spiders/discovery.py ----------------------------------------------------

    # 3. The walk ------------------------------------------------------------------------------------

    def posts_filter(self, site: Site) -> dict[str, object]:
        arguments, params = self.arguments, {}
        # WordPress's after/before are strict; ours are inclusive.
        if arguments.since:
            params["after"] = utc_text(arguments.since - timedelta(seconds=1))
        if arguments.until:
            params["before"] = utc_text(arguments.until + timedelta(seconds=1))
        if site.mode == INCREMENTAL and (since_mark := self.since_mark(site)):
            params["modified_after"] = since_mark
        return params

    def since_mark(self, site: Site) -> str | None:
        """Where an incremental run starts: the mark less ``INCREMENTAL_OVERLAP``."""
        if site.state is None or not site.state.mark:
            return None
        return utc_text(parse_utc(site.state.mark) - self.overlap)

    def first_pages(self, site: Site) -> Iterator[Request]:
        """Page 1 and, in a full crawl of a site just discovered, the pages after it up to the site's
        concurrency (``CONCURRENT_REQUESTS_PER_DOMAIN``): while WordPress computes page 1, which says
        how many pages there are, the other slots fetch pages there are on any site of that size. On a
        smaller site the extra pages come back 400 ``rest_post_invalid_page_number``, which ends nothing."""
        yield self.posts_request(site, 1)
        if site.mode != FULL or site.root_remembered:
            return
        ahead = min(self.concurrency, self.page_limit(site))
        for page in range(2, ahead + 1):
            yield self.posts_request(site, page)

    def posts_request(self, site: Site, page: int, include: list[int] | None = None) -> Request:
        """Posts page ``page`` of the walk, or (page 0) the posts of ``include``."""
        assert site.api_root is not None
        if include is not None:
            params = site.posts_by_id(include)
        else:
            params = {"per_page": site.per_page, "page": page, **site.posts_order(), **self.posts_filter(site)}
        lean = bool(self.only_needed_fields and site.posts_fields)
        if lean:
            params["_fields"] = site.posts_fields
        site.pages_in_flight += 1
        site.pages_requested = max(site.pages_requested, page)
        return self.request(site, site.api_root.endpoint("/wp/v2/posts", params), self.parse_posts_page,
                            self.posts_page_failed, cb_kwargs={"page": page, "per_page": site.per_page, "lean": lean})

    def parse_posts_page(self, response: Response, site_id: str, page: int, per_page: int,
                         lean: bool) -> Iterator[Any]:
        site = self.sites[site_id]
        site.pages_in_flight -= 1
        if site.failure is not None:  # a page asked for with page 1, which said the site cannot be crawled
            return
        if page > 1 and (per_page != site.per_page or per_page_refused(response.status, response.body)):
            # Asked for with page 1 at a per_page the site refuses: page 1 steps it down and walks again.
            yield from self.after_page(site)
            return
        if page == 1 and site.root_remembered and not is_json(response):
            yield from self.rediscover(site, response)
            return
        if page == 1 and site.per_page > 1 and per_page_refused(response.status, response.body):
            refused = site.per_page
            site.lower_page_size(refused // 2)
            logger.warning("%s: the site refuses per_page=%d; asking %d a page", site.url, refused, site.per_page)
            site.pages_requested = site.last_page = 0
            yield from self.first_pages(site)
            return
        if page == 1 and response.status in (401, 403):
            error = answer_error(response)
            if error.code in BLOCKED_CODES or not is_json(response):
                self.give_up(site, f"{response.url}: {error}")
                return
        answer = self.read_list(site, response, "posts page")
        if answer is not None and lean and site.links_template is None and \
                not all(isinstance(raw.get("_links"), dict) for raw in answer[0]):
            # Something between WordPress and us drops _links when _fields names them: whole pages from now on.
            logger.warning("%s: posts asked for with _fields came without _links; asking for whole pages", site.url)
            site.posts_fields = ""
            yield self.posts_request(site, page, include=None if page else [raw["id"] for raw in answer[0]])
            yield from self.after_page(site)
            return
        if answer is not None:
            posts, listed_count, pages = answer
            site.pages += 1
            with_links = self.revision_counts or site.credentials is not None  # revisions to fetch need the counts
            for raw in posts if site.posts_fields is None else ():
                if (fields := posts_fields(raw, with_links)) is not None:
                    site.posts_fields = fields  # the pages asked for from now on use it
                    site.links_template = None if with_links else raw["_links"]
                    break
            if page == 1:
                site.total = pages.total
                site.walk_started = http_date(response.headers.get("Date"))
            if page == 1 and (size := capped_page_size(site.per_page, listed_count, pages.total)):
                self.adopt_page_size(site, size, pages.total)
            elif page and (last := self.last_page_told(site, pages, page, listed_count, self.page_limit(site))):
                site.last_page = max(site.last_page, last)
            elif not page and (pages.total or 0) > listed_count:
                self.page_lost(site, response.url, f"posts by id: {listed_count} of the {pages.total} asked for came "
                                                   "back (the site caps its pages)")
            yield from self.more_pages(site)  # before this page's posts are assembled: the slots stay busy
            now = utc_now()
            for raw in posts:
                try:
                    self.add_post(site, raw, now)
                except Exception as error:  # noqa: BLE001 - one post nothing foresaw must not end the page's others
                    self.page_lost(site, response.url, f"post {raw['id']} cannot be read: {error!r}")
        yield from self.after_page(site, first=page == 1)

    def posts_page_failed(self, failure: Failure) -> Iterator[Any]:
        site = self.sites[failure.request.cb_kwargs["site_id"]]
        site.pages_in_flight -= 1
        if site.failure is not None:
            return
        self.page_lost(site, failure.request.url, describe_failure(failure))
        yield from self.after_page(site)

    def rediscover(self, site: Site, response: Response) -> Iterator[Request]:
        """The remembered API root no longer answers: discover it again."""
        logger.warning("%s: the remembered API root %s did not answer (%s); discovering it again", site.url,
                       response.url, answer_error(response))
        site.root_remembered, site.api_root = False, None
        yield from self.first_requests(site)

    def read_list(self, site: Site, response: Response,
                  what: str) -> tuple[list[dict[str, Any]], int, Pagination] | None:
        """The items of a list answer that have a usable id, how many items it listed and its pagination
        headers; None (and the page counted as lost, unless past the end) when it is not a list."""
        if response.status != 200:
            error = answer_error(response)
            if error.code != PAGE_PAST_THE_END:
                self.page_lost(site, response.url, f"{what}: {error}")
            return None
        try:
            answer = loads(response.body)
        except ValueError:
            answer = answer_error(response)  # a 200 that is no JSON
        if not isinstance(answer, list):
            self.page_lost(site, response.url, f"{what}: {answer if isinstance(answer, WordPressError) else 'not a list'}")
            return None
        pages = pagination(response.headers.to_unicode_dict(), response.url)
        if pages.total is not None and what == "posts page":
            site.totals.add(pages.total)
        items = [item for item in (with_int_id(entry) for entry in answer) if item is not None]
        if len(items) < len(answer):
            self.page_lost(site, response.url, f"{what}: {len(answer) - len(items)} items without a usable id")
        return items, len(answer), pages

    def last_page_told(self, site: Site, pages: Pagination, page: int, count: int, limit: int) -> int | None:
        """The last page a list answer says there is: page 1's ``X-WP-TotalPages``; without it (caches strip
        it), or when it cannot be true, the next page while pages come back full. None: nothing new."""
        total_pages = pages.total_pages
        if total_pages is not None and not plausible_total_pages(pages.total, total_pages, site.per_page, count):
            if page == 1:
                logger.warning("%s: X-WP-TotalPages %s cannot be true (X-WP-Total %s, %d on page 1); walking "
                               "the pages instead", site.url, total_pages, pages.total, count)
            total_pages = None
        if total_pages is not None:
            return min(total_pages, limit) if page == 1 else None
        if page == 1:
            logger.info("%s: no usable X-WP-TotalPages; walking the pages until a short one", site.url)
        return page + 1 if count >= site.per_page and page < limit else None

    def more_pages(self, site: Site) -> Iterator[Request]:
        """The walk's next pages up to ``last_page``, one more than the site's concurrency in flight (those
        asked for with page 1 are not asked again). Asked for all at once, they would fill the downloader's
        queue of the site (first in, first out: Scrapy moves up to ``CONCURRENT_REQUESTS`` requests out of
        its priority queue), and the ``include=`` batches their posts wait for would come after the last
        page, and those posts' cleaning with them."""
        window = self.concurrency + 1
        while site.failure is None and site.pages_requested < site.last_page and site.pages_in_flight < window:
            yield self.posts_request(site, site.pages_requested + 1)

    def adopt_page_size(self, site: Site, size: int, total: int) -> None:
        """Page 1 came back short while ``X-WP-Total`` says there are more posts: the site serves ``size`` a page
        whatever was asked (a plugin's cap), or hides some of each page. The walk goes on at that size, from page
        2, to the last page the count allows (pages asked for at the old size are dropped as they come)."""
        logger.warning("%s: page 1 held %d posts of the %d asked for, of %d (X-WP-Total): the site caps its pages; "
                       "asking %d a page", site.url, size, site.per_page, total, size)
        site.lower_page_size(size)
        site.pages_requested = 1
        site.last_page = min(-(-total // size), self.page_limit(site))

    def page_limit(self, site: Site) -> int:
        max_posts = self.arguments.max_posts
        return -(-max_posts // site.per_page) if max_posts else MAX_PAGES

    def page_lost(self, site: Site, url: str, reason: str) -> None:
        logger.error("%s: page lost: %s: %s", site.url, url, reason)
        site.pages_lost += 1
        self.crawler.stats.inc_value("viewworld/pages_failed")
        self.crawler.stats.inc_value(f"sites/{site.key}/errors")

    def add_post(self, site: Site, raw: dict[str, Any], crawled_at: str) -> None:
        if not site.accept(raw["id"], gmt(raw.get("modified_gmt")), self.arguments.max_posts):
            return
        linked = isinstance(raw.get("_links"), dict)
        if not linked and site.links_template is not None and site.api_root is not None:
            raw["_links"] = links_like(raw, site.links_template, site.api_root)
        post = build_post(site, raw, crawled_at)
        if not linked:
            post.revisions["count"] = None  # unknown: not asked for (REVISION_COUNTS off), or not sent
        revisions_url = None
        if site.credentials is not None and post.revisions["count"] and site.api_root is not None:
            revisions_url = site.api_root.endpoint(f"/wp/v2/posts/{post.id}/revisions",
                                                   {"per_page": MAX_PER_PAGE, "_fields": REVISION_FIELDS})
        self.assembler.add(site, post, site.over_https_links(post_links(raw)), revisions_url)

    def after_page(self, site: Site, first: bool = False) -> Iterator[Any]:
        """What a posts page's answer (``first``: page 1's) leaves to do: more pages, the end of the walk,
        the batches due."""
        yield from self.more_pages(site)
        walk_done = site.pages_in_flight == 0 and site.listed is None and site.failure is None
        if walk_done and site.api_root is not None:
            yield from self.list_ids_or_finish(site)
        # On a site of many pages, the first page's partial batches go at once: they name most of its
        # authors and terms (and many of its images), so later posts complete as their pages arrive and
        # cleaning runs while pages download, not all at the end. Later partial batches wait to fill up.
        early = first and (site.total or 0) > EARLY_FLUSH_MIN_PAGES * site.per_page
        yield from self.assembled(flush_site=site if site.pages_in_flight == 0 or early else None)

    # 5. Listing ids, what the walk missed and what was deleted: viewworld/spiders/listing.py ---------

    # 4. Linked resources ----------------------------------------------------------------------------

    def assembled(self, *, flush: bool = False, flush_site: Site | None = None) -> Iterator[Any]:
        """The requests for linked resources now due, then the posts now complete (counted as pending before
        anything is yielded: a site is never seen done between the two)."""
        requests = [self.batch_request(batch) for batch in self.assembler.batches(flush=flush, flush_site=flush_site)]
        ready = [self.handed_out(post) for post in self.assembler.ready()]
        yield from requests
        yield from ready

    def batch_request(self, batch: Batch) -> Request:
        site = self.sites[batch.site]  # the site the batch goes out as: it does not end before the answer
        site.batches_in_flight += 1
        return self.request(site, batch.url, self.parse_batch, self.batch_failed, priority=BATCH_PRIORITY,
                            cb_kwargs={"batch": batch}, authorized=batch.post_id is not None)

    def parse_batch(self, response: Response, site_id: str, batch: Batch) -> Iterator[Any]:
        site = self.sites[site_id]
        site.batches_in_flight -= 1
        if per_page_refused(response.status, response.body) and (size := self.assembler.refused(batch)) is not None:
            if size:
                logger.warning("%s: the site refuses per_page=%d for %s; asking %d at a time", site.url,
                               batch.per_page, batch.field, size)
            yield from self.assembled(flush_site=site if site.pages_in_flight == 0 else None)
            return
        if response.status == 200:
            try:
                resources = loads(response.body)
            except ValueError:
                resources = None
            if isinstance(resources, list):
                self.assembler.resolve(batch, resources)
                yield from self.assembled()
                return
        self.linked_failed(batch, answer_error(response))
        yield from self.assembled()

    def batch_failed(self, failure: Failure) -> Iterator[Any]:
        batch = failure.request.cb_kwargs["batch"]
        self.sites[failure.request.cb_kwargs["site_id"]].batches_in_flight -= 1
        if isinstance(failure.value, HttpError):  # an error answer: WordPress's words, and its status
            error = answer_error(failure.value.response)
        elif isinstance(failure.value, IgnoreRequest):  # robots.txt, a middleware: not to be asked again
            error = WordPressError(0, "request_ignored", describe_failure(failure))
        else:
            error = WordPressError(0, "request_failed", describe_failure(failure))
        self.linked_failed(batch, error)
        yield from self.assembled()

    def linked_failed(self, batch: Batch, error: WordPressError) -> None:
        closed = error.code in CLOSED_DOOR_CODES
        if closed:
            # A door closed on purpose (revisions, /users) is said once per site and kind, not per post.
            if (batch.site, batch.field, error.code) not in self.closed_doors:
                self.closed_doors.add((batch.site, batch.field, error.code))
                logger.warning("%s: %s unavailable (%s), e.g. %s; the field stays empty", batch.site,
                               batch.field, error, batch.url)
        else:
            logger.error("%s: linked resources unavailable: %s: %s", batch.site, batch.url, error)
            self.crawler.stats.inc_value("viewworld/linked_failed")
            self.crawler.stats.inc_value(f"sites/{self.sites[batch.site].key}/errors")
        passing = not closed and error.code != "request_ignored" and (
            error.status in PASSING_STATUSES or error.status >= 500)
        self.assembler.fail(batch, str(error), whole_collection=closed and batch.post_id is None, passing=passing)

    def flush_batches_when_idle(self) -> None:
        """Partial batches wait to fill up; once nothing else is left to do, they go as they are. With nothing at
        all in flight, a site that is not done then never will be: it ends (see :meth:`end_stuck_sites`), and the
        sites waiting for their turn start."""
        requests = list(self.assembled(flush=True))
        stopping = self.stopping()
        if not requests and not stopping:
            requests = self.end_stuck_sites() or list(self.start_waiting_sites())
        for request in requests:
            self.crawler.engine.crawl(request)
        if requests or self.waiting_sites and not stopping:
            raise DontCloseSpider  # sites still to start: the next ends within a second, and the next starts

    # 6. The end: each site as soon as it is done, the rest when the crawl closes: viewworld/spiders/ending.py

    # Plumbing ---------------------------------------------------------------------------------------

    def request(self, site: Site, url: str, callback: Any, errback: Any, *, handle_all_statuses: bool = False,
                priority: int = 0, cb_kwargs: dict[str, Any] | None = None, authorized: bool = False) -> Request:
        # Credentials are added by SiteScopeMiddleware at download time, so they never sit in a queue.
        meta: dict[str, Any] = {"site": site.origin, "authorized": authorized}
        if handle_all_statuses:
            # Every error status reaches the callback; redirects still go through RedirectMiddleware
            # (handle_httpstatus_all would turn it off and a site's http -> https redirect with it).
            meta["handle_httpstatus_list"] = ALL_ERROR_STATUSES
        else:
            meta["handle_httpstatus_list"] = WORDPRESS_ERROR_STATUSES
        # dont_filter: what is asked twice is asked on purpose (page 1 again after a step-down of per_page,
        # a rediscovered root, a page asked for again whole).
        return Request(url, callback=callback, errback=errback, priority=priority, meta=meta, dont_filter=True,
                       cb_kwargs={"site_id": site.origin, **(cb_kwargs or {})})

    def credentials_for(self, site_origin: str, url: str | None = None) -> Any:
        """The credentials a request of ``site_origin`` to ``url`` carries: none to another scheme or host than
        the site's API root's, nor over http to a site given as https (said once a site)."""
        site = self.sites.get(site_origin)
        if site is None or site.credentials is None:
            return None
        if url is None:
            return site.credentials
        if not site.credentials_go_to(url):
            withheld = f"only over https, to the API root's host {site.api_root.netloc if site.api_root else '?'}"
        elif url.startswith("https://") and self.tls_unsafe is not None:
            withheld = self.tls_unsafe  # the crawl command refuses this; another way of running the spider may not
        else:
            return site.credentials
        if site_origin not in self.credentials_withheld:
            self.credentials_withheld.add(site_origin)
            logger.warning("%s: the application password is not sent to %s (%s)", site.url, url.split("?", 1)[0],
                           withheld)
        return None

