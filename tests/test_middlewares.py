from __future__ import annotations

from types import SimpleNamespace

import pytest
from scrapy import Request, Spider
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response
from scrapy.utils.test import get_crawler

from viewworld.credentials import Credentials
from viewworld.middlewares import (
    CredentialsMiddleware,
    RetryAfterMiddleware,
    RobotsTxtMiddleware,
    SiteScopeMiddleware,
)

SITE = "https://www.viewworld.org"


class CredentialedSpider(Spider):
    name = "credentialed"

    def credentials_for(self, site: str, url: str | None = None) -> Credentials | None:
        return Credentials("editor", "secret app password") if site == SITE else None


def crawler_with_spider(settings: dict | None = None):
    crawler = get_crawler(CredentialedSpider, {"RETRY_AFTER_MAX": 30, "RETRY_TIMES": 2, **(settings or {})})
    crawler.spider = CredentialedSpider.from_crawler(crawler)
    crawler.stats.open_spider()
    return crawler


@pytest.mark.parametrize("url", [
    "https://cdn.example.com/wp-json/wp/v2/media/1",
    "http://169.254.169.254/latest/meta-data/",
    "http://127.0.0.1:8080/wp-json/",
    "file:///etc/passwd",
])
def test_requests_outside_the_site_are_dropped(url):
    middleware = SiteScopeMiddleware(crawler_with_spider())
    with pytest.raises(IgnoreRequest, match="outside the site"):
        middleware.process_request(Request(url, meta={"site": SITE}))


def test_the_site_itself_its_www_variant_and_https_redirects_are_in_scope():
    crawler = crawler_with_spider()
    middleware = SiteScopeMiddleware(crawler)
    for url in ["https://www.viewworld.org/wp-json/", "http://viewworld.org/", "https://viewworld.org/?p=1"]:
        assert middleware.process_request(Request(url, meta={"site": SITE})) is None
    assert crawler.stats.get_value(f"viewworld/requests/{SITE}") == 3


def test_credentials_go_on_just_before_download_and_come_off_after():
    middleware = CredentialsMiddleware(crawler_with_spider())
    request = Request(f"{SITE}/wp-json/wp/v2/posts/1/revisions", meta={"site": SITE, "authorized": True})
    middleware.process_request(request)
    assert request.headers["Authorization"].startswith(b"Basic ")
    middleware.process_response(request, Response(request.url, status=200, request=request))
    assert "Authorization" not in request.headers


def test_requests_that_do_not_ask_for_credentials_do_not_get_them():
    middleware = CredentialsMiddleware(crawler_with_spider())
    request = Request(f"{SITE}/wp-json/wp/v2/posts", meta={"site": SITE})
    middleware.process_request(request)
    assert "Authorization" not in request.headers


def test_credentials_never_show_in_their_repr():
    assert "secret" not in repr(Credentials("editor", "secret app password"))
    assert "secret" not in str(Credentials("editor", "secret app password"))


def fake_engine(crawler, delay: float = 0.25):
    slot = SimpleNamespace(delay=delay)
    crawler.engine = SimpleNamespace(downloader=SimpleNamespace(slots={"www.viewworld.org": slot}))
    return slot


@pytest.mark.parametrize("status", [429, 503])
def test_retry_after_makes_the_site_slot_wait_capped_then_restores_its_delay(status):
    crawler = crawler_with_spider()
    slot = fake_engine(crawler)
    middleware = RetryAfterMiddleware(crawler)
    now = [1000.0]
    middleware.clock = lambda: now[0]
    request = Request(f"{SITE}/wp-json/wp/v2/posts")
    retry = middleware.process_response(request, Response(request.url, status=status, request=request,
                                                          headers={"Retry-After": "3600"}))
    assert isinstance(retry, Request) and retry.meta["retry_times"] == 1
    assert slot.delay == 30  # RETRY_AFTER_MAX
    # An answer to a request that was already in flight (or AutoThrottle) does not cut the wait short.
    now[0] += 10
    slot.delay = 0.1
    middleware.process_response(request, Response(request.url, status=200, request=request))
    assert slot.delay == 20
    now[0] += 21
    middleware.process_response(retry, Response(retry.url, status=200, request=retry))
    assert slot.delay == 0.25


