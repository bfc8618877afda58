"""The real-WordPress harness: its sites answer like WordPress, and truth() agrees with their REST API."""

from __future__ import annotations

import base64
import json
import urllib.error
import urllib.parse
import urllib.request
from typing import TYPE_CHECKING, Any

import pytest

from tests.wordpress import DEFAULT_POSTS, extra_site

if TYPE_CHECKING:
    from collections.abc import Iterator

    from tests.wordpress import WordPressSite

pytestmark = pytest.mark.wordpress


@pytest.fixture(scope="module")
def sites(wordpress_sites: dict[str, WordPressSite]) -> dict[str, WordPressSite]:
    """The test run's sites (one WordPress install per run; no test here changes them for good)."""
    return wordpress_sites


@pytest.fixture(scope="module")
def truth(sites: dict[str, WordPressSite]) -> dict[str, Any]:
    return sites["plain"].truth()


def api_url(site: WordPressSite, route: str, **query: str | int) -> str:
    """`route` under the site's API root, in whichever URL form its permalinks use."""
    url = site.api_root + route.lstrip("/")
    if not query:
        return url
    return url + ("&" if "?" in url else "?") + urllib.parse.urlencode(query)


def get(url: str, auth: tuple[str, str] | None = None) -> tuple[int, Any, dict[str, str]]:
    """GET `url`; return the status, the decoded JSON body (or text) and the headers, errors included."""
    request = urllib.request.Request(url)
    if auth:
        request.add_header("Authorization", "Basic " + base64.b64encode(":".join(auth).encode()).decode())
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            status, body, headers = response.status, response.read(), response.headers
    except urllib.error.HTTPError as error:
        with error:
            status, body, headers = error.code, error.read(), error.headers
    content_type = headers.get("Content-Type", "")
    if content_type.startswith("application/json"):
        return status, json.loads(body), dict(headers)
    return status, body.decode("utf-8") if content_type.startswith("text/") else body, dict(headers)


def all_posts(site: WordPressSite) -> list[dict[str, Any]]:
    posts: list[dict[str, Any]] = []
    page, total_pages = 1, 1
    while page <= total_pages:
        status, body, headers = get(api_url(site, "wp/v2/posts", per_page=100, page=page))
        assert status == 200, body
        posts.extend(body)
        total_pages = int(headers["X-WP-TotalPages"])
        page += 1
    return posts


def post_with_feature(truth: dict[str, Any], feature: str) -> dict[str, Any]:
    return next(post for post in truth["posts"] if feature in post["features"])


@pytest.mark.parametrize(("permalinks", "api_path"), [("plain", "/index.php?rest_route=/"), ("pretty", "/wp-json/")])
def test_home_page_advertises_the_api_root(sites: dict[str, WordPressSite], permalinks: str, api_path: str) -> None:
    site = sites[permalinks]
    status, html, headers = get(site.url + "/")
    assert status == 200
    assert site.api_root == site.url + api_path
    assert f'<{site.api_root}>; rel="https://api.w.org/"' in headers["Link"]
    assert f'<link rel="https://api.w.org/" href="{site.api_root}" />' in html


def test_posts_total_matches_the_published_posts_of_the_truth(sites: dict[str, WordPressSite],
                                                              truth: dict[str, Any]) -> None:
    for site in sites.values():
        status, _, headers = get(api_url(site, "wp/v2/posts", per_page=1))
        assert status == 200
        assert int(headers["X-WP-Total"]) == len(truth["posts"]) == DEFAULT_POSTS


def test_truth_agrees_with_the_rest_api_on_every_post(sites: dict[str, WordPressSite],
                                                      truth: dict[str, Any]) -> None:
    by_id = {post["id"]: post for post in all_posts(sites["plain"])}
    assert sorted(by_id) == [post["id"] for post in truth["posts"]]
    for expected in truth["posts"]:
        post = by_id[expected["id"]]
        links = post["_links"]
        assert post["title"]["rendered"] == expected["title"]
        assert (post["link"], post["slug"], post["format"]) == (expected["link"], expected["slug"], expected["format"])
        assert (post["date_gmt"], post["modified_gmt"]) == (expected["date_gmt"], expected["modified_gmt"])
        assert (post["sticky"], post["content"]["protected"]) == (expected["sticky"], expected["protected"])
        assert post["author"] == expected["author"]["id"]
        assert post["categories"] == [term["id"] for term in expected["categories"]]
        assert post["tags"] == [term["id"] for term in expected["tags"]]
        assert post["featured_media"] == expected["featured_media_id"]
        assert links["version-history"][0]["count"] == expected["revisions"]["count"]
        assert links.get("predecessor-version", [{"id": None}])[0]["id"] == expected["revisions"]["latest_id"]
        assert [term["taxonomy"] for term in links["wp:term"]] == ["category", "post_tag", "region"]


def test_hidden_posts_are_refused(sites: dict[str, WordPressSite], truth: dict[str, Any]) -> None:
    statuses = {hidden["status"] for hidden in truth["hidden"]}
    assert statuses == {"draft", "pending", "private", "future", "trash"}
    for hidden in truth["hidden"]:
        status, body, _ = get(api_url(sites["pretty"], f"wp/v2/posts/{hidden['id']}"))
        assert (status, body["code"]) == (401, "rest_forbidden"), hidden


