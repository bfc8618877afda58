from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from viewworld.assembly import PostAssembler, build_post
from viewworld.sites import Site
from viewworld.wordpress import post_links

SITE_URL = "https://www.viewworld.org"
API = "https://www.viewworld.org/index.php?rest_route="


@pytest.fixture
def site() -> Site:
    return Site(SITE_URL)


def add(assembler: PostAssembler, site: Site, raw: dict[str, Any], revisions_url: str | None = None) -> None:
    assembler.add(site, build_post(site, raw, "2026-11-29T00:00:00Z"), post_links(raw), revisions_url)


def variant(seed_post: dict[str, Any], post_id: int, media_id: int, categories: list[int]) -> dict[str, Any]:
    raw = copy.deepcopy(seed_post)
    raw.update(id=post_id, featured_media=media_id, categories=categories)
    raw["_links"]["wp:featuredmedia"][0]["href"] = f"{API}/wp/v2/media/{media_id}"
    return raw


MEDIA = {"id": 1137, "source_url": "https://www.viewworld.org/wp-content/uploads/2022/01/ukraine.jpg",
         "alt_text": "Troops", "caption": {"rendered": "<p>Border &amp; troops</p>\n"}, "mime_type": "image/jpeg",
         "media_details": {"width": 1024, "height": 683}}
USER = {"id": 1, "name": "Editor &amp; Co", "slug": "editor"}
CATEGORY = {"id": 8, "name": "Politics", "slug": "politics", "parent": 0}


def answer(assembler: PostAssembler, resources: dict[str, list[dict[str, Any]]], flush: bool = True,
           site: Site | None = None) -> None:
    for batch in assembler.batches(flush=flush):
        assert site is None or batch.site == site.origin, batch
        route = next(route for route in resources if f"rest_route=/wp/v2/{route}&" in batch.url)
        assembler.resolve(batch, resources[route])


def test_seed_post_waits_for_its_media_author_and_category_then_is_filled(site, seed_post):
    assembler = PostAssembler()
    add(assembler, site, seed_post)
    assert assembler.ready() == []
    assert assembler.batches() == []  # partial batches wait to fill up
    batches = assembler.batches(flush=True)
    assert sorted(batch.url for batch in batches) == [
        f"{API}/wp/v2/categories&include=8&per_page=100&_fields=id,name,slug,parent",
        f"{API}/wp/v2/media&include=1137&per_page=100&_fields=id,source_url,alt_text,caption,mime_type,media_details",
        f"{API}/wp/v2/users&include=1&per_page=100&_fields=id,name,slug",
    ]
    for batch in batches:
        resource = {"media": MEDIA, "users": USER, "categories": CATEGORY}[batch.collection[1].rsplit("/", 1)[1]]
        assembler.resolve(batch, [resource])
    [post] = assembler.ready()
    assert post.featured_media == {"id": 1137, "url": MEDIA["source_url"], "alt": "Troops",
                                   "caption": "Border & troops", "mime_type": "image/jpeg", "width": 1024,
                                   "height": 683}
    assert post.author == {"id": 1, "name": "Editor & Co", "slug": "editor"}
    assert post.categories == [{"id": 8, "name": "Politics", "slug": "politics", "parent": 0}]
    assert post.tags == []
    assert post.revisions == {"count": 1, "latest_id": 1138, "items": None}
    assert post.errors == []
    assert assembler.waiting_posts == 0


def test_a_full_batch_of_100_ids_goes_without_waiting_and_fills_across_posts_pages(site, seed_post):
    assembler = PostAssembler()
    for post_id in range(1, 151):
        add(assembler, site, variant(seed_post, post_id, 5000 + post_id, [8]))
    [batch] = assembler.batches()
    assert batch.ids == tuple(range(5001, 5101))
    assert [len(b.ids) for b in assembler.batches(flush=True)] == [50, 1, 1]  # media rest, users, categories


