"""WordPress 6.x REST objects (posts, media, terms, users) built field by field, in the order WordPress sends them.

The synthetic site renders its objects with these functions and demo/site was written with them, so the two
datasets cannot drift apart. URLs use the site's origin and plain permalinks (`index.php?rest_route=...`), like
viewworld.org; the server rewrites both when it serves them.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from functools import lru_cache
from typing import Any
from urllib.parse import quote

JsonObject = dict[str, Any]

CURIES = [{"name": "wp", "href": "https://api.w.org/{rel}", "templated": True}]
IMAGE_SIZES = {"medium": 300, "large": 1024, "thumbnail": 150, "medium_large": 768}


def rest_url(origin: str, route: str, **query: int | str) -> str:
    """`rest_url()` of a plain-permalink site; with query args, add_query_arg() has percent-encoded the route."""
    if not query:
        return f"{origin}/index.php?rest_route={route}"
    args = "".join(f"&{key}={value}" for key, value in query.items())
    return f"{origin}/index.php?rest_route={encoded_route(route)}{args}"


@lru_cache(maxsize=64)
def encoded_route(route: str) -> str:
    return quote(route, safe="")


def slugify(title: str) -> str:
    """sanitize_title(): ASCII words joined by dashes; other letters stay, percent-encoded in lower case."""
    text = unicodedata.normalize("NFC", title).lower()
    text = re.sub(r"&[a-z#0-9]+;|[^\w\s-]", "", text)
    text = re.sub(r"[\s_-]+", "-", text).strip("-")
    return quote(text, safe="-").lower()


def self_link(href: str) -> list[JsonObject]:
    # WordPress >= 6.5 tells clients which methods they may use; anonymous visitors may only read.
    return [{"href": href, "targetHints": {"allow": ["GET"]}}]


def post_links(
    origin: str,
    post_id: int,
    author: int,
    featured_media: int,
    revision_count: int,
    last_revision_id: int,
    featured_media_dangling: bool = False,
) -> JsonObject:
    links: JsonObject = {
        "self": self_link(rest_url(origin, f"/wp/v2/posts/{post_id}")),
        "collection": [{"href": rest_url(origin, "/wp/v2/posts")}],
        "about": [{"href": rest_url(origin, "/wp/v2/types/post")}],
        "author": [{"embeddable": True, "href": rest_url(origin, f"/wp/v2/users/{author}")}],
        "replies": [{"embeddable": True, "href": rest_url(origin, "/wp/v2/comments", post=post_id)}],
        "version-history": [
            {"count": revision_count, "href": rest_url(origin, f"/wp/v2/posts/{post_id}/revisions")}
        ],
    }
    if revision_count:
        links["predecessor-version"] = [
            {"id": last_revision_id, "href": rest_url(origin, f"/wp/v2/posts/{post_id}/revisions/{last_revision_id}")}
        ]
    if featured_media:
        # A deleted attachment leaves its id in the post, and the link falls back to the API root.
        route = "/" if featured_media_dangling else f"/wp/v2/media/{featured_media}"
        links["wp:featuredmedia"] = [{"embeddable": True, "href": rest_url(origin, route)}]
    links["wp:attachment"] = [{"href": rest_url(origin, "/wp/v2/media", parent=post_id)}]
    links["wp:term"] = [
        {"taxonomy": "category", "embeddable": True, "href": rest_url(origin, "/wp/v2/categories", post=post_id)},
        {"taxonomy": "post_tag", "embeddable": True, "href": rest_url(origin, "/wp/v2/tags", post=post_id)},
    ]
    links["curies"] = CURIES
    return links


def post_class_list(
    post_id: int, featured_media: int, protected: bool, category_slugs: list[str], tag_slugs: list[str]
) -> list[str]:
    classes = [f"post-{post_id}", "post", "type-post", "status-publish", "format-standard"]
    if protected:
        classes.append("post-password-required")
    if featured_media:
        classes.append("has-post-thumbnail")
    classes.append("hentry")
    classes += [f"category-{slug}" for slug in category_slugs]
    classes += [f"tag-{slug}" for slug in tag_slugs]
    return classes


def auto_excerpt(text: str, words: int = 55) -> str:
    """wp_trim_excerpt(): the first 55 words of the text, then ` [&hellip;]`."""
    # 55 words fit in the first few hundred characters; reading all of a long post would only cost time.
    plain = re.sub(r"<[^>]+>", " ", text[: words * 40]).split()
    more = " [&hellip;]" if len(plain) > words else ""
    return f"<p>{' '.join(plain[:words])}{more}</p>\n"


def post_object(
    origin: str,
    *,
    post_id: int,
    date: str,
    date_gmt: str,
    modified: str,
    modified_gmt: str,
    slug: str,
    title: str,
    content: str,
    author: int,
    featured_media: int,
    categories: list[int],
    tags: list[int],
    class_list: list[str],
    revision_count: int,
    last_revision_id: int,
    sticky: bool = False,
    protected: bool = False,
    featured_media_dangling: bool = False,
) -> JsonObject:
    # A password-protected post is listed, but without its text until the password is given.
    excerpt = "" if protected else auto_excerpt(content)
    return {
        "id": post_id,
        "date": date,
        "date_gmt": date_gmt,
        "guid": {"rendered": f"{origin}/?p={post_id}"},
        "modified": modified,
        "modified_gmt": modified_gmt,
        "slug": slug,
        "status": "publish",
        "type": "post",
        "link": f"{origin}/?p={post_id}",
        "title": {"rendered": title},
        "content": {"rendered": "" if protected else content, "protected": protected},
        "excerpt": {"rendered": excerpt, "protected": protected},
        "author": author,
        "featured_media": featured_media,
        "comment_status": "open",
        "ping_status": "open",
        "sticky": sticky,
        "template": "",
        "format": "standard",
        "meta": {"footnotes": ""},
        "categories": categories,
        "tags": tags,
        "class_list": class_list,
        "_links": post_links(
            origin, post_id, author, featured_media, revision_count, last_revision_id, featured_media_dangling
        ),
    }


def image_sizes(origin: str, file: str, width: int, height: int, mime_type: str) -> JsonObject:
    """The intermediate sizes WordPress generates for an upload, smallest-first as WordPress lists them."""
    stem, dot, extension = file.rpartition(".")
    sizes: JsonObject = {}
    for name, size_width in IMAGE_SIZES.items():
        if size_width >= width:
            continue
        size_height = size_width if name == "thumbnail" else round(height * size_width / width)
        size_file = f"{stem}-{size_width}x{size_height}{dot}{extension}"
        sizes[name] = {
            "file": size_file.rpartition("/")[2],
            "width": size_width,
            "height": size_height,
            "filesize": size_width * size_height // 9,
            "mime_type": mime_type,
            "source_url": f"{origin}/wp-content/uploads/{size_file}",
        }
    sizes["full"] = {
        "file": file.rpartition("/")[2],
        "width": width,
        "height": height,
        "mime_type": mime_type,
        "source_url": f"{origin}/wp-content/uploads/{file}",
    }
    return sizes


IMAGE_META = {
    "aperture": "0",
    "credit": "",
    "camera": "",
    "caption": "",
    "created_timestamp": "0",
    "copyright": "",
    "focal_length": "0",
    "iso": "0",
    "shutter_speed": "0",
    "title": "",
    "orientation": "0",
    "keywords": [],
}


def media_object(
    origin: str,
    *,
    media_id: int,
    post_id: int,
    author: int,
    date: str,
    date_gmt: str,
    file: str,
    title: str,
    alt_text: str,
    caption: str,
    width: int,
    height: int,
    mime_type: str = "image/jpeg",
) -> JsonObject:
    source_url = f"{origin}/wp-content/uploads/{file}"
    slug = slugify(title)
    caption_html = f"<p>{caption}</p>\n" if caption else ""
    return {
        "id": media_id,
        "date": date,
        "date_gmt": date_gmt,
        "guid": {"rendered": source_url},
        "modified": date,
        "modified_gmt": date_gmt,
        "slug": slug,
        "status": "inherit",
        "type": "attachment",
        "link": f"{origin}/?attachment_id={media_id}",
        "title": {"rendered": title},
        "author": author,
        "comment_status": "open",
        "ping_status": "closed",
        "template": "",
        "meta": [],
        "class_list": [f"post-{media_id}", "attachment", "type-attachment", "status-inherit", "hentry"],
        "description": {
            "rendered": f'<p class="attachment"><a href=\'{source_url}\'>{title}</a></p>\n{caption_html}'
        },
        "caption": {"rendered": caption_html},
        "alt_text": alt_text,
        "media_type": "image",
        "mime_type": mime_type,
        "media_details": {
            "width": width,
            "height": height,
            "file": file,
            "filesize": width * height // 6,
            "sizes": image_sizes(origin, file, width, height, mime_type),
            "image_meta": IMAGE_META,
        },
        "post": post_id,
        "source_url": source_url,
        "_links": {
            "self": self_link(rest_url(origin, f"/wp/v2/media/{media_id}")),
            "collection": [{"href": rest_url(origin, "/wp/v2/media")}],
            "about": [{"href": rest_url(origin, "/wp/v2/types/attachment")}],
            "author": [{"embeddable": True, "href": rest_url(origin, f"/wp/v2/users/{author}")}],
            "replies": [{"embeddable": True, "href": rest_url(origin, "/wp/v2/comments", post=media_id)}],
        },
    }


def term_object(
    origin: str, *, taxonomy: str, term_id: int, name: str, slug: str, count: int, description: str = "", parent: int = 0
) -> JsonObject:
    """A category (taxonomy `category`, has `parent`) or a tag (taxonomy `post_tag`, has none)."""
    is_category = taxonomy == "category"
    base = "categories" if is_category else "tags"
    term: JsonObject = {
        "id": term_id,
        "count": count,
        "description": description,
        "link": f"{origin}/?cat={term_id}" if is_category else f"{origin}/?tag={slug}",
        "name": name,
        "slug": slug,
        "taxonomy": taxonomy,
    }
    if is_category:
        term["parent"] = parent
    term["meta"] = []
    links: JsonObject = {
        "self": self_link(rest_url(origin, f"/wp/v2/{base}/{term_id}")),
        "collection": [{"href": rest_url(origin, f"/wp/v2/{base}")}],
        "about": [{"href": rest_url(origin, f"/wp/v2/taxonomies/{taxonomy}")}],
    }
    if parent:
        links["up"] = [{"embeddable": True, "href": rest_url(origin, f"/wp/v2/{base}/{parent}")}]
    links["wp:post_type"] = [{"href": rest_url(origin, "/wp/v2/posts", **{base: term_id})}]
    links["curies"] = CURIES
    term["_links"] = links
    return term


def user_object(origin: str, *, user_id: int, name: str, slug: str, description: str = "", url: str = "") -> JsonObject:
    avatar = "https://secure.gravatar.com/avatar/" + hashlib.md5(f"{slug}@viewworld.org".encode()).hexdigest()
    return {
        "id": user_id,
        "name": name,
        "url": url,
        "description": description,
        "link": f"{origin}/?author={user_id}",
        "slug": slug,
        "avatar_urls": {size: f"{avatar}?s={size}&d=mm&r=g" for size in ("24", "48", "96")},
        "meta": [],
        "_links": {
            "self": self_link(rest_url(origin, f"/wp/v2/users/{user_id}")),
            "collection": [{"href": rest_url(origin, "/wp/v2/users")}],
        },
    }
