"""The spider's callbacks, fed hand-built responses: what it asks for next, and what it yields."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import pytest
from scrapy import Request
from scrapy.http import HtmlResponse, JsonResponse, TextResponse
from scrapy.pqueues import ScrapyPriorityQueue
from scrapy.settings import Settings
from scrapy.utils.misc import load_object
from scrapy.utils.test import get_crawler

from viewworld import settings as project_settings
from viewworld.items import Post
from viewworld.spiders.wpposts import WpPostsSpider

SITE = "https://www.viewworld.org"
ROOT = f"{SITE}/index.php?rest_route=/"
INDEX = json.dumps({"name": "viewworld", "namespaces": ["oembed/1.0", "wp/v2"]}).encode()


def make_spider(tmp_path: Path, concurrency: int = 1, settings: dict[str, Any] | None = None,
                **arguments: str) -> WpPostsSpider:
    """The spider on a site of its own; ``concurrency`` 1 (the default here) asks for page 1 alone."""
    ours = ("ASSEMBLY_MAX_WAITING_POSTS", "INCREMENTAL_OVERLAP", "DELETION_SWEEP_INTERVAL", "POSTS_ONLY_NEEDED_FIELDS",
            "REVISION_COUNTS")
    settings = {name: getattr(project_settings, name) for name in ours} | {
        "STATE_DIR": str(tmp_path / "state"), "OUTPUT_DIR": str(tmp_path / "output"),
        "CONCURRENT_REQUESTS_PER_DOMAIN": concurrency} | (settings or {})
    crawler = get_crawler(WpPostsSpider, settings)
    spider = WpPostsSpider.from_crawler(crawler, **({"site": SITE} | arguments))
    crawler.spider = spider
    return spider


def follow(callback_output: Any) -> list[Any]:
    return list(callback_output or ())


def respond(request: Request, body: bytes, status: int = 200, headers: dict[str, str] | None = None,
            response_class: type[TextResponse] = JsonResponse) -> list[Any]:
    response = response_class(request.url, body=body, status=status, headers=headers or {}, request=request)
    return follow(request.callback(response, **request.cb_kwargs))


async def all_first_requests(spider: WpPostsSpider) -> list[Request]:
    return [request async for request in spider.start()]


async def first_request(spider: WpPostsSpider) -> Request:
    return (await all_first_requests(spider))[0]


def crawled_site(spider: WpPostsSpider, origin: str = SITE) -> Any:
    """A site given to the spider, as one being crawled, without its first requests (no lock, no state)."""
    [site] = [site for site in spider.waiting_sites if site.origin == origin]
    spider.waiting_sites.remove(site)
    spider.sites[origin] = site
    return site


@pytest.fixture
def spider(tmp_path: Path) -> WpPostsSpider:
    return make_spider(tmp_path)


def discover_all(spider: WpPostsSpider) -> list[Request]:
    """Home page with the Link header, then the root: returns the requests for the first posts pages."""
    import asyncio

    home = asyncio.run(first_request(spider))
    [root] = respond(home, b"<html></html>", headers={"Link": f'<{ROOT}>; rel="https://api.w.org/"',
                                                     "Content-Type": "text/html"}, response_class=HtmlResponse)
    return respond(root, INDEX)


def discover(spider: WpPostsSpider) -> Request:
    [posts] = discover_all(spider)
    return posts


def posts_pages(output: list[Any]) -> list[Request]:
    """The requests for posts pages among a callback's output."""
    return [request for request in output if isinstance(request, Request) and "wp/v2/posts" in request.url]


def page_numbers(output: list[Any]) -> list[str]:
    return [request.url.split("&page=")[1].split("&")[0] for request in posts_pages(output)]


def page_body(seed_post: dict[str, Any], ids: Any) -> bytes:
    """A posts page of copies of the seed post, one per id."""
    return json.dumps([dict(seed_post, id=post_id) for post_id in ids]).encode()


def test_the_api_root_comes_from_the_home_page_link_header_and_posts_are_asked_100_a_page(spider):
    posts = discover(spider)
    assert posts.url == f"{SITE}/index.php?rest_route=/wp/v2/posts&per_page=100&page=1&orderby=id&order=desc"


def test_without_a_link_header_the_html_link_tag_names_the_root(spider):
    import asyncio

    home = asyncio.run(first_request(spider))
    html = f'<html><head><link rel="https://api.w.org/" href="{SITE}/wp-json/" /></head></html>'.encode()
    [root] = respond(home, html, headers={"Content-Type": "text/html; charset=UTF-8"}, response_class=HtmlResponse)
    assert root.url == f"{SITE}/wp-json/"


def test_a_root_answering_html_is_not_a_root_and_the_next_candidate_is_tried(spider):
    import asyncio

    home = asyncio.run(first_request(spider))
    [wp_json] = respond(home, b"<html>no link</html>", headers={"Content-Type": "text/html"},
                        response_class=HtmlResponse)
    assert wp_json.url == f"{SITE}/wp-json/"
    [rest_route] = respond(wp_json, b"<html>the home page</html>", headers={"Content-Type": "text/html"},
                           response_class=HtmlResponse)
    assert rest_route.url == f"{SITE}/?rest_route=/"
    assert respond(rest_route, b'{"code":"rest_disabled","message":"The REST API is disabled."}', status=403) == []
    site = spider.sites[SITE]
    assert site.failure is not None and "rest_disabled" in site.failure
    assert spider.crawler.stats.get_value("viewworld/sites_failed") == 1


def test_a_site_without_wp_v2_is_reported_as_too_old(spider):
    import asyncio

    home = asyncio.run(first_request(spider))
    [wp_json] = respond(home, b"", headers={"Content-Type": "text/html"}, response_class=HtmlResponse)
    [rest_route] = respond(wp_json, b'{"namespaces": ["oembed/1.0"]}')
    respond(rest_route, b'{"namespaces": ["oembed/1.0"]}')
    assert "WordPress older than 4.7" in spider.sites[SITE].failure


def test_the_first_page_schedules_every_other_page_at_once(spider, seed_post):
    posts = discover(spider)
    output = respond(posts, page_body(seed_post, range(1, 101)), headers={"X-WP-Total": "250", "X-WP-TotalPages": "3"})
    assert page_numbers(output) == ["2", "3"]
    assert spider.sites[SITE].total == 250


def test_a_full_crawl_asks_for_as_many_pages_as_it_may_at_once_and_then_for_the_rest(seed_post, tmp_path):
    spider = make_spider(tmp_path, concurrency=4)
    first, *ahead = discover_all(spider)
    assert page_numbers([first, *ahead]) == ["1", "2", "3", "4"]
    output = respond(first, page_body(seed_post, range(1, 101)), headers={"X-WP-Total": "550", "X-WP-TotalPages": "6"})
    assert page_numbers(output) == ["5", "6"]


def test_scrapys_queue_hands_out_the_first_pages_in_page_order(seed_post, tmp_path):
    """Scrapy's default queue of a site is last in, first out among requests of one priority: pages 1-16
    asked for together went to the site 16 first and page 1 last, and a server with fewer workers than
    that answered page 1, which tells how many pages there are, after all the others. Until then the walk
    could ask for nothing more. The project's queue (SCHEDULER_MEMORY_QUEUE) is first in, first out."""
    spider = make_spider(tmp_path, concurrency=16)
    settings = Settings()
    settings.setmodule(project_settings)  # Scrapy's defaults, then the project's
    queue_class = load_object(settings["SCHEDULER_MEMORY_QUEUE"])
    queue = ScrapyPriorityQueue.from_crawler(spider.crawler, queue_class, key="")
    first, *ahead = discover_all(spider)
    for request in [first, *ahead]:
        queue.push(request)
    page_one = queue.pop()
    assert page_numbers([page_one]) == ["1"]
    output = respond(page_one, page_body(seed_post, range(1, 101)),
                     headers={"X-WP-Total": "5000", "X-WP-TotalPages": "50"})
    for request in output:
        queue.push(request)
    handed_out = [queue.pop() for _ in range(len(queue))]
    batches = [request for request in handed_out if "include=" in request.url]
    assert batches and handed_out[: len(batches)] == batches  # what page 1's posts wait for goes first
    assert page_numbers(handed_out[len(batches):]) == [str(number) for number in range(2, 19)]  # 17 in flight


def test_the_walk_keeps_one_page_more_than_the_concurrency_in_flight(seed_post, tmp_path):
    """Pages asked for all at once would queue in Scrapy's downloader (first in, first out) ahead of the
    include= batches their posts wait for; one beyond the site's concurrency keeps every slot busy."""
    spider = make_spider(tmp_path, concurrency=2)
    first, second = discover_all(spider)
    headers = {"X-WP-Total": "800", "X-WP-TotalPages": "8"}

    pending = [first, second]
    asked = ["1", "2"]
    while pending:
        request = pending.pop(0)
        number = int(page_numbers([request])[0])
        more = posts_pages(respond(request, page_body(seed_post, range(number * 100, number * 100 + 100)),
                                   headers=headers))
        asked += page_numbers(more)
        pending += more
        assert spider.sites[SITE].pages_in_flight <= 3
    assert asked == [str(number) for number in range(1, 9)]
    assert len(spider.sites[SITE].post_ids) == 800


def test_on_a_small_site_the_pages_asked_for_ahead_end_nothing(seed_post, tmp_path):
    spider = make_spider(tmp_path, concurrency=4)
    first, second, *past_the_end = discover_all(spider)
    assert page_numbers(respond(first, page_body(seed_post, range(1, 101)),
                                headers={"X-WP-Total": "150", "X-WP-TotalPages": "2"})) == []
    respond(second, page_body(seed_post, range(101, 151)), headers={"X-WP-Total": "150", "X-WP-TotalPages": "2"})
    body = b'{"code":"rest_post_invalid_page_number","message":"The page number requested is larger"}'
    for request in past_the_end:
        respond(request, body, status=400)
    site = spider.sites[SITE]
    assert (len(site.post_ids), site.pages_in_flight, site.pages_lost) == (150, 0, 0)
    assert not spider.crawler.stats.get_value("viewworld/pages_failed")