def test_each_distinct_resource_is_asked_for_once_per_crawl(site, seed_post):
    assembler = PostAssembler()
    add(assembler, site, variant(seed_post, 1, 11, [8]))
    add(assembler, site, variant(seed_post, 2, 12, [8]))
    answer(assembler, {"media": [{**MEDIA, "id": 11}, {**MEDIA, "id": 12}], "users": [USER],
                       "categories": [CATEGORY]})
    assert len(assembler.ready()) == 2
    add(assembler, site, variant(seed_post, 3, 11, [8]))
    assert assembler.batches(flush=True) == []
    [post] = assembler.ready()
    assert post.categories[0]["slug"] == "politics"


def test_an_id_wordpress_does_not_return_leaves_the_field_empty_with_an_error(site, seed_post):
    assembler = PostAssembler()
    add(assembler, site, seed_post)
    answer(assembler, {"media": [], "users": [USER], "categories": [CATEGORY]})
    [post] = assembler.ready()
    assert post.featured_media is None
    assert post.errors == [{"field": "featured_media", "url": f"{API}/wp/v2/media/1137",
                            "reason": "featured_media 1137: not returned by WordPress (deleted or not public)"}]


def test_dangling_featured_media_gives_null_and_an_error(site, seed_post):
    seed_post["_links"]["wp:featuredmedia"][0]["href"] = f"{API}/"
    assembler = PostAssembler()
    add(assembler, site, seed_post)
    batches = assembler.batches(flush=True)
    assert {batch.collection[1] for batch in batches} == {"/wp/v2/users", "/wp/v2/categories"}
    for batch in batches:
        assembler.resolve(batch, [USER if "users" in batch.url else CATEGORY])
    [post] = assembler.ready()
    assert post.featured_media is None
    assert [error["field"] for error in post.errors] == ["featured_media"]
    assert "API root" in post.errors[0]["reason"]


def answer_with_users_closed(assembler: PostAssembler) -> None:
    for batch in assembler.batches(flush=True):
        if "users" in batch.url:
            assembler.fail(batch, "401 rest_user_cannot_view", whole_collection=True)
        else:
            assembler.resolve(batch, [MEDIA if "media" in batch.url else CATEGORY])


def test_a_closed_users_endpoint_leaves_the_author_name_null_and_is_not_asked_again(site, seed_post):
    assembler = PostAssembler()
    add(assembler, site, seed_post)
    answer_with_users_closed(assembler)
    [post] = assembler.ready()
    assert post.author == {"id": 1, "name": None, "slug": None}
    assert post.errors[0]["reason"] == "author 1: 401 rest_user_cannot_view"
    seed_post["author"] = 2
    seed_post["_links"]["author"][0]["href"] = f"{API}/wp/v2/users/2"
    add(assembler, site, seed_post)
    assert not any("users" in batch.url for batch in assembler.batches(flush=True))
    [post] = assembler.ready()
    assert post.author == {"id": 2, "name": None, "slug": None}


def test_a_closed_users_endpoint_falls_back_on_the_author_name_yoast_gives(site, seed_post):
    seed_post["yoast_head_json"] = {"author": "Jane &amp; John Doe"}
    assembler = PostAssembler()
    add(assembler, site, seed_post)
    answer_with_users_closed(assembler)
    [post] = assembler.ready()
    assert post.author == {"id": 1, "name": "Jane & John Doe", "slug": None}


def test_links_to_another_host_are_not_followed(site, seed_post):
    seed_post["_links"]["wp:featuredmedia"][0]["href"] = "http://169.254.169.254/index.php?rest_route=/wp/v2/media/1137"
    assembler = PostAssembler()
    add(assembler, site, seed_post)
    batches = assembler.batches(flush=True)
    assert all(batch.url.startswith(SITE_URL) for batch in batches)
    for batch in batches:
        assembler.resolve(batch, [USER if "users" in batch.url else CATEGORY])
    [post] = assembler.ready()
    assert post.featured_media is None
    assert post.errors[0]["reason"] == "the link points outside the site; not followed"


