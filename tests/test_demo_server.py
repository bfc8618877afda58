"""The demo WordPress server (demo/wpserver.py) answers like WordPress 6.x for everything it implements."""

from __future__ import annotations

import http.client
import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from demo.wpapi import WordPressApp
from demo.wpsite import load_site

if TYPE_CHECKING:
    from collections.abc import Iterator
    from email.message import Message

REPOSITORY = Path(__file__).resolve().parent.parent
SERVER = REPOSITORY / "demo" / "wpserver.py"
SITE_DIR = REPOSITORY / "demo" / "site"
SEED_POST = REPOSITORY / "tests" / "data" / "seed_post.json"
RECORDED_ORIGIN = "https://www.viewworld.org"
SYNTHETIC_POSTS = 2000


@dataclass
class Server:
    process: subprocess.Popen[str]
    url: str
    pid: int

    def stop(self) -> int:
        os.kill(self.pid, signal.SIGTERM)
        try:
            return self.process.wait(timeout=10)
        finally:
            assert self.process.stdout is not None
            self.process.stdout.close()


@dataclass
class Answer:
    status: int
    headers: Message
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


def start_server(*args: str) -> Server:
    process = subprocess.Popen(
        [sys.executable, str(SERVER), *args, "--port", "0"], stdout=subprocess.PIPE, text=True
    )
    assert process.stdout is not None
    announcement = json.loads(process.stdout.readline())
    return Server(process, announcement["url"], announcement["pid"])


@pytest.fixture(scope="module")
def plain() -> Iterator[Server]:
    server = start_server("--site-dir", str(SITE_DIR))
    yield server
    server.stop()


@pytest.fixture(scope="module")
def pretty() -> Iterator[Server]:
    server = start_server("--site-dir", str(SITE_DIR), "--permalinks", "pretty")
    yield server
    server.stop()


@pytest.fixture(scope="module")
def synthetic() -> Iterator[Server]:
    server = start_server("--synthetic", str(SYNTHETIC_POSTS))
    yield server
    server.stop()


def fetch(url: str) -> Answer:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return Answer(response.status, response.headers, response.read())
    except urllib.error.HTTPError as error:
        with error:
            return Answer(error.code, error.headers, error.read())


def api(server: Server, route: str, query: str = "") -> Answer:
    return fetch(f"{server.url}/index.php?rest_route={route}" + (f"&{query}" if query else ""))


def seed_post() -> dict[str, Any]:
    return json.loads(SEED_POST.read_text(encoding="utf-8"))


def error_code(answer: Answer) -> str:
    return answer.json()["code"]


# -- Start, stop, discovery.


def test_server_announces_its_url_and_pid_and_stops_cleanly_on_sigterm() -> None:
    server = start_server("--site-dir", str(SITE_DIR))
    assert server.url.startswith("http://127.0.0.1:")
    assert server.pid == server.process.pid
    assert fetch(server.url + "/robots.txt").status == 200
    assert server.stop() == 0


def test_home_page_announces_the_plain_api_root_in_its_link_header_and_head(plain: Server) -> None:
    answer = fetch(plain.url + "/")
    root = f"{plain.url}/index.php?rest_route=/"
    assert answer.status == 200
    assert answer.headers["Content-Type"] == "text/html; charset=UTF-8"
    assert answer.headers["Link"] == f'<{root}>; rel="https://api.w.org/"'
    assert f'<link rel="https://api.w.org/" href="{root}" />' in answer.body.decode()


def test_home_page_of_a_pretty_permalink_site_announces_wp_json(pretty: Server) -> None:
    answer = fetch(pretty.url + "/")
    assert answer.headers["Link"] == f'<{pretty.url}/wp-json/>; rel="https://api.w.org/"'
    assert f'href="{pretty.url}/wp-json/"' in answer.body.decode()


def test_robots_txt_is_wordpress_default(plain: Server) -> None:
    text = fetch(plain.url + "/robots.txt").body.decode()
    assert "User-agent: *\nDisallow: /wp-admin/\nAllow: /wp-admin/admin-ajax.php\n" in text


@pytest.mark.parametrize("path", ["/index.php?rest_route=/", "/?rest_route=/", "/?rest_route=%2F", "/?rest_route="])
def test_api_index_lists_the_wp_v2_namespace(plain: Server, path: str) -> None:
    answer = fetch(plain.url + path)
    index = answer.json()
    assert answer.status == 200
    assert index["namespaces"] == ["oembed/1.0", "wp/v2", "wp-site-health/v1"]
    assert index["url"] == index["home"] == plain.url
    assert index["name"] == "ViewWorld"
    assert "/wp/v2/posts" in index["routes"]
    assert "_links" in index


def test_plain_permalink_site_answers_wp_json_with_a_404_html_page(plain: Server) -> None:
    answer = fetch(plain.url + "/wp-json/wp/v2/posts")
    assert answer.status == 404
    assert answer.headers["Content-Type"].startswith("text/html")