def test_pages_asked_for_ahead_at_a_refused_per_page_are_dropped_and_asked_for_again(tmp_path):
    spider = make_spider(tmp_path, concurrency=4)
    first, *ahead = discover_all(spider)
    body = b'{"code":"rest_invalid_param","message":"Invalid parameter(s): per_page","data":{"status":400}}'
    assert respond(ahead[0], body, status=400) == []  # before page 1 told: page 1 will step down
    again = respond(first, body, status=400)
    assert [request.url.split("per_page=")[1].split("&")[0] for request in again] == ["50"] * 4
    assert page_numbers(again) == ["1", "2", "3", "4"]
    for request in ahead[1:]:  # after page 1 told
        assert respond(request, body, status=400) == []
    assert not spider.crawler.stats.get_value("viewworld/pages_failed")
    assert spider.sites[SITE].pages_in_flight == 4


def test_without_pagination_headers_the_pages_are_walked_until_a_short_one(seed_post, tmp_path):
    spider = make_spider(tmp_path, per_page="1")
    posts = discover(spider)
    output = respond(posts, json.dumps([seed_post]).encode())
    [page_two] = posts_pages(output)
    assert "&page=2&" in page_two.url
    second = dict(seed_post, id=7)
    output = respond(page_two, json.dumps([second]).encode())
    assert any("&page=3&" in request.url for request in output if isinstance(request, Request))


def test_a_page_past_the_end_ends_the_walk_quietly(spider):
    posts = discover(spider)
    body = b'{"code":"rest_post_invalid_page_number","message":"The page number requested is larger"}'
    respond(posts, body, status=400)
    assert not spider.crawler.stats.get_value("viewworld/pages_failed")


def test_the_last_page_sends_the_partial_batches_and_the_answers_complete_the_post(spider, seed_post):
    posts = discover(spider)
    output = respond(posts, json.dumps([seed_post]).encode(), headers={"X-WP-Total": "1", "X-WP-TotalPages": "1"})
    batches = [request for request in output if isinstance(request, Request)]
    assert len(batches) == 3
    items: list[Post] = []
    for batch in batches:
        route = batch.cb_kwargs["batch"].collection[1]
        resource = {"/wp/v2/media": {"id": 1137, "source_url": f"{SITE}/a.jpg"},
                    "/wp/v2/users": {"id": 1, "name": "Admin", "slug": "admin"},
                    "/wp/v2/categories": {"id": 8, "name": "Politics", "slug": "politics", "parent": 0}}[route]
        items += [item for item in respond(batch, json.dumps([resource]).encode()) if isinstance(item, Post)]
    [post] = items
    assert post.featured_media["url"] == f"{SITE}/a.jpg"
    assert post.author["name"] == "Admin"
    assert post.categories[0]["name"] == "Politics"


def test_duplicate_posts_from_shifted_pages_are_yielded_once(spider, seed_post):
    del seed_post["_links"]
    posts = discover(spider)
    first = respond(posts, json.dumps([seed_post, seed_post]).encode(), headers={"X-WP-TotalPages": "1"})
    assert len([item for item in first if isinstance(item, Post)]) == 1


def test_max_posts_stops_after_that_many_posts_per_site(seed_post, tmp_path):
    spider = make_spider(tmp_path, max_posts="2", per_page="2")
    del seed_post["_links"]
    posts = discover(spider)
    output = respond(posts, json.dumps([seed_post, dict(seed_post, id=2), dict(seed_post, id=3)]).encode(),
                     headers={"X-WP-Total": "250", "X-WP-TotalPages": "125"})
    assert len([item for item in output if isinstance(item, Post)]) == 2
    assert not [request for request in output if isinstance(request, Request)]


def test_since_and_until_become_strict_after_and_before_in_utc(tmp_path):
    spider = make_spider(tmp_path, since="2024-01-01", until="2024-01-31")
    posts = discover(spider)
    assert "after=2023-12-31T23:59:59Z" in posts.url
    assert "before=2024-02-01T00:00:00Z" in posts.url


def test_a_lost_posts_page_is_counted_as_data_lost(spider):
    posts = discover(spider)
    respond(posts, b"<html>Just a moment...</html>", status=200, response_class=TextResponse)
    assert spider.crawler.stats.get_value("viewworld/pages_failed") == 1


def test_a_site_that_refuses_per_page_100_is_asked_for_half_as_many(spider):
    posts = discover(spider)
    body = b'{"code":"rest_invalid_param","message":"Invalid parameter(s): per_page","data":{"status":400}}'
    [retry] = respond(posts, body, status=400)
    assert "per_page=50&page=1&" in retry.url
    assert not spider.crawler.stats.get_value("viewworld/pages_failed")


def test_an_absurd_total_pages_header_is_not_believed(spider, seed_post):
    del seed_post["_links"]
    posts = discover(spider)
    output = respond(posts, json.dumps([seed_post]).encode(),
                     headers={"X-WP-Total": "1", "X-WP-TotalPages": "1000000000"})
    assert not [request for request in output if isinstance(request, Request)]


def test_a_redirect_to_https_and_www_is_followed_and_the_site_known_by_its_final_address(tmp_path):
    import asyncio

    spider = make_spider(tmp_path, site="http://viewworld.org")
    home = asyncio.run(first_request(spider))
    assert home.url == "http://viewworld.org/"
    redirected = HtmlResponse("https://www.viewworld.org/", body=b"<html></html>", request=home,
                              headers={"Link": '<https://www.viewworld.org/wp-json/>; rel="https://api.w.org/"',
                                       "Content-Type": "text/html"})
    [root] = follow(home.callback(redirected, **home.cb_kwargs))
    assert root.url == "https://www.viewworld.org/wp-json/"
    site = spider.sites["http://viewworld.org"]
    assert site.key == "www.viewworld.org"
    assert site.in_scope("https://www.viewworld.org/wp-json/wp/v2/posts")
    assert not site.in_scope("https://evil.example/wp-json/")


@pytest.mark.parametrize("advertised", ["HTTP://www.viewworld.org/wp-json/", "http://www.viewworld.org:0080/wp-json/"])
def test_an_https_site_that_advertises_an_http_root_is_asked_over_https(tmp_path, advertised):
    """A WordPress behind a TLS proxy writes its URLs with http; a site crawled over https stays on https: the
    root it advertises, the root it answers from (an http redirect of it, by someone on the way), its posts pages."""
    import asyncio

    spider = make_spider(tmp_path)
    home = asyncio.run(first_request(spider))
    [root] = respond(home, b"<html></html>", headers={"Link": f'<{advertised}>; rel="https://api.w.org/"',
                                                     "Content-Type": "text/html"}, response_class=HtmlResponse)
    assert root.url == "https://www.viewworld.org/wp-json/"
    answered = JsonResponse("http://www.viewworld.org/wp-json/", body=INDEX, request=root)
    [posts] = follow(root.callback(answered, **root.cb_kwargs))
    assert posts.url.startswith("https://www.viewworld.org/wp-json/wp/v2/posts?")
    assert spider.sites[SITE].api_root.base == "https://www.viewworld.org/wp-json/"


def test_runs_that_remember_the_root_know_the_site_by_the_address_its_redirect_gave(tmp_path):
    """The first run followed http://viewworld.org to https://www.viewworld.org; the runs after it skip the
    home page, and write under the same name all the same (records' ``site``, the output's folder)."""
    import asyncio
    from datetime import UTC, datetime

    from viewworld.state import SiteState, StateStore, utc_text

    StateStore(tmp_path / "state").save(SiteState("viewworld.org", api_root="https://www.viewworld.org/wp-json/",
                                                  mark="2024-06-01T00:00:00Z", last_sweep=utc_text(datetime.now(UTC))))
    spider = make_spider(tmp_path, site="http://viewworld.org")
    page = asyncio.run(first_request(spider))
    assert page.url.startswith("https://www.viewworld.org/wp-json/wp/v2/posts?")
    site = spider.sites["http://viewworld.org"]
    assert (site.key, site.state_key) == ("www.viewworld.org", "viewworld.org")
    assert spider.sites_by_key["www.viewworld.org"] is site


def test_a_part_file_a_dead_run_left_under_its_redirects_address_is_recovered(tmp_path):
    """A first run killed before it saved its state wrote under the address the home page redirected to."""
    import asyncio

    from viewworld.state import SiteState, StateStore

    StateStore(tmp_path / "state").save(SiteState("viewworld.org", posts={6: "2023-01-01T00:00:00Z",
                                                                         7: "2024-05-01T00:00:00Z",
                                                                         9: "2024-04-01T00:00:00Z"}))
    part = tmp_path / "output" / "www.viewworld.org" / "posts-20240601T000000Z-dead.jsonl.part"
    part.parent.mkdir(parents=True)
    part.write_text(json.dumps({"site": "www.viewworld.org", "id": 5, "modified_gmt": "2024-01-01T00:00:00Z"}) + "\n"
                    + json.dumps({"site": "www.viewworld.org", "id": 6, "deleted": True, "detected_at": "x"}) + "\n"
                    # a killed one-off run's older version of a post written since: the state keeps the newer one
                    + json.dumps({"site": "www.viewworld.org", "id": 7, "modified_gmt": "2024-02-01T00:00:00Z"}) + "\n"
                    # written lacking its image, which may come next time: the next runs fetch it again
                    + json.dumps({"site": "www.viewworld.org", "id": 8, "modified_gmt": "2024-03-01T00:00:00Z",
                                  "errors": [{"field": "featured_media", "url": "u", "reason": "503", "retry": True}]})
                    + "\n"
                    # the same, at the version the state knows (a full=1 run writes every post again)
                    + json.dumps({"site": "www.viewworld.org", "id": 9, "modified_gmt": "2024-04-01T00:00:00Z",
                                  "errors": [{"field": "featured_media", "url": "u", "reason": "503", "retry": True}]})
                    + "\n")
    spider = make_spider(tmp_path, site="http://viewworld.org")
    asyncio.run(first_request(spider))
    assert not part.exists() and part.with_name(part.name.removesuffix(".part")).exists()
    # Its post is written, and the state on disk says so before this run crawls anything: the .part is gone, and
    # this run may yet be given up or killed. The tombstone leaves the state as it was (the next sweep says it again).
    written = {5: "2024-01-01T00:00:00Z", 6: "2023-01-01T00:00:00Z", 7: "2024-05-01T00:00:00Z",
               8: "2024-03-01T00:00:00Z", 9: "2024-04-01T00:00:00Z"}
    assert spider.sites["http://viewworld.org"].state.posts == written
    assert StateStore(tmp_path / "state").load("viewworld.org").posts == written
    assert StateStore(tmp_path / "state").load("viewworld.org").retry == {8: 1, 9: 1}