def test_revisions_are_fetched_per_post_and_kept_as_items(site, seed_post):
    assembler = PostAssembler()
    revisions_url = f"{API}/wp/v2/posts/1136/revisions&per_page=100"
    add(assembler, site, seed_post, revisions_url)
    batches = assembler.batches(flush=True)
    revisions = next(batch for batch in batches if batch.post_id == 1136)
    assert revisions.url == revisions_url
    assembler.resolve(revisions, [{"id": 1138, "date_gmt": "2022-01-03T16:26:05", "modified_gmt": "2022-01-03T16:26:05",
                                   "author": 1, "title": {"rendered": "US &amp; Russia"},
                                   "content": {"rendered": "<p>Text</p>"}}])
    for batch in batches:
        if batch is not revisions:
            resource = {"media": MEDIA, "users": USER, "categories": CATEGORY}[batch.collection[1].rsplit("/", 1)[1]]
            assembler.resolve(batch, [resource])
    [post] = assembler.ready()
    assert post.revisions["items"] == [{"id": 1138, "date_gmt": "2022-01-03T16:26:05Z",
                                        "modified_gmt": "2022-01-03T16:26:05Z", "author": 1,
                                        "title": "US &amp; Russia", "content_text": "<p>Text</p>"}]


def test_posts_of_two_sites_with_the_same_id_each_wait_for_their_own_revisions(site, seed_post):
    del seed_post["_links"]
    other = Site("https://www.other-news.org")
    assembler = PostAssembler()
    add(assembler, site, seed_post, f"{API}/wp/v2/posts/1136/revisions&per_page=100")
    add(assembler, other, seed_post, "https://www.other-news.org/wp-json/wp/v2/posts/1136/revisions?per_page=100")
    ours, theirs = sorted(assembler.batches(flush=True), key=lambda batch: batch.site != site.origin)
    assembler.resolve(theirs, [{"id": 7, "title": {"rendered": "Theirs"}}])
    [post] = assembler.ready()
    assert post.site == "www.other-news.org" and post.revisions["items"][0]["title"] == "Theirs"
    assembler.resolve(ours, [{"id": 1138, "title": {"rendered": "Ours"}}])
    [post] = assembler.ready()
    assert post.site == "www.viewworld.org" and post.revisions["items"][0]["title"] == "Ours"
    assert assembler.waiting_posts == 0


def test_too_many_waiting_posts_send_the_partial_batches_early(site, seed_post):
    assembler = PostAssembler(max_waiting_posts=3)
    for post_id in range(1, 3):
        add(assembler, site, variant(seed_post, post_id, 100 + post_id, [8]))
    assert assembler.batches() == []
    add(assembler, site, variant(seed_post, 3, 103, [8]))
    assert {batch.collection[1] for batch in assembler.batches()} == {
        "/wp/v2/media", "/wp/v2/users", "/wp/v2/categories"}


def test_a_site_with_no_pages_left_sends_its_partial_batches(site, seed_post):
    assembler = PostAssembler()
    add(assembler, site, seed_post)
    other = Site("https://other.example")
    assert assembler.batches(flush_site=other) == []
    assert len(assembler.batches(flush_site=site)) == 3


def test_a_post_without_linked_resources_is_ready_at_once(site, seed_post):
    del seed_post["_links"]
    assembler = PostAssembler()
    add(assembler, site, seed_post)
    [post] = assembler.ready()
    assert post.id == 1136 and post.site == "www.viewworld.org"
    assert post.date_gmt == "2022-01-03T16:25:57Z" and post.modified_gmt == "2022-01-03T16:26:05Z"