@pytest.mark.parametrize(("meta", "retried"), [({"retry_times": 2}, False),  # RETRY_TIMES is 2 here
                                               ({"max_retry_times": 5, "retry_times": 2}, True),
                                               ({"max_retry_times": 0}, False),
                                               ({"dont_retry": True}, False)])
def test_retry_after_follows_the_retry_limits_and_the_slot_waits_retried_or_not(meta, retried):
    crawler = crawler_with_spider()
    slot = fake_engine(crawler)
    middleware = RetryAfterMiddleware(crawler)
    request = Request(f"{SITE}/wp-json/wp/v2/posts", meta=meta)
    response = Response(request.url, status=429, request=request, headers={"Retry-After": "5"})
    answer = middleware.process_response(request, response)
    assert isinstance(answer, Request) if retried else answer is response
    assert slot.delay == 5


def test_answers_without_retry_after_are_left_to_the_retry_middleware():
    middleware = RetryAfterMiddleware(crawler_with_spider())
    request = Request(f"{SITE}/wp-json/wp/v2/posts")
    response = Response(request.url, status=503, request=request)
    assert middleware.process_response(request, response) is response


def test_the_robots_txt_of_the_hosts_a_site_went_to_is_forgotten_when_it_ends():
    """Each crawl of a site (a cluster worker's next claim) reads its robots.txt afresh: that of every host its
    requests went to, unless a site still crawled goes there too, or it is being fetched."""
    import asyncio

    from twisted.internet.defer import Deferred

    from viewworld.signals import site_ended

    crawler = get_crawler(Spider, {"ROBOTSTXT_OBEY": True})
    middleware = RobotsTxtMiddleware.from_crawler(crawler)
    fetching = Deferred()
    middleware._parsers.update({"example.org": object(), "www.example.org": None, "cdn.example.org": fetching,
                                "shared.example": object(), "other.example": object()})

    async def ask(url: str, site: str) -> None:
        if url.split("/")[2] != "cdn.example.org":  # known: the parsers above answer at once
            await middleware.robot_parser(Request(url, meta={"site": site}))
        else:
            middleware.hosts.setdefault(site, set()).add("cdn.example.org")

    async def crawl() -> None:
        for url in ("https://example.org/", "https://www.example.org/wp-json/", "https://cdn.example.org/x",
                    "https://shared.example/"):
            await ask(url, "https://example.org")
        await ask("https://shared.example/wp-json/", "https://shared.example")
        await ask("https://other.example/", "https://other.example")

    asyncio.run(crawl())
    crawler.signals.send_catch_log(site_ended, site="https://example.org")
    assert set(middleware._parsers) == {"cdn.example.org", "shared.example", "other.example"}
    assert middleware._parsers["cdn.example.org"] is fetching
    crawler.signals.send_catch_log(site_ended, site="https://shared.example")
    assert set(middleware._parsers) == {"cdn.example.org", "other.example"}


def test_a_robots_txt_redirected_to_another_host_is_not_followed():
    """Scrapy's robots.txt requests carry no site; a redirect of one must not reach another host or a private
    address, while http -> https and ``www.`` stay allowed."""
    middleware = SiteScopeMiddleware(crawler_with_spider())
    for url, allowed in (("http://169.254.169.254/latest/meta-data/", False),
                         ("https://cdn.example.com/robots.txt", False), ("https://viewworld.org/robots.txt", True)):
        request = Request(url, meta={"redirect_urls": [f"{SITE}/robots.txt"], "dont_obey_robotstxt": True})
        if allowed:
            assert middleware.process_request(request) is None
        else:
            with pytest.raises(IgnoreRequest, match="robots.txt redirected to .* outside its site"):
                middleware.process_request(request)