@pytest.mark.parametrize("path", ["/wp-json/wp/v2/posts/1136", "/?rest_route=/wp/v2/posts/1136", "/index.php?rest_route=%2Fwp%2Fv2%2Fposts%2F1136"])
def test_pretty_permalink_site_serves_every_route_form(pretty: Server, path: str) -> None:
    assert fetch(pretty.url + path).json()["id"] == 1136


def test_percent_encoded_rest_route_and_trailing_slash_are_accepted(plain: Server) -> None:
    assert fetch(plain.url + "/index.php?rest_route=%2Fwp%2Fv2%2Fposts%2F1136%2F").json()["id"] == 1136


# -- Posts.


def test_seed_post_is_served_as_recorded_with_only_its_host_rewritten(plain: Server) -> None:
    answer = api(plain, "/wp/v2/posts/1136")
    expected = json.loads(json.dumps(seed_post()).replace(RECORDED_ORIGIN, plain.url))
    assert answer.json() == expected


def test_json_is_encoded_like_wp_json_encode(plain: Server) -> None:
    answer = api(plain, "/wp/v2/posts/1136")
    assert answer.headers["Content-Type"] == "application/json; charset=UTF-8"
    assert b'"link":"http:\\/\\/127.0.0.1' in answer.body
    assert b"\\u2014" in answer.body  # the em dash, escaped


def test_pretty_permalink_site_serves_links_under_wp_json(pretty: Server) -> None:
    links = fetch(pretty.url + "/wp-json/wp/v2/posts/1136").json()["_links"]
    assert links["self"][0]["href"] == f"{pretty.url}/wp-json/wp/v2/posts/1136"
    assert links["replies"][0]["href"] == f"{pretty.url}/wp-json/wp/v2/comments?post=1136"
    assert links["wp:term"][0]["href"] == f"{pretty.url}/wp-json/wp/v2/categories?post=1136"


def test_posts_are_paginated_with_totals_and_a_percent_encoded_link_header(plain: Server) -> None:
    answer = api(plain, "/wp/v2/posts", "per_page=5&page=2")
    assert answer.status == 200
    assert answer.headers["X-WP-Total"] == "12"
    assert answer.headers["X-WP-TotalPages"] == "3"
    base = f"{plain.url}/index.php?rest_route=%2Fwp%2Fv2%2Fposts&per_page=5"
    assert answer.headers["Link"] == f'<{base}&page=1>; rel="prev", <{base}&page=3>; rel="next"'
    assert len(answer.json()) == 5


def test_pretty_pagination_links_use_wp_json(pretty: Server) -> None:
    answer = fetch(pretty.url + "/wp-json/wp/v2/posts?per_page=5")
    assert answer.headers["Link"] == f'<{pretty.url}/wp-json/wp/v2/posts?per_page=5&page=2>; rel="next"'


def test_posts_default_to_ten_newest_first(plain: Server) -> None:
    posts = api(plain, "/wp/v2/posts").json()
    dates = [post["date"] for post in posts]
    assert len(posts) == 10
    assert dates == sorted(dates, reverse=True)


def test_per_page_above_100_is_an_invalid_parameter(plain: Server) -> None:
    answer = api(plain, "/wp/v2/posts", "per_page=101")
    assert answer.status == 400
    body = answer.json()
    assert body["code"] == "rest_invalid_param"
    assert body["message"] == "Invalid parameter(s): per_page"
    assert body["data"]["status"] == 400
    assert "per_page" in body["data"]["params"]


def test_page_past_the_end_is_refused(plain: Server) -> None:
    answer = api(plain, "/wp/v2/posts", "per_page=5&page=4")
    assert answer.status == 400
    assert error_code(answer) == "rest_post_invalid_page_number"


@pytest.mark.parametrize(
    ("query", "key", "reverse"),
    [("orderby=id&order=asc", "id", False), ("orderby=title&order=asc", "title", False), ("orderby=modified", "modified", True)],
)
def test_posts_can_be_ordered(plain: Server, query: str, key: str, reverse: bool) -> None:
    posts = api(plain, "/wp/v2/posts", f"per_page=100&{query}").json()
    values = [post[key]["rendered"].casefold() if key == "title" else post[key] for post in posts]
    assert values == sorted(values, reverse=reverse)


def test_include_returns_only_posts_that_exist(plain: Server) -> None:
    posts = api(plain, "/wp/v2/posts", "include=1136,999999,1128&_fields=id").json()
    assert posts == [{"id": 1136}, {"id": 1128}]