def test_a_multisites_subsites_on_one_host_keep_their_own_state_and_output(tmp_path):
    """``/en`` and ``/fr`` of one WordPress multisite are two sites: one's state (its mark, its ids, and the
    tombstones a sweep would write from them) is never the other's."""
    import asyncio

    from viewworld.state import SiteState, StateStore

    StateStore(tmp_path / "state").save(SiteState("example.org~en", api_root="https://example.org/en/wp-json/",
                                                  mark="2024-06-01T00:00:00Z", posts={1: "2024-05-01T00:00:00Z"}))
    spider = make_spider(tmp_path, site="https://example.org/en,https://example.org/fr")
    asyncio.run(first_request(spider))
    english, french = spider.sites["https://example.org/en"], spider.sites["https://example.org/fr"]
    assert (english.key, french.key) == ("example.org~en", "example.org~fr")
    assert (english.mode, english.state.posts) == ("incremental", {1: "2024-05-01T00:00:00Z"})
    assert (french.mode, french.state.posts) == ("full", {})


def test_two_addresses_of_one_site_in_one_run_crawl_it_once(tmp_path, caplog):
    """``example.org``, given beside ``www.example.org``, redirects to it: the second of them gives up."""
    import asyncio

    spider = make_spider(tmp_path, concurrency=2, site="https://www.example.org,https://example.org")
    homes = asyncio.run(all_first_requests(spider))
    assert [home.url for home in homes] == ["https://www.example.org/", "https://example.org/"]
    link = {"Link": '<https://www.example.org/wp-json/>; rel="https://api.w.org/"', "Content-Type": "text/html"}
    assert len(respond(homes[0], b"<html></html>", headers=link, response_class=HtmlResponse)) == 1
    redirected = HtmlResponse("https://www.example.org/", body=b"<html></html>", request=homes[1], headers=link)
    assert follow(homes[1].callback(redirected, **homes[1].cb_kwargs)) == []
    assert spider.sites["https://example.org"].failure == "the same site as https://www.example.org (both are " \
                                                          "www.example.org)"
    assert spider.sites["https://www.example.org"].failure is None


def test_two_addresses_of_one_site_in_one_run_crawl_it_once_also_when_the_first_has_ended(tmp_path):
    """Each site of a run ends as soon as it is done, and is forgotten: the one that ended still counts."""
    import asyncio

    spider = make_spider(tmp_path, concurrency=2, site="https://www.example.org,https://example.org")
    homes = asyncio.run(all_first_requests(spider))
    link = {"Link": '<https://www.example.org/wp-json/>; rel="https://api.w.org/"', "Content-Type": "text/html"}
    [root] = respond(homes[0], b"<html></html>", headers=link, response_class=HtmlResponse)
    pages = posts_pages(respond(root, INDEX))
    respond(pages[0], b"[]", headers={"X-WP-Total": "0", "X-WP-TotalPages": "0"})
    respond(pages[1], b'{"code": "rest_post_invalid_page_number", "message": "", "data": {"status": 400}}', 400)
    spider.hand_back_finished_sites()
    assert list(spider.sites) == ["https://example.org"], "the first site, done, has ended"
    redirected = HtmlResponse("https://www.example.org/", body=b"<html></html>", request=homes[1], headers=link)
    assert follow(homes[1].callback(redirected, **homes[1].cb_kwargs)) == []
    assert spider.sites["https://example.org"].failure == "the same site as https://www.example.org (both are " \
                                                          "www.example.org)"


def test_two_addresses_of_one_site_in_one_run_crawl_it_at_the_address_given_also_before_its_turn(tmp_path):
    """``example.org`` redirects to ``www.example.org``, given after it and still waiting for its turn: the
    address given is crawled, as when both start at once, whichever answers first."""
    import asyncio

    spider = make_spider(tmp_path, site="https://example.org,https://www.example.org")
    spider.concurrent_sites = 1
    [home] = asyncio.run(all_first_requests(spider))
    link = {"Link": '<https://www.example.org/wp-json/>; rel="https://api.w.org/"', "Content-Type": "text/html"}
    redirected = HtmlResponse("https://www.example.org/", body=b"<html></html>", request=home, headers=link)
    assert follow(home.callback(redirected, **home.cb_kwargs)) == []
    assert spider.sites["https://example.org"].failure == "the same site as https://www.example.org (both are " \
                                                          "www.example.org)"


def test_a_site_ends_with_its_file_completed_before_its_state_is_saved_beside_another_address_given_up(tmp_path):
    """``example.org``, given up as another address of ``www.example.org``, shares its key (its file); when both
    end in the same second, the live site's file is completed before its state is saved, as always."""
    import asyncio

    from viewworld.signals import site_finished

    spider = make_spider(tmp_path, concurrency=2, site="https://www.example.org,https://example.org")
    events: list[tuple[str, str]] = []
    spider.crawler.signals.connect(lambda site_key: events.append(("file completed", site_key)), site_finished,
                                   weak=False)
    save = spider.store.save
    spider.store.save = lambda state: (events.append(("state saved", state.site)), save(state))
    homes = asyncio.run(all_first_requests(spider))
    link = {"Link": '<https://www.example.org/wp-json/>; rel="https://api.w.org/"', "Content-Type": "text/html"}
    [root] = respond(homes[0], b"<html></html>", headers=link, response_class=HtmlResponse)
    redirected = HtmlResponse("https://www.example.org/", body=b"<html></html>", request=homes[1], headers=link)
    assert follow(homes[1].callback(redirected, **homes[1].cb_kwargs)) == []
    pages = posts_pages(respond(root, INDEX))
    respond(pages[0], b"[]", headers={"X-WP-Total": "0", "X-WP-TotalPages": "0"})
    respond(pages[1], b'{"code": "rest_post_invalid_page_number", "message": "", "data": {"status": 400}}', 400)
    spider.hand_back_finished_sites()
    assert spider.sites == {}
    assert events[:2] == [("file completed", "www.example.org"), ("state saved", "www.example.org")]


def test_a_site_does_not_end_while_a_batch_asked_for_as_its_own_is_out(tmp_path, seed_post):
    """Two sites of a run under one host follow each other's links: the other's posts may wait for a batch that
    goes out as this site's (whose posts first asked for the collection). This site ends once it has answered."""
    from viewworld.assembly import build_post
    from viewworld.wordpress import post_links

    import asyncio

    spider = make_spider(tmp_path, site=f"{SITE},{SITE}/blog")
    asyncio.run(all_first_requests(spider))
    ours, blog = spider.sites[SITE], spider.sites[f"{SITE}/blog"]
    spider.assembler.add(ours, build_post(ours, seed_post, "2026-11-29T00:00:00Z"), post_links(seed_post))
    for request in follow(spider.assembled(flush=True)):
        [post] = respond(request, b"[]") or [None]  # nothing returned: the post is written with errors
    spider.item_written(post)
    ours.listed = {}  # its walk is over: nothing of its own is left
    assert spider.site_done(ours)
    other = dict(seed_post, id=7, featured_media=999)
    media = [{"href": f"{SITE}/index.php?rest_route=/wp/v2/media/999"}]  # the same API root as ours
    other["_links"] = dict(seed_post["_links"], **{"wp:featuredmedia": media})
    spider.assembler.add(blog, build_post(blog, other, "2026-11-29T00:00:00Z"), post_links(other))
    [batch] = follow(spider.assembled(flush=True))
    assert batch.meta["site"] == ours.origin and "include=999" in batch.url
    assert not spider.site_done(ours), "a batch asked for as its own is out"
    [post] = respond(batch, b'{"code": "rest_no_route", "message": "", "data": {"status": 404}}', 404)
    assert post.site == blog.key and post.featured_media is None
    assert spider.site_done(ours)


def test_a_post_nothing_foresaw_is_a_page_lost_and_the_pages_other_posts_go_on(spider, seed_post, monkeypatch,
                                                                                caplog):
    """An error reading one post (a bug, a plugin's field no code path expected) must not end the page's other
    posts, nor let the site's mark pass that post."""
    import viewworld.spiders.wpposts as wpposts

    build = wpposts.build_post

    def build_post(site: Any, raw: dict[str, Any], crawled_at: str) -> Any:
        if raw["id"] == 2:
            raise KeyError("rendered")
        return build(site, raw, crawled_at)

    monkeypatch.setattr(wpposts, "build_post", build_post)
    [page] = discover_all(spider)
    respond(page, page_body(seed_post, [1, 2, 3]), headers={"X-WP-Total": "3", "X-WP-TotalPages": "1"})
    site = spider.sites[SITE]
    assert (site.pages_lost, spider.assembler.waiting_by_site[SITE]) == (1, 2)
    assert "post 2 cannot be read: KeyError('rendered')" in caplog.text
    assert not site.complete