def test_application_password_authenticates(sites: dict[str, WordPressSite]) -> None:
    for site in sites.values():
        status, body, _ = get(api_url(site, "wp/v2/users/me"), auth=(site.username, site.app_password))
        assert (status, body["slug"]) == (200, site.username)


def test_revisions_need_credentials(sites: dict[str, WordPressSite], truth: dict[str, Any]) -> None:
    site = sites["plain"]
    edited = next(post for post in truth["posts"] if post["revisions"]["count"] >= 2)
    route = f"wp/v2/posts/{edited['id']}/revisions"
    anonymous_status, body, _ = get(api_url(site, route))
    assert (anonymous_status, body["code"]) == (401, "rest_cannot_read")
    status, revisions, _ = get(api_url(site, route), auth=(site.username, site.app_password))
    assert status == 200
    assert [revision["id"] for revision in revisions][0] == edited["revisions"]["latest_id"]
    assert len(revisions) == edited["revisions"]["count"]


def test_dangling_featured_media_links_to_the_api_root(sites: dict[str, WordPressSite],
                                                       truth: dict[str, Any]) -> None:
    expected = post_with_feature(truth, "dangling_featured_media")
    assert expected["featured_media"] is None
    assert expected["featured_media_id"] > 0
    for site in sites.values():
        status, post, _ = get(api_url(site, f"wp/v2/posts/{expected['id']}"))
        assert status == 200
        assert post["featured_media"] == expected["featured_media_id"]
        assert post["_links"]["wp:featuredmedia"][0]["href"] == site.api_root
        media_status, body, _ = get(api_url(site, f"wp/v2/media/{expected['featured_media_id']}"))
        assert (media_status, body["code"]) == (404, "rest_post_invalid_id")


def test_featured_media_of_the_truth_matches_the_media_endpoint(sites: dict[str, WordPressSite],
                                                                truth: dict[str, Any]) -> None:
    expected = next(post["featured_media"] for post in truth["posts"] if post["featured_media"])
    status, media, _ = get(api_url(sites["plain"], f"wp/v2/media/{expected['id']}"))
    assert status == 200
    assert media["source_url"] == expected["url"]
    assert (media["alt_text"], media["mime_type"]) == (expected["alt"], expected["mime_type"])
    assert (media["media_details"]["width"], media["media_details"]["height"]) == (expected["width"], expected["height"])
    status, image, headers = get(expected["url"])
    assert (status, headers["Content-Type"], len(image) > 0) == (200, expected["mime_type"], True)


def test_seeded_content_reaches_the_api_unfiltered(sites: dict[str, WordPressSite], truth: dict[str, Any]) -> None:
    site = sites["pretty"]
    script_post = post_with_feature(truth, "script")
    _, post, _ = get(api_url(site, f"wp/v2/posts/{script_post['id']}"))
    assert "<script>" in post["content"]["rendered"]
    arabic_post = post_with_feature(truth, "arabic")
    _, post, _ = get(api_url(site, f"wp/v2/posts/{arabic_post['id']}"))
    assert 'dir="rtl"' in post["content"]["rendered"]
    assert arabic_post["link"] == f"{sites['plain'].url}/?p={arabic_post['id']}"
    assert post["link"].startswith(site.url + "/20")


def test_requests_log_no_php_warnings(sites: dict[str, WordPressSite], truth: dict[str, Any]) -> None:
    video_post = post_with_feature(truth, "video")
    for site in sites.values():
        assert get(site.url + "/")[0] == 200
        assert get(api_url(site, f"wp/v2/posts/{video_post['id']}", _embed=1))[0] == 200
        assert not site.error_log.exists(), site.error_log.read_text()


def test_php_runs_code_inside_wordpress(sites: dict[str, WordPressSite]) -> None:
    site = sites["plain"]
    post_id = int(site.php("echo wp_insert_post(['post_title' => $args['title'], 'post_status' => 'publish']);",
                           title="Added mid-crawl"))
    try:
        assert get(api_url(site, f"wp/v2/posts/{post_id}"))[1]["title"]["rendered"] == "Added mid-crawl"
    finally:
        site.php("wp_delete_post($args['id'], true);", id=post_id)
    assert get(api_url(site, f"wp/v2/posts/{post_id}"))[0] == 404


@pytest.fixture(scope="module")
def library_site(wordpress_sites: dict[str, WordPressSite], tmp_path_factory: pytest.TempPathFactory
                 ) -> Iterator[WordPressSite]:
    """A small site with a media library (``--media``, the benchmark's news-site shape)."""
    with extra_site(wordpress_sites["pretty"].database, tmp_path_factory.mktemp("library") / "site-library",
                    40, media=50) as (site, counts):
        assert counts["attachments"] == 30 + 50
        yield site


def test_a_media_library_gives_each_featured_post_an_image_of_its_own(library_site: WordPressSite) -> None:
    posts = [post for post in library_site.truth()["posts"] if post["featured_media"]]
    featured = [post["featured_media"]["id"] for post in posts]
    assert len(posts) > 15 and len(set(featured)) == len(featured)
    status, media, _ = get(api_url(library_site, "wp/v2/media", include=",".join(map(str, featured)),
                                   per_page=100))
    assert status == 200
    assert {item["id"] for item in media} == set(featured)
    by_id = {item["id"]: item for item in media}
    for post in posts:
        image = by_id[post["featured_media"]["id"]]
        assert (image["post"], image["source_url"]) == (post["id"], post["featured_media"]["url"])
        assert image["media_details"]["width"] == post["featured_media"]["width"] > 0