def test_zoned_dates_compare_with_gmt_fields_and_plain_dates_with_local_ones(plain: Server) -> None:
    # The seed post: local 2022-01-03T12:25:57, GMT 16:25:57.
    zoned = api(plain, "/wp/v2/posts", "after=2022-01-03T16:25:56Z&before=2022-01-03T16:25:58Z&_fields=id").json()
    offset = api(plain, "/wp/v2/posts", "after=2022-01-03T18:25:56%2B02:00&before=2022-01-03T18:25:58%2B02:00&_fields=id").json()
    local = api(plain, "/wp/v2/posts", "after=2022-01-03T12:25:56&before=2022-01-03T12:25:58&_fields=id").json()
    assert zoned == offset == local == [{"id": 1136}]


def test_date_comparisons_are_strict(plain: Server) -> None:
    assert api(plain, "/wp/v2/posts", "after=2022-01-03T12:25:57&before=2022-01-03T12:25:58").json() == []


def test_a_literal_plus_in_a_date_is_an_invalid_date(plain: Server) -> None:
    answer = api(plain, "/wp/v2/posts", "after=2022-01-03T12:00:00+02:00")
    assert answer.status == 400
    assert answer.json()["data"]["params"] == {"after": "Invalid date."}


def test_modified_after_selects_recently_edited_posts(plain: Server) -> None:
    posts = api(plain, "/wp/v2/posts", "modified_after=2022-02-08T00:00:00&_fields=id,modified").json()
    assert posts == [{"id": 1174, "modified": "2022-02-08T09:31:12"}]


def test_fields_keeps_only_the_named_fields(plain: Server) -> None:
    posts = api(plain, "/wp/v2/posts", "per_page=2&_fields=id,modified_gmt,title.rendered").json()
    assert [sorted(post) for post in posts] == [["id", "modified_gmt", "title"]] * 2
    assert list(posts[0]["title"]) == ["rendered"]


def test_status_other_than_publish_is_an_invalid_parameter(plain: Server) -> None:
    answer = api(plain, "/wp/v2/posts", "status=draft")
    assert answer.status == 400
    assert error_code(answer) == "rest_invalid_param"


def test_missing_post_is_404_and_unpublished_post_is_401(plain: Server) -> None:
    missing, draft = api(plain, "/wp/v2/posts/999999"), api(plain, "/wp/v2/posts/1178")
    assert (missing.status, error_code(missing)) == (404, "rest_post_invalid_id")
    assert (draft.status, error_code(draft)) == (401, "rest_forbidden")


def test_revisions_need_credentials(plain: Server) -> None:
    answer = api(plain, "/wp/v2/posts/1136/revisions")
    assert answer.status == 401
    assert answer.json() == {
        "code": "rest_cannot_read",
        "message": "Sorry, you are not allowed to view revisions of this post.",
        "data": {"status": 401},
    }


# -- The demo dataset's special cases.


def test_dangling_featured_media_links_to_the_api_root_and_answers_404(plain: Server) -> None:
    post = api(plain, "/wp/v2/posts/1141").json()
    assert post["featured_media"] == 1142
    assert post["_links"]["wp:featuredmedia"][0]["href"] == f"{plain.url}/index.php?rest_route=/"
    media = api(plain, "/wp/v2/media/1142")
    assert (media.status, error_code(media)) == (404, "rest_post_invalid_id")


def test_password_protected_post_is_listed_without_its_content(plain: Server) -> None:
    post = api(plain, "/wp/v2/posts/1151").json()
    assert post["content"] == {"rendered": "", "protected": True}
    assert post["excerpt"]["protected"] is True


def test_dataset_holds_the_special_posts(plain: Server) -> None:
    posts = {post["id"]: post for post in api(plain, "/wp/v2/posts", "per_page=100").json()}
    assert posts[1132]["sticky"] is True
    assert posts[1154]["title"]["rendered"].startswith("北京")
    assert "wp-block-embed-youtube" in posts[1158]["content"]["rendered"]
    assert posts[1145]["_links"]["version-history"][0]["count"] == 3
    assert posts[1154]["_links"] == json.loads(
        json.dumps(seed_post()["_links"]).replace("1136", "1154").replace("1137", "1155").replace("1138", "1156")
        .replace(RECORDED_ORIGIN, plain.url).replace("/users/1", "/users/2")
    )


# -- Media, terms, users.


@pytest.mark.parametrize(
    ("base", "include", "expected"),
    [("media", "1137,1142,1129", [1137, 1129]), ("categories", "8,12,404", [12, 8]), ("tags", "15,404", [15]), ("users", "3,1,77", [3, 1])],
)
def test_include_drops_missing_ids_silently(plain: Server, base: str, include: str, expected: list[int]) -> None:
    answer = api(plain, f"/wp/v2/{base}", f"include={include}&_fields=id")
    assert answer.status == 200
    assert [item["id"] for item in answer.json()] == expected
    assert answer.headers["X-WP-Total"] == str(len(expected))