def test_a_walk_cut_short_by_an_error_is_not_complete():
    """A callback that raised after it counted its page as answered leaves every counter at 0: the walk has not
    reached its end (no listing begun), and the mark must not pass what it never saw."""
    from viewworld.sites import Site

    site = Site(SITE, pages=1, newest="2024-06-01T00:00:00Z")
    assert not site.complete
    assert site.next_state(True, "2026-11-29T00:00:00Z").mark is None
    site.listed = {}
    assert site.next_state(True, "2026-11-29T00:00:00Z").mark == "2024-06-01T00:00:00Z"


def test_the_mark_never_passes_the_servers_clock_when_the_walk_began(spider, seed_post):
    """A post edited while the walk went on, after its page was fetched, shows in no page of this walk; a post on
    a later page edited later still must not carry the mark past that edit: the mark stops at page 1's ``Date``."""
    from viewworld.sites import Site

    [page] = discover_all(spider)
    [second] = posts_pages(respond(page, page_body(seed_post, range(150, 50, -1)), headers={
        "X-WP-Total": "150", "X-WP-TotalPages": "2", "Date": "Sat, 01 Jun 2024 00:05:00 GMT"}))
    respond(second, page_body(seed_post, range(50, 0, -1)), headers={
        "X-WP-Total": "150", "X-WP-TotalPages": "2", "Date": "Sat, 01 Jun 2024 00:09:00 GMT"})
    assert spider.sites[SITE].pages == 2 and spider.sites[SITE].walk_started == "2024-06-01T00:05:00Z"
    site = Site(SITE, pages=2, newest="2024-06-01T01:10:00Z", walk_started="2024-06-01T00:05:00Z", listed={})
    assert site.next_state(True, "2024-06-01T01:15:00Z").mark == "2024-06-01T00:05:00Z"
    site.walk_started = None  # no Date header: the newest post seen
    assert site.next_state(True, "2024-06-01T01:15:00Z").mark == "2024-06-01T01:10:00Z"


def ended_walk(spider: WpPostsSpider) -> None:
    """The site's walk over a site with no post: nothing left to do, the site not ended yet."""
    pages = discover_all(spider)
    respond(pages[0], b"[]", headers={"X-WP-Total": "0", "X-WP-TotalPages": "0"})
    assert spider.site_done(spider.sites[SITE])


def test_a_site_done_when_the_run_is_stopped_ends_as_done(spider):
    """SIGTERM in the second between a site's end and its hand-back: its sweep and mark are kept all the same."""
    from viewworld.state import StateStore

    ended_walk(spider)
    spider.closed("shutdown")
    assert StateStore(spider.store.directory).load(spider.sites[SITE].state_key).last_sweep is not None


def test_an_ended_site_keeps_no_credentials(spider):
    """What is kept of a site that ended, for the summary, holds no secret until the process exits."""
    from viewworld.credentials import Credentials

    ended_walk(spider)
    spider.sites[SITE].credentials = Credentials("editor", "abcd efgh ijkl mnop qrst uvwx")
    spider.hand_back_finished_sites()
    assert spider.sites == {} and spider.handed_back[SITE].credentials is None


def test_a_site_whose_lock_could_not_be_released_is_ended_once(spider, monkeypatch, caplog):
    """The next second tries again what failed (Redis, for a cluster worker), not what was done."""
    ended_walk(spider)
    unlock, calls = spider.store.unlock, []

    def unlock_failing_once(key: str) -> None:
        calls.append(key)
        if len(calls) == 1:
            raise OSError("the store is away")
        unlock(key)

    monkeypatch.setattr(spider.store, "unlock", unlock_failing_once)
    spider.hand_back_finished_sites()
    assert SITE in spider.sites and "not ended yet" in caplog.text
    spider.closed("finished")  # the run ends before the next second: the site ended already
    spider.hand_back_finished_sites()
    assert spider.sites == {}
    assert caplog.text.count("the API listed no post at all") == 1, "ended twice"


class FakeEngine:
    """What the spider asks of Scrapy's engine while it runs: whether it is closing, and to crawl a request."""

    def __init__(self) -> None:
        self.running, self.crawled = True, []
        self._slot = SimpleNamespace(closing=None)

    def crawl(self, request: Request) -> None:
        self.crawled.append(request)


def several_sites(tmp_path: Path, count: int, concurrent_sites: int) -> tuple[WpPostsSpider, FakeEngine]:
    sites = ",".join(f"https://site{number}.example" for number in range(1, count + 1))
    spider = make_spider(tmp_path, site=sites)
    spider.concurrent_sites = concurrent_sites
    spider.crawler.engine = engine = FakeEngine()
    return spider, engine


def empty_walk(spider: WpPostsSpider, home: Request) -> None:
    """A site with no post: its home page names its root, which lists no post."""
    link = {"Link": f'<{home.url}wp-json/>; rel="https://api.w.org/"', "Content-Type": "text/html"}
    [root] = respond(home, b"<html></html>", headers=link, response_class=HtmlResponse)
    [page] = respond(root, INDEX)
    respond(page, b"[]", headers={"X-WP-Total": "0", "X-WP-TotalPages": "0"})


def test_a_run_crawls_concurrent_sites_at_a_time_and_starts_each_other_as_one_ends(tmp_path):
    """A sites_file of hundreds: the first CONCURRENT_SITES start, each of the others as a site ends, in order;
    no site waiting for its turn holds a file, a connection or its state meanwhile (only its lock, from the crawl
    command)."""
    import asyncio

    from twisted.internet.defer import Deferred

    spider, engine = several_sites(tmp_path, 4, concurrent_sites=2)
    homes = asyncio.run(all_first_requests(spider))
    assert [home.url for home in homes] == ["https://site1.example/", "https://site2.example/"]
    assert [site.origin for site in spider.waiting_sites] == ["https://site3.example", "https://site4.example"]
    assert all(site.state is None and site.started is None for site in spider.waiting_sites)
    spider.hand_back_finished_sites()
    assert engine.crawled == [], "no site has ended: none starts"
    empty_walk(spider, homes[1])
    spider.hand_back_finished_sites()
    assert list(spider.sites) == ["https://site1.example", "https://site3.example"]
    assert [request.url for request in engine.crawled] == ["https://site3.example/"]
    assert spider.sites["https://site3.example"].mode == "full"  # its lock and state taken when its turn came
    engine._slot.closing = Deferred()  # CLOSESPIDER_TIMEOUT: the close has begun
    empty_walk(spider, homes[0])
    spider.hand_back_finished_sites()
    assert len(engine.crawled) == 1 and [site.origin for site in spider.waiting_sites] == ["https://site4.example"]
    engine._slot.closing, engine.running = None, False  # SIGTERM
    spider.hand_back_finished_sites()
    assert len(engine.crawled) == 1
    spider.closed("shutdown")
    assert spider.crawler.stats.get_value("viewworld/sites_not_started") == 1


def test_a_site_given_up_leaves_its_turn_to_the_next_at_once(tmp_path):
    import asyncio

    spider, engine = several_sites(tmp_path, 3, concurrent_sites=1)
    [home] = asyncio.run(all_first_requests(spider))
    respond(home, b"<html>no WordPress here</html>", status=404, headers={"Content-Type": "text/html"},
            response_class=HtmlResponse)
    spider.give_up(spider.sites["https://site1.example"], "no WordPress REST API found")
    spider.hand_back_finished_sites()
    assert [request.url for request in engine.crawled] == ["https://site2.example/"]


def test_a_site_given_up_with_posts_waiting_for_batches_never_answered_ends_at_idle_too(tmp_path, seed_post,
                                                                                         caplog):
    from scrapy.exceptions import DontCloseSpider

    spider, engine = site_with_a_post_waiting_for_batches_never_answered(tmp_path, seed_post)
    spider.give_up(spider.sites["https://site1.example"], "blocked")
    with pytest.raises(DontCloseSpider):
        spider.flush_batches_when_idle()
    assert "cannot be ended now" not in caplog.text and "stuck" not in caplog.text
    assert spider.assembler.waiting_posts == 0 and list(spider.sites) == ["https://site2.example"]


@pytest.mark.parametrize("state", ['{"site": "site2.example", "mark": "yesterday"}', "[]", '{"site": "site2.example", '
                                   '"posts": {"seven": "2024-01-01T00:00:00Z"}}'])
def test_a_site_whose_state_is_damaged_is_refused_when_its_turn_comes_and_the_next_starts(tmp_path, state, caplog):
    """A state file of valid JSON but not of a state is damaged like one that cannot be parsed (exit 2)."""
    import asyncio

    (tmp_path / "state").mkdir()
    (tmp_path / "state" / "site2.example.json").write_text(state)
    spider, engine = several_sites(tmp_path, 3, concurrent_sites=1)
    [home] = asyncio.run(all_first_requests(spider))
    empty_walk(spider, home)
    spider.hand_back_finished_sites()
    assert [request.url for request in engine.crawled] == ["https://site3.example/"]
    assert spider.crawler.stats.get_value("viewworld/state_damaged") == 1
    assert f"https://site2.example: cannot be crawled: state file {tmp_path / 'state' / 'site2.example.json'} " \
           "cannot be read: " in caplog.text


def test_a_site_that_fails_to_start_on_an_error_nothing_foresaw_is_given_up_and_the_next_starts(tmp_path, caplog):
    import asyncio

    spider, engine = several_sites(tmp_path, 3, concurrent_sites=1)
    [home] = asyncio.run(all_first_requests(spider))
    prepare = spider.prepare
    spider.prepare = lambda site: prepare(site) if site.origin != "https://site2.example" else 1 / 0
    empty_walk(spider, home)
    spider.hand_back_finished_sites()
    assert [request.url for request in engine.crawled] == ["https://site3.example/"]
    assert "https://site2.example: cannot be crawled: cannot be started: ZeroDivisionError" in caplog.text
    spider.hand_back_finished_sites()  # the looping call goes on
    assert "https://site2.example" not in spider.sites


