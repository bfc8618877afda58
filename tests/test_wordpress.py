from __future__ import annotations

import pytest

from viewworld.wordpress import (
    ApiRoot,
    api_root_from_html,
    api_root_from_link_headers,
    error_from_answer,
    is_api_index,
    loads,
    pagination,
    parse_api_href,
    post_links,
    post_revisions,
)

PLAIN = ApiRoot.from_url("https://www.viewworld.org/index.php?rest_route=/")
PRETTY = ApiRoot.from_url("https://example.org/wp-json/")


def test_plain_permalink_urls_carry_the_route_in_rest_route_and_join_parameters_with_ampersand():
    url = PLAIN.endpoint("/wp/v2/posts", {"per_page": 100, "page": 2})
    assert url == "https://www.viewworld.org/index.php?rest_route=/wp/v2/posts&per_page=100&page=2"


def test_pretty_permalink_urls_put_the_route_in_the_path():
    assert PRETTY.endpoint("wp/v2/media", {"include": "1,2,3"}) == (
        "https://example.org/wp-json/wp/v2/media?include=1,2,3")


def test_root_url_is_the_api_index_in_both_forms():
    assert PLAIN.url == "https://www.viewworld.org/index.php?rest_route=/"
    assert PRETTY.url == "https://example.org/wp-json/"


def test_date_offsets_are_percent_encoded_so_wordpress_does_not_read_a_space():
    url = PRETTY.endpoint("/wp/v2/posts", {"after": "2024-01-01T00:00:00+02:00"})
    assert url.endswith("after=2024-01-01T00:00:00%2B02:00")


def test_none_parameters_are_left_out():
    assert PRETTY.endpoint("/wp/v2/posts", {"after": None}) == "https://example.org/wp-json/wp/v2/posts"


def test_rest_route_at_the_site_root_is_a_plain_root():
    root = ApiRoot.from_url("http://127.0.0.1:8080/?rest_route=/")
    assert root.plain
    assert root.endpoint("/wp/v2/posts") == "http://127.0.0.1:8080/?rest_route=/wp/v2/posts"


@pytest.mark.parametrize("href, route, params", [
    ("https://www.viewworld.org/index.php?rest_route=/wp/v2/media/1137", "/wp/v2/media/1137", {}),
    ("https://www.viewworld.org/index.php?rest_route=%2Fwp%2Fv2%2Fcategories&post=1136", "/wp/v2/categories",
     {"post": "1136"}),
    ("https://example.org/wp-json/wp/v2/tags?post=5", "/wp/v2/tags", {"post": "5"}),
    ("https://example.org/blog/wp-json/wp/v2/users/3", "/wp/v2/users/3", {}),
])
def test_api_hrefs_are_taken_apart_in_both_forms(href, route, params):
    parsed = parse_api_href(href)
    assert parsed is not None
    assert (parsed.route, parsed.params) == (route, params)


def test_an_href_rebuilt_from_its_parts_reaches_the_same_resource():
    parsed = parse_api_href("https://www.viewworld.org/index.php?rest_route=%2Fwp%2Fv2%2Ftags&post=1136")
    assert parsed is not None
    assert parsed.root == PLAIN
    assert parsed.root.endpoint(parsed.route, parsed.params) == (
        "https://www.viewworld.org/index.php?rest_route=/wp/v2/tags&post=1136")


@pytest.mark.parametrize("href", ["file:///etc/passwd", "data:text/plain,hi", "https://example.org/about/", ""])
def test_non_api_hrefs_are_not_api_hrefs(href):
    assert parse_api_href(href) is None


def test_seed_post_links_name_its_media_terms_and_author(seed_post):
    links = {link.field: link for link in post_links(seed_post)}
    assert set(links) == {"featured_media", "author", "categories", "tags"}
    assert links["featured_media"].collection == (PLAIN, "/wp/v2/media")
    assert links["featured_media"].ids == (1137,)
    assert links["author"].collection == (PLAIN, "/wp/v2/users")
    assert links["author"].ids == (1,)
    assert links["categories"].collection == (PLAIN, "/wp/v2/categories")
    assert links["categories"].ids == (8,)
    assert links["tags"].ids == ()


def test_seed_post_revisions_are_counted_from_links(seed_post):
    revisions = post_revisions(seed_post)
    assert (revisions.count, revisions.latest_id) == (1, 1138)


def test_a_deleted_featured_image_whose_link_points_at_the_api_root_has_no_collection(seed_post):
    seed_post["_links"]["wp:featuredmedia"][0]["href"] = "https://www.viewworld.org/index.php?rest_route=/"
    media = next(link for link in post_links(seed_post) if link.field == "featured_media")
    assert media.collection is None
    assert media.ids == (1137,)


def test_other_taxonomies_take_their_ids_from_the_field_named_by_rest_base(seed_post):
    seed_post["_links"]["wp:term"].append(
        {"taxonomy": "region", "embeddable": True,
         "href": "https://www.viewworld.org/index.php?rest_route=%2Fwp%2Fv2%2Fregion&post=1136"})
    seed_post["region"] = [4, 4, 9]
    region = next(link for link in post_links(seed_post) if link.field == "terms.region")
    assert region.ids == (4, 9)
    assert region.collection == (PLAIN, "/wp/v2/region")


def test_posts_without_links_link_to_nothing(seed_post):
    del seed_post["_links"]
    assert post_links(seed_post) == []


def test_the_link_header_names_the_api_root():
    header = '<http://127.0.0.1:8080/index.php?rest_route=/>; rel="https://api.w.org/"'
    assert api_root_from_link_headers([header], "http://127.0.0.1:8080/") == (
        "http://127.0.0.1:8080/index.php?rest_route=/")


def test_the_html_link_tag_names_the_api_root():
    html = '<head><link rel="https://api.w.org/" href="https://e.org/wp-json/" /></head>'
    assert api_root_from_html(html, "https://e.org/") == "https://e.org/wp-json/"


def test_a_root_is_only_a_root_when_it_lists_the_wp_v2_namespace():
    assert is_api_index({"namespaces": ["oembed/1.0", "wp/v2"]})
    assert not is_api_index({"namespaces": ["oembed/1.0"]})
    assert not is_api_index("<html>home page</html>")


def test_pagination_headers_are_read_and_missing_ones_are_none():
    headers = {"X-WP-Total": "250", "X-WP-TotalPages": "3",
               "Link": '<https://e.org/wp-json/wp/v2/posts?page=3>; rel="next"'}
    pages = pagination(headers, "https://e.org/wp-json/wp/v2/posts?page=2")
    assert (pages.total, pages.total_pages, pages.next_url) == (250, 3, "https://e.org/wp-json/wp/v2/posts?page=3")
    assert pagination({}, "https://e.org/").total is None


def test_json_after_a_byte_order_mark_or_before_an_html_comment_is_read():
    assert loads(b'\xef\xbb\xbf[1]') == [1]
    assert loads(b'[1]\n<!-- Page cached by LiteSpeed -->') == [1]
    with pytest.raises(ValueError):
        loads(b"<html>Just a moment...</html>")


def test_wordpress_errors_are_named_by_their_code():
    error = error_from_answer(401, b'{"code":"rest_cannot_read","message":"Sorry.","data":{"status":401}}')
    assert str(error) == "401 rest_cannot_read: Sorry."


def test_html_instead_of_json_is_diagnosed_by_name():
    assert error_from_answer(403, b"<html><title>Just a moment...</title>cf-chl</html>").code == (
        "cloudflare_challenge")
    assert error_from_answer(200, b"<!DOCTYPE html><html>", "text/html").code == "html_instead_of_json"