def test_only_the_newest_images_are_kept_so_memory_stays_flat(site, seed_post, monkeypatch):
    monkeypatch.setattr("viewworld.assembly.MEDIA_KEPT", 2)
    assembler = PostAssembler(batch_size=1)
    for post_id in (1, 2, 3):
        add(assembler, site, variant(seed_post, post_id, 100 + post_id, [8]))
    for batch in assembler.batches(flush=True):
        resource = {"media": {**MEDIA, "id": batch.ids[0]}, "users": USER, "categories": CATEGORY}
        assembler.resolve(batch, [resource[batch.collection[1].rsplit("/", 1)[1]]])
    assert [post.featured_media["id"] for post in assembler.ready()] == [101, 102, 103]
    add(assembler, site, variant(seed_post, 4, 104, [8]))
    [batch] = assembler.batches(flush=True)
    assembler.resolve(batch, [{**MEDIA, "id": 104}])  # the oldest, 101, is forgotten now
    add(assembler, site, variant(seed_post, 5, 101, [8]))  # and asked again
    [batch] = assembler.batches(flush=True)
    assert batch.ids == (101,)


def test_a_post_whose_links_point_at_another_site_of_the_run_leaves_that_sites_images_kept(site, seed_post,
                                                                                             monkeypatch):
    """A post of one site whose links name another site of the same run (outside its own) pinned nothing, and
    must release nothing: it released the other site's pins, whose images could then be forgotten while that
    site's posts still waited for them."""
    monkeypatch.setattr("viewworld.assembly.MEDIA_KEPT", 0)  # every image not pinned is forgotten at once
    other = Site("https://www.other-news.org")
    assembler = PostAssembler()
    add(assembler, site, variant(seed_post, 1, 1137, [8]))
    add(assembler, other, variant(seed_post, 2, 1137, [8]))  # its links are viewworld's: not followed
    [elsewhere] = assembler.ready()
    assert elsewhere.featured_media is None and elsewhere.errors
    batches = sorted(assembler.batches(flush=True), key=lambda batch: "media" not in batch.url)
    for batch in batches:  # the image first: the post then waits for its author and category
        resource = {"media": MEDIA, "users": USER, "categories": CATEGORY}[batch.collection[1].rsplit("/", 1)[1]]
        assembler.resolve(batch, [resource])
    [post] = assembler.ready()
    assert post.featured_media is not None and post.featured_media["id"] == 1137
    assert post.errors == []


def test_a_collection_another_site_still_links_to_becomes_that_sites_when_the_first_ends(site, seed_post):
    """Two sites of a run under one host follow each other's links: when the one whose posts first asked for a
    collection ends (and is forgotten), the other's posts still get their batches, as its requests."""
    blog = Site(SITE_URL + "/blog")
    assembler = PostAssembler()
    add(assembler, site, variant(seed_post, 1, 101, [8]))
    answer(assembler, {"media": [{**MEDIA, "id": 101}], "users": [USER], "categories": [CATEGORY]})
    assert [post.id for post in assembler.ready()] == [1]
    add(assembler, blog, variant(seed_post, 2, 102, [8, 9]))  # the same collections: viewworld's API root
    assembler.forget(site)
    answer(assembler, {"media": [{**MEDIA, "id": 102}], "categories": [{**CATEGORY, "id": 9}]}, site=blog)
    [post] = assembler.ready()
    assert (post.site, post.featured_media["id"], [term["id"] for term in post.categories]) == (
        "www.viewworld.org~blog", 102, [8, 9])
    assembler.forget(blog)
    again = Site(SITE_URL)  # the next crawl of the first site, in the same process (a cluster worker's)
    add(assembler, again, variant(seed_post, 4, 101, [8]))
    assert {(batch.site, batch.collection[1], batch.ids) for batch in assembler.batches(flush=True)} == {
        (again.origin, "/wp/v2/media", (101,)), (again.origin, "/wp/v2/users", (1,)),
        (again.origin, "/wp/v2/categories", (8,))}, "nothing is kept of the sites that ended"