def test_a_site_that_cannot_end_by_itself_ends_when_the_crawl_is_idle_and_the_next_starts(tmp_path, caplog):
    """Nothing in flight, sites waiting their turn: a site still crawled then is stuck (a request a middleware
    dropped without an errback, an item a pipeline replaced) and would hold its turn for ever. It ends as the
    crawl's close would have ended it, and the next site starts."""
    import asyncio

    from scrapy.exceptions import DontCloseSpider

    from viewworld.state import StateStore

    spider, engine = several_sites(tmp_path, 2, concurrent_sites=1)
    [home] = asyncio.run(all_first_requests(spider))
    empty_walk(spider, home)
    spider.sites["https://site1.example"].pages_in_flight = 1  # dropped by a middleware: never answered
    spider.hand_back_finished_sites()
    assert engine.crawled == []
    with pytest.raises(DontCloseSpider):
        spider.flush_batches_when_idle()
    assert "https://site1.example: stuck, with nothing in flight: 1 posts pages" in caplog.text
    assert [request.url for request in engine.crawled] == ["https://site2.example/"]
    assert list(spider.sites) == ["https://site2.example"]
    state = StateStore(spider.store.directory).load("site1.example")
    assert state.api_root == "https://site1.example/wp-json/" and state.mark is None and state.last_sweep is None


def site_with_a_post_waiting_for_batches_never_answered(tmp_path: Path, seed_post: dict[str, Any]
                                                         ) -> tuple[WpPostsSpider, FakeEngine]:
    """site1.example (incremental, one site at a time, site2.example waiting), its walk over, one post waiting
    for the batches of its linked resources, which a middleware dropped: never answered."""
    import asyncio

    from viewworld.state import SiteState, StateStore

    StateStore(tmp_path / "state").save(SiteState("site1.example", api_root="https://site1.example/wp-json/",
                                                  mark="2024-01-01T00:00:00Z", last_sweep="2099-01-01T00:00:00Z"))
    spider, engine = several_sites(tmp_path, 2, concurrent_sites=1)
    [page] = asyncio.run(all_first_requests(spider))
    post = dict(seed_post, id=5, modified_gmt="2024-06-01T00:00:00")
    body = json.dumps([post]).replace("https://www.viewworld.org", "https://site1.example").encode()
    output = respond(page, body, headers={"X-WP-Total": "1", "X-WP-TotalPages": "1"})
    assert spider.assembler.waiting_posts == 1, "the post waits for its linked resources"
    [listing] = [request for request in output if "_fields=id,modified_gmt" in request.url]  # published since
    respond(listing, b"[]", headers={"X-WP-Total": "0", "X-WP-TotalPages": "0"})
    return spider, engine


def test_a_site_stuck_with_posts_waiting_for_a_batch_never_answered_ends_without_them_and_keeps_its_mark(
        tmp_path, seed_post, caplog):
    """Its posts are not written, and its mark does not pass them: the next run fetches them."""
    from scrapy.exceptions import DontCloseSpider

    from viewworld.state import StateStore

    spider, engine = site_with_a_post_waiting_for_batches_never_answered(tmp_path, seed_post)
    spider.hand_back_finished_sites()
    with pytest.raises(DontCloseSpider):
        spider.flush_batches_when_idle()
    assert "1 posts not written: its next run fetches them" in caplog.text
    assert StateStore(spider.store.directory).load("site1.example").mark == "2024-01-01T00:00:00Z"
    assert spider.assembler.waiting_posts == 0 and list(spider.sites) == ["https://site2.example"]
    assert "cannot be ended now" not in caplog.text


def test_a_post_a_pipeline_failed_on_holds_the_mark(spider):
    from viewworld.items import Tombstone

    site = crawled_site(spider)
    site.listed = {}
    spider.item_failed(spider.handed_out(Tombstone(site.key, 1), site))
    assert (site.items_pending, site.items_failed, site.complete) == (0, 1, False)


def test_files_recovered_before_one_that_cannot_be_are_recorded_then_the_site_is_given_up(tmp_path, monkeypatch):
    import asyncio

    import viewworld.spiders.wpposts as wpposts
    from viewworld.output import Recovered
    from viewworld.state import StateStore

    def full_after_one(directory: Path) -> Any:
        yield Recovered(directory / "posts-dead.jsonl", 1, {5: "2024-01-01T00:00:00Z"})
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(wpposts, "recover_part_files", full_after_one)
    spider = make_spider(tmp_path)
    assert asyncio.run(all_first_requests(spider)) == []
    assert "No space left on device" in spider.sites[SITE].failure
    assert StateStore(tmp_path / "state").load(spider.sites[SITE].state_key).posts == {5: "2024-01-01T00:00:00Z"}


def test_a_site_whose_dead_runs_files_cannot_be_completed_is_given_up_with_its_reason(tmp_path, monkeypatch, caplog):
    import asyncio

    import viewworld.spiders.wpposts as wpposts

    def disk_full(directory: Path) -> list[Any]:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(wpposts, "recover_part_files", disk_full)
    spider = make_spider(tmp_path)
    assert asyncio.run(all_first_requests(spider)) == []
    assert spider.sites[SITE].failure == (f"the files a dead run left under {tmp_path / 'output'} cannot be "
                                          "completed: [Errno 28] No space left on device")
    from viewworld.outcome import OUTPUT_FAILED, exit_code

    assert exit_code(spider.crawler.stats.get_stats()) == OUTPUT_FAILED, "the output's disk, not the site: exit 5"


def test_an_item_dropped_after_it_was_written_is_not_counted_out_twice(spider, seed_post):
    """A pipeline after the writing one may drop an item: its site must not seem done while another is out."""
    from viewworld.items import Tombstone

    site = crawled_site(spider)
    first, second = Tombstone(site.key, 1), Tombstone(site.key, 2)
    spider.handed_out(first, site)
    spider.handed_out(second, site)
    spider.item_written(first)
    spider.item_lost(first)  # dropped by a later pipeline
    assert site.items_pending == 1
    spider.item_lost(second)
    assert site.items_pending == 0


def test_an_item_a_pipeline_passed_on_as_another_object_is_counted_written_by_what_it_says(spider, seed_post):
    """``dict(item)`` or ``ItemAdapter(item).asdict()`` in a pipeline before the writing one: the post is written
    all the same, and its site ends when it is done, its version recorded."""
    from itemadapter import ItemAdapter

    from viewworld.assembly import build_post

    site = crawled_site(spider)
    post = spider.handed_out(build_post(site, seed_post, "2026-11-29T00:00:00Z"), site)
    assert site.items_pending == 1
    copy = ItemAdapter(post).asdict()
    spider.item_written(copy)
    assert site.items_pending == 0 and site.written == {seed_post["id"]: seed_post["modified_gmt"] + "Z"}
    spider.item_lost(copy)  # dropped by a later pipeline: counted once
    assert site.items_pending == 0


def test_a_site_stuck_ends_at_idle_and_what_another_sites_posts_wait_for_of_its_batches_is_asked_again(
        tmp_path, seed_post, caplog):
    """Two sites under one host follow each other's links. The first's batches were dropped by a middleware; the
    other's post waits for an image those batches asked for. At idle the first ends, stuck; the other asks for
    the image itself, and goes on."""
    import asyncio

    from scrapy.exceptions import DontCloseSpider

    from viewworld.assembly import build_post
    from viewworld.wordpress import post_links

    spider = make_spider(tmp_path, site=f"{SITE},{SITE}/blog")
    spider.crawler.engine = engine = FakeEngine()
    asyncio.run(all_first_requests(spider))
    ours, blog = spider.sites[SITE], spider.sites[f"{SITE}/blog"]
    spider.assembler.add(ours, build_post(ours, seed_post, "2026-11-29T00:00:00Z"), post_links(seed_post))
    assert len(follow(spider.assembled(flush=True))) == 3  # media, author, category: dropped, never answered
    other = dict(seed_post, id=7)  # the same image, author and category
    spider.assembler.add(blog, build_post(blog, other, "2026-11-29T00:00:00Z"), post_links(other))
    ours.listed, blog.listed = {}, {}  # both walks are over
    with pytest.raises(DontCloseSpider):
        spider.flush_batches_when_idle()
    assert list(spider.sites) == [f"{SITE}/blog"]
    assert f"{SITE}: stuck, with nothing in flight: 0 posts pages, 0 id listing pages and 3 batches" in caplog.text
    assert f"{SITE}/blog: stuck" not in caplog.text
    assert sorted(request.url.split("wp/v2/")[1].split("&")[0] for request in engine.crawled) == [
        "categories", "media", "users"]
    assert {request.meta["site"] for request in engine.crawled} == {blog.origin}


def test_items_that_left_the_pipelines_uncounted_do_not_hold_their_site_at_idle_but_hold_its_mark(spider, caplog):
    """A pipeline changed what an item says (its id, its site): no item is in the pipelines at idle, so its
    site is done, not stuck; whether the item was written is not known, so the mark holds."""
    from scrapy.exceptions import DontCloseSpider

    from viewworld.items import Tombstone
    from viewworld.state import StateStore

    spider.crawler.engine = FakeEngine()
    ended_walk(spider)
    site = spider.sites[SITE]
    spider.handed_out(Tombstone(site.key, 9), site)
    spider.item_written({"site": site.key, "id": "9", "deleted": True})  # the id made a string
    assert site.items_pending == 1 and not spider.site_done(site)
    try:
        spider.flush_batches_when_idle()
    except DontCloseSpider:
        pass
    assert "stuck" not in caplog.text and spider.items_out == {} and spider.site_done(site)
    assert "1 items left the item pipelines without a word" in caplog.text
    spider.hand_back_finished_sites()
    assert spider.sites == {} and StateStore(spider.store.directory).load(site.state_key).last_sweep is None


