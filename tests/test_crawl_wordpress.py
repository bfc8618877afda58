"""The real ``scrapy crawl wpposts`` against a real WordPress, compared with what its database holds."""

from __future__ import annotations

import html
import json
import re
from typing import TYPE_CHECKING, Any

import lxml.html
import pytest
from scrapy.exceptions import DropItem

from tests.crawling import Crawl, assert_valid_records, crawl, records_of

if TYPE_CHECKING:
    from tests.wordpress.site import WordPressSite

pytestmark = pytest.mark.wordpress
MODES = ["plain", "pretty"]


@pytest.fixture(scope="module", params=MODES)
def crawled(request: pytest.FixtureRequest, wordpress_sites: dict[str, WordPressSite],
            tmp_path_factory: pytest.TempPathFactory) -> tuple[WordPressSite, Crawl, dict[str, Any]]:
    site = wordpress_sites[request.param]
    result = crawl(tmp_path_factory.mktemp(f"crawl-{request.param}"), f"site={site.url}")
    print(f"\n{request.param} permalinks: {len(result.items())} posts, {result.requests} requests, "
          f"{result.stat('elapsed_time_seconds'):.2f} s")
    return site, result, site.truth()


def by_id(items: list[dict[str, Any]]) -> dict[int, dict[str, Any]]:
    return {item["id"]: item for item in items}


def text(value: str) -> str:
    """What WordPress's rendered text reads as, as a browser parses it: tags gone, entities decoded."""
    if not value.strip():
        return ""
    return re.sub(r"\s+", " ", lxml.html.fragment_fromstring(value, create_parent="div").text_content()).strip()


def test_the_crawl_exits_0_and_writes_one_file_of_valid_records(crawled):
    _, result, _ = crawled
    assert result.exit_code == 0, result.stderr[-2000:] + result.log[-3000:]
    assert len(result.files()) == 1
    assert not list(result.output_dir.glob("*/*.part"))
    assert_valid_records(result.items())
    assert result.stat("item_scraped_count") == len(result.items())  # counted by JsonLinesPipeline


def test_every_published_post_is_written_exactly_once_and_no_hidden_post(crawled):
    _, result, truth = crawled
    ids = [item["id"] for item in result.items()]
    assert len(ids) == len(set(ids))
    assert set(ids) == {post["id"] for post in truth["posts"]}
    assert not set(ids) & set(truth["hidden_ids"])


def test_post_fields_equal_the_database(crawled):
    site, result, truth = crawled
    items = by_id(result.items())
    for expected in truth["posts"]:
        item = items[expected["id"]]
        assert item["site"] == f"127.0.0.1_{site.port}"
        assert (item["slug"], item["url"], item["status"], item["type"], item["format"]) == (
            expected["slug"], expected["link"], expected["status"], expected["type"], expected["format"])
        assert (item["sticky"], item["protected"]) == (expected["sticky"], expected["protected"])
        assert item["title"] == text(expected["title"])
        assert (item["date"], item["modified"]) == (expected["date"], expected["modified"])
        assert (item["date_gmt"], item["modified_gmt"]) == (expected["date_gmt"] + "Z", expected["modified_gmt"] + "Z")


def test_linked_fields_equal_the_database(crawled):
    _, result, truth = crawled
    items = by_id(result.items())
    for expected in truth["posts"]:
        item = items[expected["id"]]
        assert item["author"] == expected["author"], expected["id"]
        assert item["categories"] == [{**term, "name": html.unescape(term["name"])}
                                      for term in expected["categories"]]
        assert item["tags"] == [{**term, "name": html.unescape(term["name"])} for term in expected["tags"]]
        for taxonomy, terms in expected["terms"].items():
            assert item["terms"].get(taxonomy, []) == [{**term, "name": html.unescape(term["name"])}
                                                        for term in terms]
        media = expected["featured_media"]
        if media is None:
            assert item["featured_media"] is None
        else:
            assert item["featured_media"] == {**media, "alt": media["alt"] or None, "caption": media["caption"] or None}
        assert item["revisions"] == {**expected["revisions"], "items": None}


def test_a_deleted_featured_image_leaves_null_and_names_the_dangling_link(crawled):
    _, result, truth = crawled
    items = by_id(result.items())
    dangling = [post for post in truth["posts"] if "dangling_featured_media" in post["features"]]
    assert dangling
    for expected in dangling:
        item = items[expected["id"]]
        assert expected["featured_media_id"] and item["featured_media"] is None
        assert [error["field"] for error in item["errors"]] == ["featured_media"]
    assert sum(bool(item["errors"]) for item in items.values()) == len(dangling)


