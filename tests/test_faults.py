"""The fault matrix: the real crawl, through a fault-injecting proxy (tests/faults.py), against the real
WordPress. Each test says what is lost (nothing, or nothing after the next run), the exit code and the line
a person reads in the log; the README's "Faults" section is the same matrix as a table."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import re
import socket
import subprocess
import threading
import time
from email.utils import formatdate
from typing import TYPE_CHECKING, Any

import pytest

from tests import faults
from tests.crawling import Crawl, assert_valid_records, crawl, output_settings, start_crawl, written_items
from tests.faults import FaultProxy

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from tests.wordpress.site import WordPressSite

pytestmark = pytest.mark.wordpress

# Small limits, so that each fault costs seconds, not minutes.
SETTINGS = {"DOWNLOAD_TIMEOUT": "2", "RETRY_TIMES": "2", "RETRY_AFTER_MAX": "2"}
API = r"wp-json|rest_route"
POSTS = r"wp/v2/posts\?"
PAGE_2 = r"wp/v2/posts\?.*[?&]page=2\b"
CLOUDFLARE_CHALLENGE = (
    b'<!DOCTYPE html><html lang="en-US"><head><title>Just a moment...</title></head><body>'
    b'<div id="challenge-running"></div><script src="/cdn-cgi/challenge-platform/h/g/orchestrate/chl_page/v1">'
    b"</script></body></html>")
LOGIN_PAGE = (
    b'<!DOCTYPE html><html><head><title>Log In &lsaquo; News &#8212; WordPress</title></head><body class="login">'
    b'<form name="loginform" id="loginform" action="/wp-login.php" method="post"><input name="log"></form>'
    b"</body></html>")
PHP_WARNING = (b'<br />\n<b>Warning</b>:  Undefined array key "x" in <b>/var/www/html/wp-content/plugins/seo/seo.php'
               b"</b> on line <b>12</b><br />\n")


@pytest.fixture(scope="module")
def site(wordpress_sites: dict[str, WordPressSite]) -> WordPressSite:
    return wordpress_sites["pretty"]


@pytest.fixture(scope="module")
def truth(site: WordPressSite) -> dict[str, Any]:
    return site.truth()


@pytest.fixture
def proxy(site: WordPressSite) -> Iterator[FaultProxy]:
    with FaultProxy(site.url) as running:
        yield running


def run(tmp_path: Path, proxy: FaultProxy, *arguments: str, env: dict[str, str] | None = None,
        **settings: str) -> Crawl:
    return crawl(tmp_path, f"site={proxy.url}", *arguments, settings={**SETTINGS, **settings}, env=env)


def ids(result: Crawl) -> list[int]:
    return [item["id"] for item in result.items() if not item.get("deleted")]


def public_ids(truth: dict[str, Any]) -> set[int]:
    return {post["id"] for post in truth["posts"]}


def assert_nothing_lost(result: Crawl, truth: dict[str, Any]) -> None:
    written = ids(result)
    assert len(written) == len(set(written)), "a post was written twice"
    assert set(written) == public_ids(truth), (sorted(public_ids(truth) - set(written)), result.log[-3000:])
    assert_valid_records(result.items())


def assert_recovered_by_the_next_run(tmp_path: Path, proxy: FaultProxy, first: Crawl,
                                     truth: dict[str, Any]) -> None:
    """The fault goes away; the next run (same state) writes what the first missed."""
    assert_valid_records(first.items())
    failed = first.last_run(proxy.url)
    assert failed["run"] == first.stat("viewworld/run") and failed["complete"] is False, failed
    assert failed["written"] == len(ids(first)), failed
    proxy.clear()
    second = run(tmp_path, proxy)
    assert second.exit_code == 0, second.log[-3000:]
    assert_valid_records(second.items())
    assert set(ids(first)) | set(ids(second)) == public_ids(truth)
    recovered = second.last_run(proxy.url)
    assert recovered["complete"] is True and recovered["written"] == len(ids(second)), recovered
    assert recovered["output"] == (str(second.files()[0]) if second.files() else None), recovered


def said(result: Crawl, *parts: str) -> list[str]:
    """The log lines (WARNING and above) that contain every part."""
    return [line for line in result.log.splitlines()
            if re.search(r"\] (WARNING|ERROR|CRITICAL):", line) and all(part in line for part in parts)]


def problems(result: Crawl) -> list[str]:
    return [line for line in result.log.splitlines() if re.search(r"\] (WARNING|ERROR|CRITICAL):", line)]


# Transient faults: retried, nothing lost, exit 0 -------------------------------------------------------

TRANSIENT = {
    "500 burst": (PAGE_2, faults.answer(500, b"<h1>Internal Server Error</h1>", faults.HTML_TYPE), 2),
    "502 burst": (PAGE_2, faults.answer(502, b"<h1>Bad Gateway</h1>", faults.HTML_TYPE), 2),
    "504 burst": (r"wp/v2/(tags|categories)\?", faults.answer(504, b"<h1>Gateway Timeout</h1>", faults.HTML_TYPE), 2),
    "connection reset": (PAGE_2, faults.reset(), 2),
    "timeout": (PAGE_2, faults.delay(2.5), 1),
    "slow-loris": (PAGE_2, faults.trickle(2000, 0.1), 1),
    "connection cut mid-body": (PAGE_2, faults.cut_connection(), 1),
}


@pytest.mark.parametrize("fault", TRANSIENT)
def test_transient_faults_are_retried_and_nothing_is_lost(fault, proxy, truth, tmp_path):
    pattern, injected, times = TRANSIENT[fault]
    proxy.inject(pattern, injected, times=times)
    result = run(tmp_path, proxy)
    assert result.exit_code == 0, result.log[-3000:]
    assert_nothing_lost(result, truth)
    assert len(proxy.requests_to(pattern)) > times  # the fault happened, then the retry passed


def test_retry_after_in_seconds_is_waited_for(proxy, truth, tmp_path):
    pattern = r"wp/v2/posts\?.*[?&]page=1\b"
    proxy.inject(pattern, faults.retry_after(429, "1"), times=2)
    result = run(tmp_path, proxy)
    assert result.exit_code == 0, result.log[-3000:]
    assert_nothing_lost(result, truth)
    attempts = [seen.at for seen in proxy.requests_to(pattern)]
    assert len(attempts) == 3 and all(later - earlier >= 0.9 for earlier, later in zip(attempts, attempts[1:]))
    [first, _] = said(result, "answered 429: waiting 1 s (Retry-After) before retrying", proxy.url + "/wp-json/")
    assert first.split("WARNING: ")[1].startswith(f"127.0.0.1:{proxy.port} answered 429")


def test_retry_after_as_an_http_date_is_capped_by_retry_after_max(proxy, truth, tmp_path):
    an_hour_later = formatdate(time.time() + 3600, usegmt=True)
    proxy.inject(PAGE_2, faults.retry_after(503, an_hour_later), times=1)
    started = time.monotonic()
    result = run(tmp_path, proxy)
    assert result.exit_code == 0, result.log[-3000:]
    assert_nothing_lost(result, truth)
    first, retried = (seen.at for seen in proxy.requests_to(PAGE_2)[:2])
    assert 1.8 <= retried - first < 10 and time.monotonic() - started < 30
    assert said(result, "answered 503: waiting 2 s (Retry-After) before retrying", "page=2")


# Faults that outlast the retries: the page is lost, exit 1, the next run recovers ------------------------

PERSISTENT = {
    "500 forever": (faults.answer(500, b"<h1>Internal Server Error</h1>", faults.HTML_TYPE),
                    "500 html_instead_of_json"),
    "connection reset forever": (faults.reset(), "Connection to the other side was lost"),
    "Cloudflare challenge mid-crawl": (faults.answer(403, CLOUDFLARE_CHALLENGE, faults.HTML_TYPE,
                                                     (("Server", "cloudflare"),)), "403 cloudflare_challenge"),
    "redirect loop": (faults.redirect_loop(), "max redirections reached"),
    "100 MB body": (faults.huge_body(100 << 20), "larger than download max size"),
    "100 MB body, no Content-Length": (faults.huge_body(100 << 20, declare_length=False), "max size"),
    "gzip bomb": (faults.gzip_bomb(100 << 20), "exceeded DOWNLOAD_MAXSIZE"),
    "truncated JSON": (faults.truncate(), "200 invalid_json"),
}


@pytest.mark.parametrize("fault", PERSISTENT)
def test_a_page_that_fails_for_good_exits_1_says_why_and_the_next_run_recovers(fault, proxy, truth, tmp_path):
    injected, reason = PERSISTENT[fault]
    proxy.inject(PAGE_2, injected)
    result = run(tmp_path, proxy)
    assert result.exit_code == 1, result.log[-3000:]
    lines = said(result, f"ERROR: {proxy.url}: page lost: {proxy.url}/wp-json/wp/v2/posts?", "page=2")
    assert lines and all(line.rstrip().endswith(reason) or reason in line.split("page=2", 1)[1] for line in lines), (
        lines or problems(result))
    assert_recovered_by_the_next_run(tmp_path, proxy, result, truth)


def test_posts_whose_media_failed_for_now_are_written_again_whole_by_the_next_run(proxy, truth, tmp_path):
    """A media batch that fails past its retries (a 503) leaves its posts written without their featured image,
    the error said in each record; the state keeps them to retry, and the next run, the fault gone and nothing
    changed, fetches exactly those posts again by id and writes them whole."""
    proxy.inject(r"wp/v2/media\?", faults.answer(503, b"<h1>Service Unavailable</h1>", faults.HTML_TYPE))
    first = run(tmp_path, proxy)
    assert first.exit_code == 1, first.log[-3000:]
    assert_nothing_lost(first, truth)
    lacking = {item["id"] for item in first.items() if any(error["field"] == "featured_media"
                                                          for error in item["errors"])}
    with_media = {post["id"] for post in truth["posts"] if post.get("featured_media")}
    assert lacking >= with_media and with_media, (len(lacking), len(with_media))  # and links to media gone
    assert said(first, f"{proxy.url}: {len(with_media)} posts were written without a linked resource whose "
                       "request failed (each record's errors say which); the next run fetches them again")
    proxy.clear()
    second = run(tmp_path, proxy)
    assert second.exit_code == 0, second.log[-3000:]
    assert ": incremental crawl" in second.log
    assert set(ids(second)) == with_media, "those posts, and only those, are written again"
    assert all(item["featured_media"] for item in second.items())
    third = run(tmp_path, proxy)
    assert (third.exit_code, ids(third)) == (0, [])


def test_posts_whose_media_keeps_failing_are_retried_three_runs_then_stay_as_written(proxy, truth, tmp_path):
    """A resource that fails every run (a corrupt attachment's 500) costs its posts three runs, not every run."""
    proxy.inject(r"wp/v2/media\?", faults.answer(500, b"<h1>Internal Server Error</h1>", faults.HTML_TYPE))
    with_media = {post["id"] for post in truth["posts"] if post.get("featured_media")}
    runs = [run(tmp_path, proxy) for _ in range(4)]
    assert [result.exit_code for result in runs] == [1, 1, 1, 0], runs[-1].log[-3000:]
    assert [set(ids(result)) >= with_media for result in runs[:3]] == [True, True, True]
    assert set(ids(runs[1])) == set(ids(runs[2])) == with_media
    assert ids(runs[3]) == []
    assert said(runs[2], f"{len(with_media)} of them lacked it 3 runs in a row and stay so")


# Bodies WordPress plugins decorate: read as they are, nothing lost, exit 0 --------------------------------

DECORATIONS = {
    "byte-order mark": lambda body: b"\xef\xbb\xbf" + body,
    "HTML comment of a cache plugin": lambda body: body + b"\n<!-- Performance optimized by W3 Total Cache -->",
    "PHP warning after the JSON": lambda body: body + PHP_WARNING,
    "PHP warning before the JSON": lambda body: PHP_WARNING + body,
}


@pytest.mark.parametrize("decoration", DECORATIONS)
def test_decorated_json_is_read(decoration, proxy, truth, tmp_path):
    proxy.inject(API, faults.body(DECORATIONS[decoration], decoration))
    result = run(tmp_path, proxy)
    assert result.exit_code == 0, result.log[-3000:]
    assert_nothing_lost(result, truth)
    assert not problems(result)


# HTML instead of JSON, closed doors: the site cannot be crawled, exit 3, one line says why ----------------

CLOSED = {
    "Cloudflare challenge": (r".", faults.answer(403, CLOUDFLARE_CHALLENGE, faults.HTML_TYPE,
                                                 (("Server", "cloudflare"), ("cf-mitigated", "challenge"))),
                             "403 cloudflare_challenge"),
    "security plugin login page": (API, faults.answer(200, LOGIN_PAGE, faults.HTML_TYPE), "200 login_page"),
    "rest_disabled": (API, faults.wordpress_error(403, "rest_disabled", "The REST API is disabled on this site."),
                      "403 rest_disabled: The REST API is disabled on this site."),
    "rest_login_required": (API, faults.wordpress_error(401, "rest_login_required",
                                                        "REST API restricted to authenticated users."),
                            "401 rest_login_required: REST API restricted to authenticated users."),
    "rest_login_required, index open": (
        r"wp/v2/", faults.wordpress_error(401, "rest_login_required", "REST API restricted to authenticated users."),
        "401 rest_login_required: REST API restricted to authenticated users."),
    "WordPress older than 4.7": (r"^/wp-json/?$|rest_route=/?($|&)",
                                 faults.json_body(lambda index: {**index, "namespaces": ["oembed/1.0"], "routes": {}},
                                                  "no wp/v2"),
                                 "no wp/v2 namespace (WordPress older than 4.7?)"),
}


@pytest.mark.parametrize("door", CLOSED)
def test_a_site_that_cannot_be_crawled_exits_3_with_one_line_naming_what_it_said(door, proxy, tmp_path):
    pattern, injected, reason = CLOSED[door]
    proxy.inject(pattern, injected)
    result = run(tmp_path, proxy)
    assert result.exit_code == 3, result.log[-3000:]
    lines = said(result, f"ERROR: {proxy.url}: cannot be crawled: ", reason)
    assert len(lines) == 1, problems(result)
    assert f"{proxy.url}/" in lines[0].split("cannot be crawled: ", 1)[1]  # names the URL that answered so
    assert ids(result) == []


# Politeness: a site never has more of our requests at once than CONCURRENT_REQUESTS_PER_DOMAIN -------------

def test_requests_without_delay_keep_to_the_concurrency_per_site(proxy, truth, tmp_path):
    """Scrapy 2.19's downloader, with no delay between requests, started every request queued in one turn
    of its event loop (7 at once for a crawl told 4; viewworld/downloader.py): here 2 at a time, whatever
    the site's answers take."""
    at_once = {"now": 0, "most": 0}

    async def counted(request: faults.Request, forward: Any) -> faults.Answer:
        at_once["now"] += 1
        at_once["most"] = max(at_once["most"], at_once["now"])
        try:
            await asyncio.sleep(0.05)
            return await forward(request)
        finally:  # before the answer is written: the crawler cannot have asked again yet
            at_once["now"] -= 1

    proxy.inject(API, counted, name="counted")
    # A timeout would free the slot while the proxy still holds the request: no timeout here.
    result = run(tmp_path, proxy, "per_page=5", DOWNLOAD_DELAY="0", AUTOTHROTTLE_ENABLED="False",
                 CONCURRENT_REQUESTS_PER_DOMAIN="2", DOWNLOAD_TIMEOUT="60")
    assert result.exit_code == 0, result.log[-3000:]
    assert_nothing_lost(result, truth)
    assert len(proxy.requests_to(API)) > 10
    assert at_once["most"] == 2


# Caches and plugins that change the walk: it goes on, nothing lost, exit 0 --------------------------------

def test_stripped_pagination_headers_walk_until_a_short_page(proxy, truth, tmp_path):
    proxy.inject(POSTS, faults.strip_headers("X-WP-Total", "X-WP-TotalPages"))
    result = run(tmp_path, proxy)
    assert result.exit_code == 0, result.log[-3000:]
    assert_nothing_lost(result, truth)
    assert "no usable X-WP-TotalPages; walking the pages until a short one" in result.log


def test_a_lower_per_page_cap_is_stepped_down_to(proxy, truth, tmp_path):
    proxy.inject(r"wp/v2/posts\?.*per_page=(100|50|25)\b",
                 faults.wordpress_error(400, "rest_invalid_param", "Invalid parameter(s): per_page"))
    result = run(tmp_path, proxy)
    assert result.exit_code == 0, result.log[-3000:]
    assert_nothing_lost(result, truth)
    assert [line.split(": ", 1)[1] for line in said(result, "refuses per_page")] == [
        f"{proxy.url}: the site refuses per_page={asked}; asking {asked // 2} a page" for asked in (100, 50, 25)]


def test_a_per_page_cap_on_every_collection_steps_the_batches_down_too(proxy, truth, tmp_path):
    """A site that refuses per_page above 25 everywhere: posts pages and the media, terms and users batches all
    step down, and every record is whole."""
    proxy.inject(r"wp/v2/\w+\?.*per_page=(100|50)\b",
                 faults.wordpress_error(400, "rest_invalid_param", "Invalid parameter(s): per_page"))
    result = run(tmp_path, proxy)
    assert result.exit_code == 0, result.log[-3000:]
    assert_nothing_lost(result, truth)
    media = {post["id"]: post.get("featured_media") for post in truth["posts"]}
    assert all(bool(item["featured_media"]) == bool(media[item["id"]]) for item in result.items())
    assert all(item["author"]["name"] and item["categories"] for item in result.items())
    for field in ("featured_media", "author", "categories", "tags"):
        assert said(result, f"{proxy.url}: the site refuses per_page=100 for {field}; asking 50 at a time"), field
    tags = {post["id"]: sorted(tag["id"] for tag in post["tags"]) for post in truth["posts"]}
    assert all(sorted(tag["id"] for tag in item["tags"]) == tags[item["id"]] for item in result.items())
    assert any(tags.values())
    assert not said(result, "linked resources unavailable")


def test_a_silent_per_page_cap_is_walked_at_its_size(proxy, truth, tmp_path):
    """A plugin caps posts pages at 10 without a word: page 1 holds 10 of the 100 asked for, X-WP-Total says
    there are more, and the walk (and the deletion sweep's checks by id) goes on 10 a page."""
    proxy.inject(POSTS, faults.cap_per_page(10))
    result = run(tmp_path, proxy)
    assert result.exit_code == 0, result.log[-3000:]
    assert_nothing_lost(result, truth)
    assert said(result, f"{proxy.url}: page 1 held 10 posts of the 100 asked for, of {len(truth['posts'])} "
                        "(X-WP-Total): the site caps its pages; asking 10 a page")
    assert result.last_run(proxy.url)["complete"] is True
    # The state keeps the cap: the next run (incremental) asks 10 a page at once.
    before = len(proxy.requests_to(POSTS))
    hourly = run(tmp_path, proxy)
    assert (hourly.exit_code, ids(hourly), hourly.last_run(proxy.url)["complete"]) == (0, [], True), hourly.log[-3000:]
    asked = [seen.target for seen in proxy.requests_to(POSTS)[before:]]
    assert asked and all("per_page=10&" in target for target in asked), asked
    # A sweep asks the usual size again, and its id listing finds the cap again: nothing is taken for deleted.
    relisted = run(tmp_path, proxy, "sweep=1")
    assert (relisted.exit_code, relisted.items(), relisted.last_run(proxy.url)["complete"]) == (0, [], True)
    assert said(relisted, f"{proxy.url}: the id listing's page 1 held 10 of the 100 asked for, of "
                          f"{len(truth['posts'])}: the site caps its pages; asking 10 a page")
    # The cap lifted: a sweep asks 100 and finds none, the state forgets it, and the next run asks 100 a page.
    proxy.clear()
    lifted = run(tmp_path, proxy, "sweep=1")
    assert (lifted.exit_code, lifted.items(), lifted.last_run(proxy.url)["complete"]) == (0, [], True)
    before = len(proxy.requests_to(POSTS))
    after = run(tmp_path, proxy)
    assert (after.exit_code, after.items()) == (0, []), after.log[-3000:]
    asked = [seen.target for seen in proxy.requests_to(POSTS)[before:]]
    assert asked and all(re.search(r"per_page=100\b", target) for target in asked), asked


def test_a_count_of_zero_with_posts_on_the_page_is_not_believed(proxy, truth, tmp_path):
    """A plugin's ``no_found_rows`` makes WordPress count 0 posts and 0 pages: the walk goes on while pages are
    full."""
    proxy.inject(POSTS, faults.transform(lambda real: real.with_header("X-WP-Total", "0").with_header(
        "X-WP-TotalPages", "0"), "no_found_rows"))
    result = run(tmp_path, proxy)
    assert result.exit_code == 0, result.log[-3000:]
    assert_nothing_lost(result, truth)
    assert said(result, f"{proxy.url}: X-WP-TotalPages 0 cannot be true")


def test_an_absurd_total_pages_header_is_not_believed(proxy, truth, tmp_path):
    proxy.inject(POSTS, faults.set_header("X-WP-TotalPages", "999999999"))
    result = run(tmp_path, proxy)
    assert result.exit_code == 0, result.log[-3000:]
    assert_nothing_lost(result, truth)
    assert said(result, f"{proxy.url}: X-WP-TotalPages 999999999 cannot be true")
    assert len(proxy.requests_to(POSTS)) < 10


# Closed links: warnings, the field empty or from another public source, exit 0 ----------------------------

USERS_CLOSED = faults.wordpress_error(401, "rest_user_cannot_view", "Sorry, you are not allowed to list users.")


@pytest.mark.parametrize("yoast", [False, True], ids=["no other source", "Yoast metadata"])
def test_closed_users_leave_the_author_name_from_another_public_source_or_null(yoast, proxy, truth, tmp_path):
    names = {post["id"]: post["author"]["name"] for post in truth["posts"]}
    proxy.inject(r"wp/v2/users", USERS_CLOSED)
    if yoast:
        proxy.inject(POSTS, faults.each_post(lambda post: post.update(yoast_head_json={"author": names[post["id"]]}),
                                             "Yoast metadata"))
    result = run(tmp_path, proxy)
    assert result.exit_code == 0, result.log[-3000:]
    assert_nothing_lost(result, truth)
    for item in result.items():
        assert item["author"]["id"] == next(p["author"]["id"] for p in truth["posts"] if p["id"] == item["id"])
        assert item["author"]["name"] == (names[item["id"]] if yoast else None)
    [line] = problems(result)  # said once for the site, not once per post
    assert f"WARNING: {proxy.url}: author unavailable (401 rest_user_cannot_view: Sorry, you are not allowed " \
           f"to list users.), e.g. {proxy.url}/wp-json/wp/v2/users?include=" in line


def test_revisions_closed_despite_credentials_leave_the_public_count(site, proxy, truth, tmp_path):
    proxy.inject(r"wp/v2/posts/\d+/revisions",
                 faults.wordpress_error(401, "rest_cannot_read", "Sorry, you are not allowed to view revisions."))
    result = run(tmp_path, proxy, env={"WP_USERNAME": site.username, "WP_APP_PASSWORD": site.app_password})
    assert result.exit_code == 0, result.log[-3000:]
    assert_nothing_lost(result, truth)
    expected = {post["id"]: post["revisions"] for post in truth["posts"]}
    for item in result.items():
        assert item["revisions"] == {**expected[item["id"]], "items": None}
    [line] = problems(result)  # said once for the site, not once per post
    assert f"WARNING: {proxy.url}: revisions unavailable (401 rest_cannot_read" in line
    assert f"e.g. {proxy.url}/wp-json/wp/v2/posts/" in line and "/revisions?" in line


# Hostile input: never followed, never a crash, never an invalid line ---------------------------------------

class Listener:
    """A loopback port that records whether anything connects to it (another site on the same machine)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.connections = 0
        self._socket = socket.create_server(("127.0.0.1", port))
        self._socket.settimeout(0.2)
        self._running = True
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while self._running:
            try:
                connection, _ = self._socket.accept()
            except OSError:
                continue
            self.connections += 1
            connection.close()

    def close(self) -> None:
        self._running = False
        self._thread.join(5)
        self._socket.close()


HOSTILE_TARGETS = {
    "another host": "http://evil.example/wp-json/wp/v2/{route}",
    "a private address": "http://10.0.0.1/wp-json/wp/v2/{route}",
    "another site on loopback": "http://127.0.0.1:{port}/wp-json/wp/v2/{route}",
    "file:": "file:///etc/passwd?{route}",
    "data:": "data:application/json,[{route}]",
}


def test_links_to_elsewhere_are_never_followed(proxy, truth, tmp_path, unused_port):
    """Each post's links point at one of HOSTILE_TARGETS (by id): none is followed, each is named in ``errors``."""
    targets = list(HOSTILE_TARGETS.values())

    def hostile(post: dict[str, Any]) -> None:
        template = targets[post["id"] % len(targets)]
        links = post.get("_links", {})
        for relation, route in (("wp:featuredmedia", f"media/{post['featured_media']}"),
                                ("author", f"users/{post['author']}")):
            for link in links.get(relation, []):
                link["href"] = template.format(route=route, port=unused_port)
        for term in links.get("wp:term", []):
            term["href"] = template.format(route=f"categories?post={post['id']}", port=unused_port)

    listener = Listener(unused_port)
    try:
        proxy.inject(POSTS, faults.each_post(hostile, "links to elsewhere"))
        result = run(tmp_path, proxy)
    finally:
        listener.close()
    assert result.exit_code == 0, result.log[-3000:]
    assert_nothing_lost(result, truth)
    assert listener.connections == 0
    assert not proxy.requests_to(r"wp/v2/(media|users|categories|tags|regions)")
    expected = {post["id"]: post for post in truth["posts"]}
    for item in result.items():
        post, template = expected[item["id"]], targets[item["id"] % len(targets)]
        failed = {error["field"] for error in item["errors"]}
        assert item["featured_media"] is None and item["categories"] == [] and item["tags"] == []
        assert {"author"} | ({"categories"} if post["categories"] else set()) | (
            {"tags"} if post["tags"] else set()) <= failed, (item["id"], item["errors"])
        assert all(error["url"].startswith(template.split("{")[0]) for error in item["errors"]
                   if error["field"] != "featured_media")


def test_a_redirect_of_discovery_to_the_canonical_url_is_followed(proxy, truth, tmp_path):
    """The home page and the API root answer 301 to their canonical URL (a trailing parameter here; http to
    https or www. in the wild): discovery follows them, as the README says."""
    proxy.inject(r"^/(wp-json/)?(\?.*)?$", faults.redirect_once())
    result = run(tmp_path, proxy)
    assert result.exit_code == 0, result.log[-3000:]
    assert_nothing_lost(result, truth)
    assert problems(result) == []


def wrong_types(post: dict[str, Any]) -> None:
    kind = post["id"] % 7
    if kind == 0:
        post.update(date=20240101, date_gmt="yesterday")
    elif kind == 1:
        post.update(modified="2024-13-45 25:61", modified_gmt=1718000000)
    elif kind == 2:
        post.update(title={"rendered": ["a", 1]}, excerpt=None)
    elif kind == 3:
        post.update(categories="1,2", tags=[None, "x", -3], author="admin")
    elif kind == 4:
        post.update(featured_media=-5, sticky="yes", format=7)
    elif kind == 5:
        post.update(content={"rendered": 5, "protected": "no"}, link=42, slug=None)
    else:
        post.update(date_gmt="2024-01-01T00:00:00+02:00", _links=[])


def test_fields_of_the_wrong_type_write_valid_lines(proxy, truth, tmp_path):
    proxy.inject(POSTS, faults.each_post(wrong_types, "wrong types"))
    result = run(tmp_path, proxy)
    assert result.exit_code in (0, 1), result.log[-3000:]
    assert_valid_records(result.items())
    assert set(ids(result)) == public_ids(truth)
    records = {item["id"]: item for item in result.items()}
    yesterday = [record for post_id, record in records.items() if post_id % 7 == 0]
    assert yesterday and all(record["date_gmt"] is None and "not a date: 'yesterday'" in
                             [error["reason"] for error in record["errors"] if error["field"] == "date_gmt"]
                             for record in yesterday)
    assert {records[post_id]["date_gmt"] for post_id in records if post_id % 7 == 6} == {"2023-12-31T22:00:00Z"}


def test_ids_of_the_wrong_type_lose_no_other_post_and_are_said(proxy, truth, tmp_path):
    """Some posts of page 1 carry their id as a string or not at all: the other posts of every page are
    written, the page counts as lost (exit 1, one line), and the next run writes what this one did not."""
    def wrong_id(post: dict[str, Any]) -> None:
        if post["id"] % 10 == 0:
            post["id"] = str(post["id"])
        elif post["id"] % 10 == 5:
            post["id"] = None

    proxy.inject(r"wp/v2/posts\?.*[?&]page=1\b", faults.each_post(wrong_id, "ids of the wrong type"))
    result = run(tmp_path, proxy)
    assert_valid_records(result.items())
    unharmed = {post_id for post_id in public_ids(truth) if post_id % 10 not in (0, 5)}
    assert unharmed <= set(ids(result)), sorted(unharmed - set(ids(result)))[:20]
    assert result.exit_code == 1, result.log[-3000:]  # a page was read in part: the run is not complete
    assert said(result, "ERROR", "page lost", "posts page:", "items without a usable id"), problems(result)
    assert_recovered_by_the_next_run(tmp_path, proxy, result, truth)


def test_a_title_of_10_mb_is_written_as_a_valid_line(proxy, truth, tmp_path):
    huge = "breaking news " * (10_000_000 // 14)
    target = max(public_ids(truth))
    proxy.inject(r"wp/v2/posts\?.*[?&]page=1\b",
                 faults.each_post(lambda post: post["title"].update(rendered=huge) if post["id"] == target else None,
                                  "10 MB title"))
    result = run(tmp_path, proxy)
    assert result.exit_code == 0, result.log[-3000:]
    assert_nothing_lost(result, truth)
    [item] = [item for item in result.items() if item["id"] == target]
    assert item["title"] == huge.strip()


# Secrets -----------------------------------------------------------------------------------------------

def test_the_application_password_never_shows(site, proxy, truth, tmp_path):
    """Not in ``ps`` (the command line of any process while the crawl runs), the log, stderr, the items,
    the stats or the state; exceptions on authorized requests (a reset, a 500) included."""
    secrets = [site.app_password, base64.b64encode(f"{site.username}:{site.app_password}".encode()).decode()]
    revised = sorted(post["id"] for post in truth["posts"] if post["revisions"]["count"])
    # Exceptions on authorized requests: resets and 500s, retried, then failed for good.
    proxy.inject(rf"wp/v2/posts/{revised[0]}/revisions", faults.reset())
    proxy.inject(rf"wp/v2/posts/{revised[1]}/revisions", faults.answer(500, b"<h1>Internal Server Error</h1>"))
    log_file = tmp_path / "crawl.log"
    process = start_crawl(f"site={proxy.url}", settings={**SETTINGS, **output_settings(tmp_path, log_file),
                                                        "LOG_LEVEL": "DEBUG"},
                          env={"WP_USERNAME": site.username, "WP_APP_PASSWORD": site.app_password},
                          output=subprocess.PIPE)
    command_lines_seen = 0
    while process.poll() is None:
        for cmdline in _command_lines():
            command_lines_seen += 1
            assert not any(secret.encode() in cmdline for secret in secrets), cmdline
        time.sleep(0.05)
    stdout, stderr = process.communicate()
    assert process.returncode == 1, log_file.read_text()[-3000:]  # two revisions lost for good
    assert command_lines_seen
    assert any(seen.authorization for seen in proxy.seen), "the credentials were never used"
    texts = {"stdout": stdout, "stderr": stderr, "log": log_file.read_bytes()}
    texts.update({str(path): path.read_bytes() for path in tmp_path.rglob("*") if path.is_file()})
    for where, text in texts.items():
        assert not any(secret.encode() in text for secret in secrets), where
    items = written_items(tmp_path)
    assert items and sum(bool(item["revisions"]["items"]) for item in items) > 0


def _command_lines() -> Iterator[bytes]:
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/cmdline", "rb") as cmdline:
                    yield cmdline.read()
            except OSError:
                continue


# Consistency: posts published and deleted while the crawl runs -------------------------------------------

MUTATE = """
    $deleted = [];
    foreach (['ID', 'date'] as $order) {
        $newest = get_posts(['numberposts' => 4, 'orderby' => $order, 'order' => 'DESC', 'fields' => 'ids']);
        foreach (array_slice(array_diff($newest, $deleted), 0, 2) as $id) {
            wp_delete_post($id, true);
            $deleted[] = $id;
        }
    }
    $added = [];
    for ($i = 0; $i < 3; $i++) {
        $added[] = wp_insert_post(['post_title' => "Published mid-crawl $i", 'post_status' => 'publish',
                                   'post_content' => '<p>Late news.</p>', 'post_author' => 2]);
    }
    file_put_contents($args['report'], json_encode(['deleted' => $deleted, 'added' => $added]));
"""


def test_posts_published_and_deleted_mid_crawl_leave_no_hole_and_no_duplicate(fresh_site, tmp_path):
    """When page 2 is asked for, posts of page 1 (by id and by date) are deleted and new ones published:
    offset pages shift under both orders. Every post that existed for the whole crawl is written, once."""
    before = {post["id"] for post in fresh_site.truth()["posts"]}
    report = tmp_path / "mutation.json"
    with FaultProxy(fresh_site.url) as proxy:
        proxy.inject(r"wp/v2/posts\?.*[?&]page=(?!1\b)\d+",
                     faults.run_once(lambda: fresh_site.php(MUTATE, report=str(report)), "posts changed"))
        result = run(tmp_path, proxy, "per_page=10")
    mutation = json.loads(report.read_text())
    assert len(mutation["deleted"]) == 4 and len(mutation["added"]) == 3
    whole_crawl = before - set(mutation["deleted"])
    written = ids(result)
    assert result.exit_code == 0, result.log[-3000:]
    assert len(written) == len(set(written)), "a post was written twice"
    assert whole_crawl <= set(written), sorted(whole_crawl - set(written))
    assert_valid_records(result.items())
    print(f"\nmid-crawl changes: {len(mutation['deleted'])} deleted, {len(mutation['added'])} published; "
          f"{result.stat(f'sites/127.0.0.1_{proxy.port}/missed_by_walk') or 0} posts fetched after the id listing; "
          f"{result.requests} requests")