def test_a_claim_whose_state_cannot_be_had_is_given_up_and_leaves_the_saved_state_alone(spider, monkeypatch, caplog):
    """A cluster worker's claim: Redis times out after the lock was taken. The claim is lost, not the state."""
    from viewworld.state import SiteState

    spider.crawler.engine = FakeEngine()
    spider.waiting_sites.clear()  # a worker's sites come as claims
    spider.store.save(SiteState("www.viewworld.org", mark="2024-06-01T00:00:00Z"))
    monkeypatch.setattr(spider.store, "load", lambda key: (_ for _ in ()).throw(TimeoutError("Redis timed out")))
    assert spider.claim(SITE) == []
    assert spider.sites[SITE].failure == "cannot be claimed: TimeoutError('Redis timed out')"
    monkeypatch.undo()
    spider.hand_back_finished_sites()
    assert spider.sites == {} and spider.store.load("www.viewworld.org").mark == "2024-06-01T00:00:00Z"


def test_a_site_given_at_a_path_of_another_sites_wordpress_is_crawled_once(tmp_path):
    """``example.org/blog`` has no WordPress of its own: its home page names ``example.org``'s API root."""
    import asyncio

    spider = make_spider(tmp_path, concurrency=2, site="https://example.org,https://example.org/blog")
    homes = asyncio.run(all_first_requests(spider))
    link = {"Link": '<https://example.org/wp-json/>; rel="https://api.w.org/"', "Content-Type": "text/html"}
    roots = [respond(home, b"<html></html>", headers=link, response_class=HtmlResponse)[0] for home in homes]
    assert posts_pages(respond(roots[0], INDEX))
    assert respond(roots[1], INDEX) == []
    assert spider.sites["https://example.org/blog"].failure == (
        "the same site as https://example.org (both have the API root https://example.org/wp-json/)")


def test_an_api_root_advertised_on_another_host_is_not_trusted(spider):
    import asyncio

    home = asyncio.run(first_request(spider))
    [root] = respond(home, b"<html></html>", headers={"Link": '<https://evil.example/wp-json/>; rel="https://api.w.org/"',
                                                     "Content-Type": "text/html"}, response_class=HtmlResponse)
    assert root.url == f"{SITE}/wp-json/"


def test_no_callback_is_a_generator_that_returns_a_value():
    """What Scrapy's WARN_ON_GENERATOR_RETURN_VALUE checks on every response (the project turns it off
    for its cost), checked here once: a value returned from a generator callback would be lost."""
    from inspect import getmembers, isfunction

    from scrapy.utils.misc import is_generator_with_return_value

    from viewworld.spiders import common, discovery, listing

    classes = [WpPostsSpider, *(member for module in (common, discovery, listing)
                                for _, member in getmembers(module, lambda m: isinstance(m, type)))]
    functions = {function for cls in classes for _, function in getmembers(cls, isfunction)}
    checked = [function for function in functions if function.__module__.startswith("viewworld.")]
    assert len(checked) > 30
    assert [f.__qualname__ for f in checked if is_generator_with_return_value(f)] == []
    # the check itself finds one
    def returns_a_value():
        yield 1
        return 2
    assert is_generator_with_return_value(returns_a_value)


def test_a_crawl_on_one_machine_loads_no_console_and_no_redis():
    """The consoles are off and not even imported (Scrapy imports whatever its extension lists name), and
    scrapy-redis is loaded only by a cluster worker: each costs start-up CPU on every cron run."""
    import subprocess
    import sys

    probe = (
        "import json, sys\n"
        "from scrapy.utils.project import get_project_settings\n"
        "from viewworld.spiders.wpposts import WpPostsSpider\n"
        "settings = get_project_settings()\n"
        "WpPostsSpider.update_settings(settings)\n"
        "extensions = settings.get_component_priority_dict_with_base('EXTENSIONS')\n"
        "extensions = [str(path).rsplit('.', 1)[-1] for path in extensions]\n"
        "modules = ('aiohttp', 'scrapy_redis', 'redis', 'scrapy.extensions.telnet')\n"
        "print(json.dumps([extensions, [name for name in modules if name in sys.modules]]))\n"
    )
    extensions, loaded = json.loads(subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                                                   check=True, cwd=Path(__file__).parent.parent).stdout)
    assert {"CoreStats", "LogStats", "MemoryUsage", "AutoThrottle", "Progress", "GarbageCollection"} <= set(extensions)
    assert not {"TelnetConsole", "RemoteControl"} & set(extensions)
    assert loaded == []


def listing_requests(output: list[Any]) -> list[Request]:
    """The id listing's requests among a callback's output."""
    return [request for request in posts_pages(output) if request.callback.__name__ == "parse_listing"]


def test_a_listing_page_lost_to_an_error_answer_makes_no_tombstones(seed_post, tmp_path):
    """A deletion sweep whose listing lost a page (here a firewall's 400) cannot tell what was deleted."""
    import asyncio

    from viewworld.state import SiteState, StateStore

    StateStore(tmp_path / "state").save(SiteState("www.viewworld.org", api_root=ROOT, mark="2024-01-01T00:00:00Z",
                                                  posts={999: "2023-01-01T00:00:00Z"}))
    spider = make_spider(tmp_path, sweep="1")
    page = asyncio.run(first_request(spider))
    output = respond(page, json.dumps([seed_post]).encode(), headers={"X-WP-Total": "1", "X-WP-TotalPages": "1"})
    [listing] = listing_requests(output)
    respond(listing, b"<html><h1>400 Bad Request</h1></html>", status=400, headers={"Content-Type": "text/html"},
            response_class=HtmlResponse)
    site = spider.sites[SITE]
    assert site.listing_lost
    assert site.deleted() == []
    assert spider.crawler.stats.get_value("viewworld/pages_failed") == 1


def included_ids(output: list[Any]) -> list[str]:
    """The ids of the posts asked for by ``include=`` among a callback's output."""
    return [parse_qs(urlsplit(request.url).query)["include"][0] for request in posts_pages(output)
            if "include=" in request.url]


def test_a_post_pushed_onto_a_page_already_fetched_is_found_by_the_listing(seed_post, spider):
    """Page 1 of 100 said 101 posts; one of them was trashed before page 2 was asked for, which came back
    past the end: the oldest post moved up onto page 1 after it had been fetched. The count tells."""
    first = discover(spider)
    output = respond(first, page_body(seed_post, range(101, 1, -1)), headers={"X-WP-Total": "101",
                                                                              "X-WP-TotalPages": "2"})
    [page_2] = posts_pages(output)
    output = respond(page_2, b'{"code": "rest_post_invalid_page_number", "message": "", "data": {"status": 400}}',
                     status=400)
    site = spider.sites[SITE]
    assert site.pages == 1 and not site.walk_is_consistent
    [listing] = listing_requests(output)
    still_public = [{"id": post_id, "modified_gmt": seed_post["modified_gmt"]} for post_id in range(1, 102)
                    if post_id != 50]
    output = respond(listing, json.dumps(still_public).encode(), headers={"X-WP-Total": "100",
                                                                        "X-WP-TotalPages": "1"})
    assert included_ids(output) == ["1"]
    assert not [item for item in output if not isinstance(item, Request)], "nothing deleted: it was never written"


def sweep_on_a_site_of_150(tmp_path: Path) -> tuple[WpPostsSpider, Request]:
    """An incremental run with a deletion sweep on a site whose 150 posts were all written: the listing's page 1."""
    import asyncio

    from viewworld.state import SiteState, StateStore

    StateStore(tmp_path / "state").save(SiteState(
        "www.viewworld.org", api_root=ROOT, mark="2024-06-01T00:00:00Z", last_sweep="2024-05-01T00:00:00Z",
        posts=dict.fromkeys(range(1, 151), "2024-01-01T00:00:00Z")))
    spider = make_spider(tmp_path, sweep="1")
    page = asyncio.run(first_request(spider))
    output = respond(page, b"[]", headers={"X-WP-Total": "0", "X-WP-TotalPages": "0"})
    [listing] = listing_requests(output)
    return spider, listing


def listed(ids: Any) -> bytes:
    return json.dumps([{"id": post_id, "modified_gmt": "2024-01-01T00:00:00"} for post_id in ids]).encode()


def test_a_listing_that_claims_a_million_posts_is_asked_for_a_few_pages_at_a_time(tmp_path):
    """Its pages go as answers come back (twice the site's concurrency in flight), not 10,000 requests at once."""
    spider, listing = sweep_on_a_site_of_150(tmp_path)
    headers = {"X-WP-Total": "1000000", "X-WP-TotalPages": "10000"}
    pages = listing_requests(respond(listing, listed(range(1, 101)), headers=headers))
    assert [request.cb_kwargs["page"] for request in pages] == [2, 3]
    assert [request.cb_kwargs["page"] for request in listing_requests(respond(pages[0], b"[]", status=500))] == [4]
    assert spider.sites[SITE].listing_pages["all"] == (4, 10000)