def test_protected_posts_are_listed_without_their_content(crawled):
    _, result, truth = crawled
    items = by_id(result.items())
    protected = [post["id"] for post in truth["posts"] if post["protected"]]
    assert protected
    for post_id in protected:
        assert items[post_id]["protected"] is True
        assert items[post_id]["content_text"] == ""


def test_scripts_in_content_do_not_reach_the_output_and_non_latin_text_does(crawled):
    _, result, truth = crawled
    items = by_id(result.items())
    features = {post["id"]: post["features"] for post in truth["posts"]}
    scripted = [post_id for post_id, names in features.items() if "script" in names]
    assert scripted
    for post_id in scripted:
        assert "<script" not in items[post_id]["content_html"]
        assert "function" not in items[post_id]["content_text"]
    for post in truth["posts"]:
        if {"arabic", "chinese", "cyrillic", "emoji"} & set(post["features"]):
            assert items[post["id"]]["title"] == text(post["title"])
            assert items[post["id"]]["word_count"] > 0


def test_requests_stay_near_the_floor(crawled):
    """Posts pages plus one include= batch per 100 distinct resources, plus discovery and robots.txt."""
    _, result, truth = crawled
    posts = truth["posts"]
    distinct = [
        {post["featured_media_id"] for post in posts if post["featured_media"]},
        {post["author"]["id"] for post in posts},
        {term["id"] for post in posts for term in post["categories"]},
        {term["id"] for post in posts for term in post["tags"]},
        *({term["id"] for post in posts for term in post["terms"].get(taxonomy, [])}
          for taxonomy in truth["taxonomies"] if taxonomy not in ("category", "post_tag")),
    ]
    floor = -(-len(posts) // 100) + sum(-(-len(ids) // 100) for ids in distinct if ids)
    assert result.requests <= floor * 1.1 + 3 + 2, (result.requests, floor)


def test_revisions_are_fetched_with_an_application_password(wordpress_sites, tmp_path):
    site = wordpress_sites["plain"]
    truth = {post["id"]: post for post in site.truth()["posts"]}
    result = crawl(tmp_path, f"site={site.url}", env={"WP_USERNAME": site.username,
                                                     "WP_APP_PASSWORD": site.app_password})
    assert result.exit_code == 0, result.log[-3000:]
    items = result.items()
    assert_valid_records(items)
    revised = [item for item in items if truth[item["id"]]["revisions"]["count"]]
    assert revised
    for item in revised:
        expected = truth[item["id"]]["revisions"]
        assert len(item["revisions"]["items"]) == expected["count"]
        assert max(revision["id"] for revision in item["revisions"]["items"]) == expected["latest_id"]
    assert site.app_password not in result.log and site.app_password not in result.stderr


def test_a_wrong_application_password_is_said_in_one_line_and_the_crawl_goes_on(wordpress_sites, tmp_path):
    site = wordpress_sites["plain"]
    result = crawl(tmp_path, f"site={site.url}", "max_posts=5",
                   env={"WP_USERNAME": site.username, "WP_APP_PASSWORD": "wrong password here"})
    assert result.exit_code == 0, result.log[-3000:]
    warnings = [line for line in result.log.splitlines() if "was not accepted" in line]
    assert len(warnings) == 1 and "wrong password" not in warnings[0]
    assert all(item["revisions"]["items"] is None for item in result.items())


def test_scrapy_feed_options_keep_working_beside_our_files(wordpress_sites, tmp_path):
    site = wordpress_sites["plain"]
    feed = tmp_path / "sample.jsonl"
    result = crawl(tmp_path, f"site={site.url}", "max_posts=5", options=("-O", str(feed)))
    assert result.exit_code == 0, result.log[-3000:]
    fed = records_of([feed])
    assert sorted(item["id"] for item in fed) == sorted(item["id"] for item in result.items())
    assert len(fed) == 5
    assert_valid_records(fed)


class DropsOddIds:
    """A pipeline after ours: the records are written, but Scrapy's count is of what passed every pipeline."""

    def process_item(self, item: Any) -> Any:
        if item.id % 2:
            raise DropItem("odd")
        return item


def test_with_a_pipeline_after_ours_items_are_counted_as_scrapy_counts_them(wordpress_sites, tmp_path):
    site = wordpress_sites["plain"]
    pipelines = {"viewworld.pipelines.CleaningPipeline": 300, "viewworld.pipelines.JsonLinesPipeline": 800,
                 f"{__name__}.DropsOddIds": 900}
    result = crawl(tmp_path, f"site={site.url}", "max_posts=6", settings={"ITEM_PIPELINES": json.dumps(pipelines)})
    assert result.exit_code == 0, result.log[-3000:]
    ids = [item["id"] for item in result.items()]
    assert len(ids) == 6
    assert result.stat("item_scraped_count") == len([id_ for id_ in ids if id_ % 2 == 0])
    assert result.stat("item_dropped_count") == len([id_ for id_ in ids if id_ % 2])


def test_posts_pages_asked_for_only_the_fields_records_use_give_the_same_records(crawled, tmp_path):
    """Pages after the first posts ask with _fields (taxonomies learned from a post's _links): every
    record is the one whole pages give (20 a page, 2 at a time: pages 3 to 12 are asked for so)."""
    site, _, truth = crawled
    settings = {"CONCURRENT_REQUESTS_PER_DOMAIN": "2", "LOG_LEVEL": "DEBUG"}
    lean = crawl(tmp_path / "lean", f"site={site.url}", "per_page=20", settings=settings)
    whole = crawl(tmp_path / "whole", f"site={site.url}", "per_page=20",
                  settings=settings | {"POSTS_ONLY_NEEDED_FIELDS": "False"})
    assert lean.exit_code == whole.exit_code == 0, lean.log[-3000:]
    asked = re.findall(r"Crawled \(200\) <GET (\S+wp/v2/posts\S+)>", lean.log)
    assert len([url for url in asked if "_fields=id,date," in url and "regions" in url]) >= 8, asked
    assert not re.search(r"Crawled \(200\) <GET \S+wp/v2/posts\S+_fields=", whole.log)

    def records(result: Crawl) -> dict[int, dict[str, Any]]:
        return {item["id"]: {**item, "crawled_at": None} for item in result.items()}

    lean_records = records(lean)
    assert lean_records == records(whole)
    assert len(lean_records) == len(truth["posts"])


def test_without_revision_counts_pages_come_without_links_and_records_lack_only_the_counts(crawled, tmp_path):
    """REVISION_COUNTS off: the pages asked for with _fields leave _links out (WordPress's query per post for the
    revision count), the links are page 1's pointed at each post's ids, and the records are those of a crawl with
    them but for revisions.count and latest_id (null) of the posts on those pages (20 a page as the test above:
    WordPress renders a post's images by its place in the page; 1 at a time, so that only page 1 comes whole and
    the site's post with a deleted featured image is on a page without _links)."""
    site, _, _ = crawled
    settings = {"CONCURRENT_REQUESTS_PER_DOMAIN": "1", "LOG_LEVEL": "DEBUG"}
    counted = crawl(tmp_path / "counted", f"site={site.url}", "per_page=20", settings=settings)
    lean = crawl(tmp_path / "lean", f"site={site.url}", "per_page=20", settings=settings | {"REVISION_COUNTS": "False"})
    assert lean.exit_code == counted.exit_code == 0, lean.log[-3000:]
    asked = re.findall(r"Crawled \(200\) <GET (\S+wp/v2/posts\S+_fields=\S+)>", lean.log)
    assert len(asked) >= 8 and not [url for url in asked if "_links" in url], asked
    assert_valid_records(lean.items())

    def without_counts(item: dict[str, Any]) -> dict[str, Any]:
        """A deleted featured image (the site has one) is named as not returned, not as pointed at the API root."""
        return {**item, "crawled_at": None, "revisions": {**item["revisions"], "count": None, "latest_id": None},
                "errors": sorted(error["field"] for error in item["errors"])}

    ours, theirs = by_id(lean.items()), by_id(counted.items())
    assert {id_: without_counts(item) for id_, item in ours.items()} == \
        {id_: without_counts(item) for id_, item in theirs.items()}
    uncounted = [id_ for id_, item in ours.items() if item["revisions"]["count"] is None]
    assert len(uncounted) == len(ours) - 20, "only page 1 has counts"
    assert any(theirs[id_]["revisions"]["count"] for id_ in uncounted), "the site's edited posts have revisions"
    assert all(ours[id_]["revisions"] == theirs[id_]["revisions"] for id_ in ours if id_ not in uncounted)
    dangling = [id_ for id_, item in ours.items() if "featured_media" in [error["field"] for error in item["errors"]]]
    assert dangling and set(dangling) <= set(uncounted), "the deleted featured image is on a page without _links"