def test_terms_of_a_post(plain: Server) -> None:
    categories = api(plain, "/wp/v2/categories", "post=1174&_fields=id").json()
    tags = api(plain, "/wp/v2/tags", "post=1174&_fields=id").json()
    assert sorted(term["id"] for term in categories) == [8, 12]
    assert sorted(term["id"] for term in tags) == [15, 16, 17]


def test_child_category_names_its_parent(plain: Server) -> None:
    europe = api(plain, "/wp/v2/categories/12").json()
    assert europe["parent"] == 3
    assert europe["_links"]["up"][0]["href"].endswith("rest_route=/wp/v2/categories/3")


def test_media_has_wordpress_shape(plain: Server) -> None:
    media = api(plain, "/wp/v2/media/1137").json()
    assert media["type"] == "attachment"
    assert media["post"] == 1136
    assert media["source_url"].startswith(f"{plain.url}/wp-content/uploads/")
    assert {"width", "height", "sizes"} <= set(media["media_details"])


@pytest.mark.parametrize(
    ("route", "code"),
    [
        ("/wp/v2/media/1136", "rest_post_invalid_id"),
        ("/wp/v2/users/99", "rest_user_invalid_id"),
        ("/wp/v2/categories/99", "rest_term_invalid"),
        ("/wp/v2/tags/99", "rest_term_invalid"),
    ],
)
def test_missing_items_are_404_with_their_own_codes(plain: Server, route: str, code: str) -> None:
    answer = api(plain, route)
    assert (answer.status, error_code(answer)) == (404, code)


def test_terms_past_the_last_page_are_an_empty_list(plain: Server) -> None:
    answer = api(plain, "/wp/v2/tags", "page=9")
    assert (answer.status, answer.json()) == (200, [])


def test_unknown_route_is_rest_no_route(plain: Server) -> None:
    answer = api(plain, "/wp/v2/nothing")
    assert (answer.status, error_code(answer)) == (404, "rest_no_route")


# -- The handler without HTTP, and the HTTP plumbing.


def test_handle_answers_without_a_socket() -> None:
    app = WordPressApp(load_site(SITE_DIR), "http://example.test", "pretty")
    response = app.handle("GET", "/wp-json/wp/v2/posts?per_page=1", {})
    assert response.status == 200
    assert ("X-WP-Total", "12") in response.headers
    assert b"http:\\/\\/example.test\\/wp-json\\/wp\\/v2\\/posts\\/1174" in response.body


def test_connections_are_kept_alive(plain: Server) -> None:
    connection = http.client.HTTPConnection(plain.url.removeprefix("http://"), timeout=10)
    try:
        for _ in range(2):
            connection.request("GET", "/?rest_route=/wp/v2/users")
            response = connection.getresponse()
            assert response.status == 200
            response.read()
            assert not response.will_close
    finally:
        connection.close()


# -- The synthetic site.


def test_synthetic_site_serves_every_post_once_across_pages(synthetic: Server) -> None:
    first = api(synthetic, "/wp/v2/posts", "per_page=100&_fields=id")
    assert first.headers["X-WP-Total"] == str(SYNTHETIC_POSTS)
    pages = int(first.headers["X-WP-TotalPages"])
    ids = [post["id"] for page in range(1, pages + 1) for post in api(synthetic, "/wp/v2/posts", f"per_page=100&page={page}&_fields=id").json()]
    assert len(ids) == len(set(ids)) == SYNTHETIC_POSTS


def test_synthetic_posts_look_like_the_seed_post(synthetic: Server) -> None:
    posts = api(synthetic, "/wp/v2/posts", "per_page=20").json()
    seed = seed_post()
    for post in posts:
        assert set(post) == set(seed)
        assert 2500 <= len(post["content"]["rendered"]) <= 6000 or post["content"]["protected"]
        assert set(post["_links"]) <= set(seed["_links"])
    with_image = next(post for post in posts if post["featured_media"])
    media = api(synthetic, f"/wp/v2/media/{with_image['featured_media']}").json()
    assert media["post"] == with_image["id"]


def test_synthetic_site_has_terms_and_users(synthetic: Server) -> None:
    assert api(synthetic, "/wp/v2/categories").headers["X-WP-Total"] == "31"
    assert api(synthetic, "/wp/v2/tags").headers["X-WP-Total"] == "500"
    assert api(synthetic, "/wp/v2/users").headers["X-WP-Total"] == "20"


def test_synthetic_page_of_100_posts_is_fast(synthetic: Server) -> None:
    api(synthetic, "/wp/v2/posts", "per_page=100&page=3")
    started = time.perf_counter()
    answer = api(synthetic, "/wp/v2/posts", "per_page=100&page=4")
    elapsed = time.perf_counter() - started
    assert len(answer.json()) == 100
    assert elapsed < 0.5  # generous: a loaded CI machine, not the ~20 ms it takes here