def test_a_deletion_while_the_ids_are_listed_makes_no_tombstone_and_the_sweep_waits(tmp_path, caplog):
    """Post 10 is deleted between the listing's pages: page 2 starts at 102, and 101, still public, is
    listed nowhere. Its count moved: nothing is said deleted, and the mark and the sweep wait."""
    spider, listing = sweep_on_a_site_of_150(tmp_path)
    output = respond(listing, listed(range(1, 101)), headers={"X-WP-Total": "150", "X-WP-TotalPages": "2"})
    [page_2] = listing_requests(output)
    output = respond(page_2, listed(range(102, 151)), headers={"X-WP-Total": "149", "X-WP-TotalPages": "2"})
    site = spider.sites[SITE]
    assert site.listing_moved
    assert [item for item in output if not isinstance(item, Request)] == []
    state = site.next_state(finished=True, now="2024-06-02T00:00:00Z")
    assert (state.mark, state.last_sweep) == ("2024-06-01T00:00:00Z", "2024-05-01T00:00:00Z")
    assert state.last_run["complete"] is False and state.last_run["ended_at"] == "2024-06-02T00:00:00Z"
    assert "the post count moved while the ids were listed" in caplog.text


def deletion_checks(output: list[Any]) -> list[Request]:
    """The deletion check's requests (posts asked for by id) among a callback's output."""
    return [request for request in posts_pages(output) if request.callback.__name__ == "parse_deletion_check"]


def test_a_listing_that_held_still_has_what_it_did_not_show_checked_then_tombstoned(tmp_path):
    """101 is listed nowhere: it is asked for by id, does not come back, and gets its tombstone."""
    spider, listing = sweep_on_a_site_of_150(tmp_path)
    output = respond(listing, listed(range(1, 101)), headers={"X-WP-Total": "149", "X-WP-TotalPages": "2"})
    [page_2] = listing_requests(output)
    output = respond(page_2, listed(range(102, 151)), headers={"X-WP-Total": "149", "X-WP-TotalPages": "2"})
    [check] = deletion_checks(output)
    assert included_ids([check]) == ["101"]
    output = respond(check, b"[]")
    [tombstone] = [item for item in output if not isinstance(item, Request)]
    assert tombstone.id == 101
    # A tombstone a pipeline failed on stays in the state, for the next sweep to say again; a written one goes.
    state = spider.sites[SITE].next_state(finished=True, now="2024-06-02T00:00:00Z")
    assert 101 in state.posts and state.last_run["deleted"] == 0
    spider.item_written(tombstone)
    state = spider.sites[SITE].next_state(finished=True, now="2024-06-02T00:00:00Z", run="r1", output="f.jsonl")
    assert state.last_sweep == "2024-06-02T00:00:00Z" and 101 not in state.posts
    assert state.last_run == {"run": "r1", "ended_at": "2024-06-02T00:00:00Z", "mode": "incremental",
                              "complete": True, "written": 0, "deleted": 1, "unchanged": 0, "output": "f.jsonl"}
    # The output failed (exit 5): lines still in its buffer were lost, so the run was not complete.
    assert spider.sites[SITE].next_state(True, "2024-06-02T00:00:00Z", written_kept=False).last_run["complete"] is False


def test_a_post_pushed_off_a_listing_whose_count_did_not_move_is_not_said_deleted(tmp_path):
    """Post 10 deleted and post 151 published between the listing's pages: the count stays at 150, page 2
    starts at 102, and 101, still public, is listed nowhere. Asked for by id, it comes back."""
    spider, listing = sweep_on_a_site_of_150(tmp_path)
    output = respond(listing, listed(range(1, 101)), headers={"X-WP-Total": "150", "X-WP-TotalPages": "2"})
    [page_2] = listing_requests(output)
    output = respond(page_2, listed(range(102, 152)), headers={"X-WP-Total": "150", "X-WP-TotalPages": "2"})
    assert not spider.sites[SITE].listing_moved
    [check] = deletion_checks(output)
    assert included_ids([check]) == ["101"]
    output = respond(check, listed([101]))
    assert [item for item in output if not isinstance(item, Request)] == []
    state = spider.sites[SITE].next_state(finished=True, now="2024-06-02T00:00:00Z")
    assert 101 in state.posts  # (10 was listed on page 1, before it went: the next sweep finds it gone)


def test_a_deletion_check_answered_with_ids_it_did_not_ask_for_takes_none_of_them(tmp_path):
    """A broken or hostile site answers the check for 101 with thousands of other ids: they are not listed, and
    not fetched (they made one include= URL of megabytes)."""
    spider, listing = sweep_on_a_site_of_150(tmp_path)
    output = respond(listing, listed(range(1, 101)), headers={"X-WP-Total": "149", "X-WP-TotalPages": "2"})
    [page_2] = listing_requests(output)
    output = respond(page_2, listed(range(102, 151)), headers={"X-WP-Total": "149", "X-WP-TotalPages": "2"})
    [check] = deletion_checks(output)
    output = respond(check, listed([101, *range(1000, 6000)]), headers={"X-WP-Total": "1"})
    assert [request for request in output if isinstance(request, Request)] == []
    assert set(spider.sites[SITE].listed) == {*range(1, 101), *range(102, 151), 101}


def test_an_incremental_run_fetches_a_post_published_since_the_mark_but_modified_before_it(tmp_path):
    """A post scheduled in May goes public in June with May's ``modified_gmt``: ``modified_after`` misses
    it, the listing of ids published since the mark (less the overlap) does not."""
    import asyncio
    from datetime import UTC, datetime

    from viewworld.state import SiteState, StateStore, utc_text

    StateStore(tmp_path / "state").save(SiteState("www.viewworld.org", api_root=ROOT, mark="2024-06-01T00:00:00Z",
                                                  last_sweep=utc_text(datetime.now(UTC)),
                                                  posts={3: "2024-05-02T00:00:00Z"}))
    spider = make_spider(tmp_path)
    page = asyncio.run(first_request(spider))
    assert "modified_after=2024-05-31T23:00:00Z" in unquote(page.url)
    output = respond(page, b"[]", headers={"X-WP-Total": "0", "X-WP-TotalPages": "0"})
    [published] = listing_requests(output)
    query = parse_qs(urlsplit(published.url).query)
    assert query["after"] == ["2024-05-31T23:00:00Z"] and "modified_after" not in query
    output = respond(published, json.dumps([{"id": 3, "modified_gmt": "2024-05-02T00:00:00"},
                                            {"id": 7, "modified_gmt": "2024-05-20T08:00:00"}]).encode(),
                     headers={"X-WP-Total": "2", "X-WP-TotalPages": "1"})
    assert included_ids(output) == ["7"]


@pytest.mark.parametrize("mode", ["full", "incremental"])
def test_a_post_is_written_again_only_when_its_version_is_new_or_cannot_be_told(mode):
    """Any run skips a post already written at its ``modified_gmt`` (the first crawl killed halfway is
    finished without writing its first half again); a post without a usable ``modified_gmt`` is written;
    ``full=1`` writes all."""
    from viewworld.sites import Site
    from viewworld.state import SiteState

    known = SiteState("www.viewworld.org", posts={1: "2024-01-01T00:00:00Z", 2: "2024-01-01T00:00:00Z"})
    site = Site(SITE, state=known, mode=mode)
    assert site.accept(1, "2024-01-01T00:00:00Z", None) is False
    assert site.accept(2, "2024-02-01T00:00:00Z", None) is True
    assert site.accept(3, None, None) is True
    assert site.accept(4, "2024-01-01T00:00:00Z", None) is True
    assert site.unchanged == 1
    everything = Site(SITE, state=known, mode=mode, rewrite=True)
    assert everything.accept(1, "2024-01-01T00:00:00Z", None) is True


def test_after_an_output_failure_the_state_records_nothing_written(spider):
    """Lines still in the output buffer were lost with it: the next run recovers what reached the disk
    (the .part file) and must not skip the rest as already written."""
    site = crawled_site(spider)
    site.written = {7: "2024-01-01T00:00:00Z"}
    site.tombstones = [8]
    site.state = spider.store.load(site.state_key)
    site.state.posts = {8: "2023-01-01T00:00:00Z"}
    spider.crawler.stats.set_value("viewworld/output_failed", True)
    spider.closed("finished")
    assert spider.store.load(site.state_key).posts == {8: "2023-01-01T00:00:00Z"}


class RedisDown:
    """A Redis client whose server went away (a cluster worker's state store)."""

    def get(self, key: str) -> None:
        return None

    def eval(self, *args: Any, **kwargs: Any) -> None:
        from redis.exceptions import ConnectionError as RedisConnectionError

        raise RedisConnectionError("Connection refused")


@pytest.mark.parametrize("store", ["directory", "redis"])
def test_a_state_that_cannot_be_saved_is_said_in_one_line_and_exits_5(spider, caplog, monkeypatch, store):
    """The records stay written; the next run, without this run's state, crawls again what this one did."""
    from viewworld.cluster import RedisStateStore
    from viewworld.outcome import OUTPUT_FAILED, exit_code

    site = crawled_site(spider)
    if store == "redis":
        spider.store = RedisStateStore(RedisDown(), "worker-1")
        where, why = "Redis", "Connection refused"
    else:
        def disk_full(state: Any) -> None:
            raise OSError(28, "No space left on device")

        monkeypatch.setattr(spider.store, "save", disk_full)
        where, why = spider.store.directory, "No space left on device"
    site.state = spider.store.load(site.state_key)
    spider.closed("finished")
    [record] = [record for record in caplog.records if "cannot be saved" in record.getMessage()]
    assert record.levelname == "ERROR"
    assert record.getMessage() == (f"{site.url}: the state cannot be saved in {where}: {why}; the next run crawls "
                                   "again what this one did")
    assert exit_code(spider.crawler.stats.get_stats()) == OUTPUT_FAILED


def test_a_walk_whose_pages_never_answered_is_said_and_keeps_the_mark(spider, caplog):
    """A request a middleware drops without an errback (DEPTH_LIMIT, URLLENGTH_LIMIT) leaves its page in
    flight: the run must not count as complete."""
    site = crawled_site(spider)
    site.state = spider.store.load(site.state_key)
    site.newest, site.pages_in_flight = "2024-01-01T00:00:00Z", 1
    spider.closed("finished")
    assert spider.store.load(site.state_key).mark is None
    assert "the walk did not end: 1 posts pages" in caplog.text
    site.pages_in_flight, site.listed = 0, {}  # answered, and the walk at its end
    spider.closed("finished")
    assert spider.store.load(site.state_key).mark == "2024-01-01T00:00:00Z"