def test_a_site_abandoned_with_batches_never_answered_leaves_what_another_sites_posts_wait_for_to_be_asked_again(
        site, seed_post):
    """A site stuck for good (its batches dropped without an answer) drops its waiting posts; another site of the
    run under the same host, whose posts wait for ids of those batches, asks for them again as its own."""
    blog = Site(SITE_URL + "/blog")
    assembler = PostAssembler()
    add(assembler, site, variant(seed_post, 1, 101, [8]))
    add(assembler, site, variant(seed_post, 3, 103, [8]), revisions_url=f"{API}/wp/v2/posts/3/revisions")
    dropped = assembler.batches(flush=True)  # asked for as the first site's, never answered
    assert {batch.site for batch in dropped} == {site.origin}
    add(assembler, blog, variant(seed_post, 2, 101, [8, 9]))  # image 101 and category 8: already asked for
    assert assembler.abandon(site) == 2
    assert assembler.waiting_by_site[site.origin] == 0 and assembler.waiting_by_site[blog.origin] == 1
    assembler.forget(site)
    batches = assembler.batches(flush=True)
    assert {(batch.collection[1], batch.ids) for batch in batches} == {
        ("/wp/v2/media", (101,)), ("/wp/v2/users", (1,)), ("/wp/v2/categories", (9, 8))}
    answers = {"media": [{**MEDIA, "id": 101}], "users": [USER], "categories": [CATEGORY, {**CATEGORY, "id": 9}]}
    for batch in batches:
        assembler.resolve(batch, answers[batch.collection[1].rsplit("/", 1)[1]])
    [post] = assembler.ready()
    assert (post.id, post.featured_media["id"], post.errors) == (2, 101, [])


def test_two_sites_abandoned_one_after_the_other_leave_nothing_to_ask_for(site, seed_post):
    """Both stuck: the second's posts waited for ids of the first's dropped batches, queued again for them by the
    first abandon; once the second is abandoned too, no one waits for them and nothing is asked."""
    blog = Site(SITE_URL + "/blog")
    assembler = PostAssembler()
    add(assembler, site, variant(seed_post, 1, 101, [8]))
    assembler.batches(flush=True)  # dropped, never answered
    add(assembler, blog, variant(seed_post, 2, 101, [8, 9]))
    for stuck in (site, blog):
        assembler.abandon(stuck)
        assembler.forget(stuck)
    assert assembler.batches(flush=True) == [] and assembler.waiting_posts == 0


def test_the_locale_wordpress_states_is_passed_on_for_the_language(site, seed_post):
    del seed_post["_links"]
    seed_post["yoast_head_json"] = {"og_locale": "pt_BR"}
    assembler = PostAssembler()
    add(assembler, site, seed_post)
    [post] = assembler.ready()
    assert post.language == "pt_BR"


def test_a_date_that_is_not_a_date_is_null_with_an_error(site, seed_post):
    del seed_post["_links"]
    seed_post["date_gmt"] = "yesterday"
    seed_post["modified_gmt"] = "2024-01-01T02:00:00+02:00"
    assembler = PostAssembler()
    add(assembler, site, seed_post)
    [post] = assembler.ready()
    assert (post.date_gmt, post.modified_gmt) == (None, "2024-01-01T00:00:00Z")
    assert [error["field"] for error in post.errors] == ["date_gmt"]


def test_resources_an_earlier_run_kept_under_an_http_root_fill_posts_linked_with_http(site, seed_post):
    """A WordPress behind a TLS proxy writes its links with http; a site crawled over https asks for them over
    https, and what an earlier run kept under the http root (a state from before) fills its posts all the same."""
    http_api = API.replace("https://", "http://")
    raw = json.loads(json.dumps(seed_post).replace("https://www.viewworld.org", "http://www.viewworld.org"))
    assembler = PostAssembler()
    assembler.preload(site, {
        f"{http_api}/wp/v2/users": {"field": "author", "resources": {"1": {"id": 1, "name": "Kept", "slug": "kept"}}},
        f"{http_api}/wp/v2/categories": {"field": "categories", "resources": {"8": CATEGORY}},
    })
    assembler.add(site, build_post(site, raw, "2026-11-29T00:00:00Z"), site.over_https_links(post_links(raw)))
    [batch] = assembler.batches(flush=True)
    assert batch.url.startswith(f"{API}/wp/v2/media&include=1137&")
    assembler.resolve(batch, [MEDIA])
    [post] = assembler.ready()
    assert (post.author["name"], post.categories, post.errors) == ("Kept", [CATEGORY], [])
