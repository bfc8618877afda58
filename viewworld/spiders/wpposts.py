"""``wpposts``: every published post of WordPress sites, through the REST API.

The map of the crawl, per site:

1. discover the API root (home page ``Link`` header, its ``<link>`` tag, ``/wp-json/``, ``/?rest_route=/``);
2. check the application password, when there is one;
3. page through ``wp/v2/posts``, all pages scheduled at once once the first tells how many;
4. hand each post to the assembler, which batches its linked resources into ``include=`` requests;
5. yield each post once everything it links to has arrived or failed.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from scrapy import Request, Spider, signals
from scrapy.exceptions import DontCloseSpider

from viewworld.arguments import CrawlArguments
from viewworld.assembly import Batch, PostAssembler, build_post
from viewworld.credentials import credentials_for_sites
from viewworld.sites import Site, same_site
from viewworld.wordpress import (
    MAX_PER_PAGE,
    ApiRoot,
    WordPressError,
    api_root_from_html,
    api_root_from_link_headers,
    error_from_answer,
    fallback_api_roots,
    is_api_index,
    loads,
    pagination,
    post_links,
)

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Iterator, Mapping

    from scrapy.crawler import Crawler
    from scrapy.http import Response
    from twisted.python.failure import Failure

logger = logging.getLogger(__name__)

# Linked resources go before further posts pages, so that posts complete (and leave memory) early.
BATCH_PRIORITY = 10
# Error answers whose JSON names what WordPress said; other statuses are retried or fail as usual.
WORDPRESS_ERROR_STATUSES = [400, 401, 403, 404, 410]
# Errors a site's security settings give on purpose: the field stays empty, with a warning, not an error.
CLOSED_DOOR_CODES = {"rest_user_cannot_view", "rest_cannot_read", "rest_forbidden", "rest_login_required",
                     "rest_cannot_view", "rest_not_logged_in"}
PAGE_PAST_THE_END = "rest_post_invalid_page_number"


class WpPostsSpider(Spider):
    name = "wpposts"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__()
        self.arguments = self.check_arguments(kwargs)
        credentials = credentials_for_sites(self.arguments.sites)
        self.sites = {url: Site(url, credentials=credentials.get(url)) for url in self.arguments.sites}

    @staticmethod
    def check_arguments(raw: Mapping[str, object]) -> CrawlArguments:
        """Validates arguments and credentials before a crawl starts (the crawl command calls this too)."""
        arguments = CrawlArguments.parse(raw)
        credentials_for_sites(arguments.sites)
        return arguments

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> WpPostsSpider:
        spider = super().from_crawler(crawler, *args, **kwargs)
        spider.assembler = PostAssembler(max_waiting_posts=crawler.settings.getint("ASSEMBLY_MAX_WAITING_POSTS"))
        crawler.signals.connect(spider.flush_batches_when_idle, signal=signals.spider_idle)
        return spider

    async def start(self) -> AsyncIterator[Any]:
        for site in self.sites.values():
            yield self.request(site, site.url + "/", self.parse_home, self.site_unreachable,
                               handle_all_statuses=True)

    # 1. Discovery -----------------------------------------------------------------------------------

    def parse_home(self, response: Response, site_id: str) -> Iterator[Request]:
        site = self.sites[site_id]
        site.adopt(response.url)
        advertised = api_root_from_link_headers(
            (value.decode("latin-1") for value in response.headers.getlist("Link")), response.url
        )
        if advertised is None and b"html" in (response.headers.get("Content-Type") or b""):
            advertised = api_root_from_html(response.text, response.url)
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
            site.api_root = ApiRoot.from_url(response.url)
            logger.info("%s: REST API at %s", site.url, site.api_root.url)
            yield from self.check_credentials_or_start(site)
            return
        what = "no wp/v2 namespace (WordPress older than 4.7?)" if isinstance(index, dict) else str(
            error_from_answer(response.status, response.body, _content_type(response)))
        answers = [*answers, f"{response.url}: {what}"]
        yield from self.next_root_or_give_up(site, candidates, answers)

    def root_failed(self, failure: Failure) -> Iterator[Request]:
        request = failure.request
        site = self.sites[request.cb_kwargs["site_id"]]
        answers = [*request.cb_kwargs["answers"], f"{request.url}: {failure.getErrorMessage()}"]
        yield from self.next_root_or_give_up(site, request.cb_kwargs["candidates"], answers)

    def next_root_or_give_up(self, site: Site, candidates: list[str], answers: list[str]) -> Iterator[Request]:
        if candidates:
            yield self.root_request(site, candidates, answers)
        else:
            self.give_up(site, "no WordPress REST API found (" + "; ".join(answers) + ")")

    def site_unreachable(self, failure: Failure) -> None:
        site = self.sites[failure.request.cb_kwargs["site_id"]]
        self.give_up(site, f"unreachable: {failure.getErrorMessage()}")

    def give_up(self, site: Site, reason: str) -> None:
        site.failure = reason
        logger.error("%s: cannot be crawled: %s", site.url, reason)
        self.crawler.stats.inc_value("viewworld/sites_failed")

    # 2. Credentials ---------------------------------------------------------------------------------

    def check_credentials_or_start(self, site: Site) -> Iterator[Request]:
        if site.credentials is None:
            yield self.posts_request(site, 1)
            return
        assert site.api_root is not None
        yield self.request(site, site.api_root.endpoint("/wp/v2/users/me", {"_fields": "id,slug"}),
                           self.parse_credentials_check, self.credentials_check_failed, authorized=True)

    def parse_credentials_check(self, response: Response, site_id: str) -> Iterator[Request]:
        site = self.sites[site_id]
        if response.status != 200:
            error = error_from_answer(response.status, response.body, _content_type(response))
            logger.warning("%s: the %s was not accepted (%s); revisions are skipped",
                           site.url, site.credentials, error)
            site.credentials = None
        yield self.posts_request(site, 1)

    def credentials_check_failed(self, failure: Failure) -> Iterator[Request]:
        site = self.sites[failure.request.cb_kwargs["site_id"]]
        logger.warning("%s: could not check the %s (%s); revisions are skipped",
                       site.url, site.credentials, failure.getErrorMessage())
        site.credentials = None
        yield self.posts_request(site, 1)

    # 3. Posts pages ---------------------------------------------------------------------------------

    def posts_request(self, site: Site, page: int) -> Request:
        assert site.api_root is not None
        arguments = self.arguments
        params: dict[str, object] = {"per_page": arguments.per_page, "page": page, "orderby": "id", "order": "desc"}
        # WordPress's after/before are strict; ours are inclusive.
        if arguments.since:
            params["after"] = _wordpress_moment(arguments.since - timedelta(seconds=1))
        if arguments.until:
            params["before"] = _wordpress_moment(arguments.until + timedelta(seconds=1))
        site.pages_in_flight += 1
        return self.request(site, site.api_root.endpoint("/wp/v2/posts", params), self.parse_posts_page,
                            self.posts_page_failed, cb_kwargs={"page": page})

    def parse_posts_page(self, response: Response, site_id: str, page: int) -> Iterator[Any]:
        site = self.sites[site_id]
        site.pages_in_flight -= 1
        posts = self.read_posts_page(site, response, page)
        if posts is not None:
            yield from self.schedule_more_pages(site, response, page, len(posts))
            now = _utc_now()
            for raw in posts:
                self.add_post(site, raw, now)
        yield from self.assembled(flush_site=site if site.pages_in_flight == 0 else None)

    def read_posts_page(self, site: Site, response: Response, page: int) -> list[dict[str, Any]] | None:
        if response.status != 200:
            error = error_from_answer(response.status, response.body, _content_type(response))
            if error.code != PAGE_PAST_THE_END:
                self.page_lost(site, response.url, str(error))
            return None
        try:
            posts = loads(response.body)
        except ValueError:
            self.page_lost(site, response.url, str(error_from_answer(200, response.body, _content_type(response))))
            return None
        if not isinstance(posts, list):
            self.page_lost(site, response.url, "the answer is not a list of posts")
            return None
        return [post for post in posts if isinstance(post, dict) and _is_id(post.get("id"))]

    def schedule_more_pages(self, site: Site, response: Response, page: int, count: int) -> Iterator[Request]:
        limit = self.page_limit()
        if page == 1:
            pages = pagination(response.headers.to_unicode_dict(), response.url)
            site.total = pages.total
            if pages.total_pages is not None:
                for next_page in range(2, min(pages.total_pages, limit) + 1):
                    yield self.posts_request(site, next_page)
                return
            logger.info("%s: no X-WP-TotalPages header; walking the pages until an empty one", site.url)
        elif site.total is not None:
            return
        if count >= self.arguments.per_page and page < limit:
            yield self.posts_request(site, page + 1)

    def page_limit(self) -> int:
        max_posts = self.arguments.max_posts
        return -(-max_posts // self.arguments.per_page) if max_posts else 1_000_000

    def posts_page_failed(self, failure: Failure) -> Iterator[Any]:
        request = failure.request
        site = self.sites[request.cb_kwargs["site_id"]]
        site.pages_in_flight -= 1
        self.page_lost(site, request.url, failure.getErrorMessage())
        yield from self.assembled(flush_site=site if site.pages_in_flight == 0 else None)

    def page_lost(self, site: Site, url: str, reason: str) -> None:
        logger.error("%s: posts page lost: %s: %s", site.url, url, reason)
        self.crawler.stats.inc_value("viewworld/pages_failed")
        self.crawler.stats.inc_value(f"sites/{site.key}/errors")

    # 4. Linked resources ----------------------------------------------------------------------------

    def add_post(self, site: Site, raw: dict[str, Any], crawled_at: str) -> None:
        post_id = raw["id"]
        max_posts = self.arguments.max_posts
        if post_id in site.post_ids or (max_posts and len(site.post_ids) >= max_posts):
            return
        site.post_ids.add(post_id)
        post = build_post(site, raw, crawled_at)
        revisions_url = None
        if site.credentials is not None and post.revisions["count"] and site.api_root is not None:
            revisions_url = site.api_root.endpoint(f"/wp/v2/posts/{post_id}/revisions",
                                                   {"per_page": MAX_PER_PAGE, "_fields": "id,date_gmt,modified_gmt,"
                                                                                         "author,title,content"})
        self.assembler.add(site, post, post_links(raw), revisions_url)

    def assembled(self, *, flush: bool = False, flush_site: Site | None = None) -> Iterator[Any]:
        """The requests for linked resources now due, then the posts now complete."""
        for batch in self.assembler.batches(flush=flush, flush_site=flush_site):
            yield self.batch_request(batch)
        yield from self.assembler.ready()

    def batch_request(self, batch: Batch) -> Request:
        return self.request(batch.site, batch.url, self.parse_batch, self.batch_failed,
                            priority=BATCH_PRIORITY, cb_kwargs={"batch": batch},
                            authorized=batch.post_id is not None)

    def parse_batch(self, response: Response, site_id: str, batch: Batch) -> Iterator[Any]:
        if response.status == 200:
            try:
                resources = loads(response.body)
            except ValueError:
                resources = None
            if isinstance(resources, list):
                self.assembler.resolve(batch, resources)
                yield from self.assembled()
                return
        error = error_from_answer(response.status, response.body, _content_type(response))
        self.linked_failed(batch, error)
        yield from self.assembled()

    def batch_failed(self, failure: Failure) -> Iterator[Any]:
        batch = failure.request.cb_kwargs["batch"]
        self.linked_failed(batch, WordPressError(0, "request_failed", failure.getErrorMessage()))
        yield from self.assembled()

    def linked_failed(self, batch: Batch, error: WordPressError) -> None:
        closed = error.code in CLOSED_DOOR_CODES
        log = logger.warning if closed else logger.error
        log("%s: linked resources unavailable: %s: %s", batch.site.url, batch.url, error)
        if not closed:
            self.crawler.stats.inc_value("viewworld/linked_failed")
            self.crawler.stats.inc_value(f"sites/{batch.site.key}/errors")
        self.assembler.fail(batch, str(error), whole_collection=closed and batch.post_id is None)

    def flush_batches_when_idle(self) -> None:
        """Partial batches wait to fill up; once nothing else is left to do, they go as they are."""
        requests = list(self.assembled(flush=True))
        if not requests:
            return
        for request in requests:
            if isinstance(request, Request):
                self.crawler.engine.crawl(request)
            else:
                logger.error("A post completed while the crawl was idle: %s", request)
        raise DontCloseSpider

    # 5. The end -------------------------------------------------------------------------------------

    def closed(self, reason: str) -> None:
        filtered = self.arguments.since or self.arguments.until or self.arguments.max_posts
        for site in self.sites.values():
            if site.failure is not None:
                continue
            seen = len(site.post_ids)
            if site.total is not None and seen != site.total and not self.arguments.max_posts:
                logger.warning("%s: %d posts seen, X-WP-Total said %d", site.url, seen, site.total)
            else:
                logger.info("%s: %d posts seen (X-WP-Total %s)", site.url, seen, site.total)
            if seen == 0 and not filtered and reason == "finished":
                logger.error("%s: the API listed no post at all", site.url)
                self.crawler.stats.inc_value("viewworld/sites_empty")
        if self.assembler.waiting_posts:
            logger.error("%d posts were still waiting for linked resources at the end",
                         self.assembler.waiting_posts)

    # Plumbing ---------------------------------------------------------------------------------------

    def request(self, site: Site, url: str, callback: Any, errback: Any, *, handle_all_statuses: bool = False,
                priority: int = 0, cb_kwargs: dict[str, Any] | None = None, authorized: bool = False) -> Request:
        meta: dict[str, Any] = {"site": site.origin}
        if handle_all_statuses:
            meta["handle_httpstatus_all"] = True
        else:
            meta["handle_httpstatus_list"] = WORDPRESS_ERROR_STATUSES
        headers = {}
        if authorized and site.credentials is not None and same_site(site.url, url):
            headers["Authorization"] = site.credentials.authorization()
        return Request(url, callback=callback, errback=errback, priority=priority, meta=meta, headers=headers,
                       cb_kwargs={"site_id": site.origin, **(cb_kwargs or {})})


def _wordpress_moment(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _utc_now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _content_type(response: Response) -> str:
    return (response.headers.get("Content-Type") or b"").decode("latin-1")


def _is_id(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0