def test_progress_counts_posts_already_written_as_done(spider, caplog):
    """A run finishing a killed first crawl skips the posts the dead run wrote: they are done, not missing."""
    import logging

    from viewworld.progress import Progress

    site = crawled_site(spider)
    site.total, site.unchanged = 1000, 600
    spider.crawler.stats.set_value(f"sites/{site.key}/items", 150)
    progress = Progress(spider.crawler.stats, 0)  # no timer: the lines are asked for below
    progress.spider_opened(spider)
    with caplog.at_level(logging.INFO, logger="viewworld.progress"):
        progress.log_progress()
        progress.spider_closed(spider, "finished")
    assert "750/1000 posts (75%)" in caplog.text
    assert "150 posts written, 600 unchanged (X-WP-Total 1000)" in caplog.text


def test_the_eta_of_a_site_that_waited_for_its_turn_counts_from_its_start(spider, caplog):
    import logging
    import time

    from viewworld.progress import Progress

    site = crawled_site(spider)
    site.total, site.started = 1000, time.monotonic() - 100  # half done in 100 s, 50 minutes into the run
    spider.crawler.stats.set_value(f"sites/{site.key}/items", 500)
    progress = Progress(spider.crawler.stats, 0)
    progress.spider_opened(spider)
    progress.started -= 3000
    with caplog.at_level(logging.INFO, logger="viewworld.progress"):
        progress.log_progress()
    assert "500/1000 posts (50%), ETA 1m40s" in caplog.text


def test_posts_pages_ask_for_the_fields_records_use_and_whole_pages_if_links_go_missing(seed_post, spider):
    """After a post has shown the taxonomies, pages ask with _fields (_links included); a page that comes
    back without _links all the same (a plugin, a proxy) is asked for again whole, as every later page."""
    first = discover(spider)
    assert "_fields" not in first.url
    headers = {"X-WP-Total": "300", "X-WP-TotalPages": "3"}
    second, _third = posts_pages(respond(first, page_body(seed_post, range(1, 101)), headers=headers))
    assert "_fields=id,date," in second.url and ",_links,categories,tags" in second.url
    stripped = [{key: value for key, value in dict(seed_post, id=post_id).items() if key != "_links"}
                for post_id in range(101, 201)]
    again = posts_pages(respond(second, json.dumps(stripped).encode(), headers=headers))
    assert page_numbers(again) == ["2"] and "_fields" not in again[0].url
    assert len(spider.sites[SITE].post_ids) == 100  # the stripped posts were not taken
    assert spider.sites[SITE].posts_fields == ""


def test_without_revision_counts_later_pages_come_without_links_and_their_posts_link_as_page_1s(seed_post, spider):
    """REVISION_COUNTS off: pages after the first ask with _fields but not _links; their posts link to their own
    media, author and terms at the routes page 1's posts showed, and their revision count is unknown (None)."""
    spider.revision_counts = False
    first = discover(spider)
    headers = {"X-WP-Total": "300", "X-WP-TotalPages": "3"}
    second, _third = posts_pages(respond(first, page_body(seed_post, range(1, 101)), headers=headers))
    assert "_fields=id,date," in second.url and "_links" not in second.url and ",categories,tags" in second.url
    stripped = [{key: value for key, value in dict(seed_post, id=post_id, featured_media=5000 + post_id).items()
                 if key != "_links"} for post_id in range(101, 201)]
    assert not posts_pages(respond(second, json.dumps(stripped).encode(), headers=headers))  # not asked again
    assert len(spider.sites[SITE].post_ids) == 200 and spider.sites[SITE].posts_fields
    pending = {entry.post.id: entry for entries in spider.assembler._waiting.values() for entry in entries}
    post = pending[150].post
    assert post.api_url == f"{SITE}/index.php?rest_route=/wp/v2/posts/150"
    assert post.revisions == {"count": None, "latest_id": None, "items": None}
    assert pending[50].post.revisions["count"] == 1  # page 1's, from its _links
    links = {link.field: link for link in pending[150].links}
    assert links["featured_media"].ids == (5150,) and links["featured_media"].collection[1] == "/wp/v2/media"
    assert links["featured_media"].href == f"{SITE}/index.php?rest_route=/wp/v2/media/5150"
    assert {name: link.collection[1] for name, link in links.items()} == {
        "featured_media": "/wp/v2/media", "author": "/wp/v2/users", "categories": "/wp/v2/categories",
        "tags": "/wp/v2/tags"}
    assert links["categories"].ids == tuple(seed_post["categories"])


def test_with_credentials_pages_keep_links_whatever_revision_counts_says(seed_post, spider):
    """The revisions fetched with credentials are those of posts whose _links count some."""
    from viewworld.credentials import Credentials

    spider.revision_counts = False
    first = discover(spider)
    spider.sites[SITE].credentials = Credentials("editor", "abcd efgh ijkl mnop qrst uvwx")
    requests = posts_pages(respond(first, page_body(seed_post, range(1, 101)), headers={"X-WP-Total": "300"}))
    [second] = [request for request in requests if "&page=2" in request.url]
    assert ",_links,categories,tags" in second.url
    assert len([request for request in requests if "/revisions" in request.url]) == 100


def test_pages_asked_for_with_page_1_of_a_site_that_gave_up_are_let_go(tmp_path):
    """Page 1 says the API is closed (401 rest_login_required): the site has failed once, and the pages
    asked for with it are not also counted as pages lost."""
    spider = make_spider(tmp_path, concurrency=3)
    first, *ahead = discover_all(spider)
    body = b'{"code":"rest_login_required","message":"REST API restricted","data":{"status":401}}'
    assert respond(first, body, status=401) == []
    assert "rest_login_required" in spider.sites[SITE].failure
    for request in ahead:
        assert respond(request, body, status=401) == []
    assert spider.sites[SITE].pages_in_flight == 0
    assert not spider.crawler.stats.get_value("viewworld/pages_failed")


def test_credentials_go_only_over_https_to_the_api_roots_host(tmp_path, caplog):
    """Not over http (a root advertised as http behind a TLS proxy, a redirect to http), not to another host."""
    from viewworld.credentials import Credentials
    from viewworld.middlewares import CredentialsMiddleware
    from viewworld.sites import Site
    from viewworld.wordpress import ApiRoot

    spider = make_spider(tmp_path, settings={"DOWNLOAD_VERIFY_CERTIFICATES": True})  # as credentials make it
    site = spider.sites[SITE] = Site(SITE, SITE, credentials=Credentials("editor", "secret app password"))
    site.use_root(ApiRoot.from_url(f"{SITE}/wp-json/"))
    middleware = CredentialsMiddleware(spider.crawler)
    sent = {}
    for url in (f"{SITE}/wp-json/wp/v2/users/me", "http://www.viewworld.org/wp-json/wp/v2/users/me",
                "https://viewworld.org/wp-json/wp/v2/users/me", "https://www.viewworld.org:8443/wp-json/"):
        request = Request(url, meta={"site": SITE, "authorized": True})
        middleware.process_request(request)
        sent[url] = "Authorization" in request.headers
    assert list(sent.values()) == [True, False, False, False]
    withheld = [record.getMessage() for record in caplog.records if "not sent" in record.getMessage()]
    assert withheld == [f"{SITE}: the application password is not sent to http://www.viewworld.org/wp-json/wp/v2/"
                        "users/me (only over https, to the API root's host www.viewworld.org)"]

    # A root advertised as http (behind a TLS proxy) gets no password from a site given as https; a site given as
    # http (a test server, an intranet) sends it to its http root.
    site.use_root(ApiRoot.from_url("http://www.viewworld.org/wp-json/"))
    assert not site.credentials_go_to("http://www.viewworld.org/wp-json/wp/v2/users/me")
    plain = Site("http://127.0.0.1:8080", "http://127.0.0.1:8080", credentials=Credentials("editor", "secret"))
    plain.use_root(ApiRoot.from_url("http://127.0.0.1:8080/wp-json/"))
    assert plain.credentials_go_to("http://127.0.0.1:8080/wp-json/wp/v2/users/me")


@pytest.mark.parametrize(("verify", "environment", "why"), [
    (False, {}, "TLS certificates are not verified: DOWNLOAD_VERIFY_CERTIFICATES is off"),
    (True, {"SSLKEYLOGFILE": "/tmp/keys.log"}, "TLS session keys are written to SSLKEYLOGFILE"),
])
def test_credentials_go_over_https_only_when_tls_keeps_them(tmp_path, caplog, monkeypatch, verify, environment, why):
    """However the spider is run (the crawl command refuses both), a password never goes over TLS that does not
    keep it to the site."""
    from viewworld.credentials import Credentials
    from viewworld.middlewares import CredentialsMiddleware
    from viewworld.sites import Site
    from viewworld.wordpress import ApiRoot

    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    spider = make_spider(tmp_path, settings={"DOWNLOAD_VERIFY_CERTIFICATES": verify})
    site = spider.sites[SITE] = Site(SITE, SITE, credentials=Credentials("editor", "secret app password"))
    site.use_root(ApiRoot.from_url(f"{SITE}/wp-json/"))
    request = Request(f"{SITE}/wp-json/wp/v2/users/me", meta={"site": SITE, "authorized": True})
    CredentialsMiddleware(spider.crawler).process_request(request)
    assert "Authorization" not in request.headers
    assert [record.getMessage() for record in caplog.records if "not sent" in record.getMessage()] == [
        f"{SITE}: the application password is not sent to {SITE}/wp-json/wp/v2/users/me ({why})"]
