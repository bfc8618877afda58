"""What WordPress's REST API means: URL forms, discovery, pagination, error codes, ``_links``.

Everything here is pure: no requests are made, only URLs built and answers read. The two permalink
forms are handled in one place, :class:`ApiRoot`::

    pretty: https://example.org/wp-json/wp/v2/posts?per_page=100
    plain:  https://example.org/index.php?rest_route=/wp/v2/posts&per_page=100
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from functools import lru_cache
from typing import TYPE_CHECKING, Any, NamedTuple
from urllib.parse import parse_qsl, quote, unquote, urlencode, urljoin, urlsplit, urlunsplit

import orjson

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

API_REL = "https://api.w.org/"
NAMESPACE = "wp/v2"
MAX_PER_PAGE = 100
# More pages than any real site has (10 million posts): a header claiming so is not believed.
MAX_PAGES = 100_000

# Query values keep these characters readable (`include=1,2,3`, `rest_route=/wp/v2/posts`); everything
# else is percent-encoded, notably "+" in date offsets, which WordPress would read as a space.
_SAFE_QUERY_CHARACTERS = "/,:"


class ApiRoot(NamedTuple):  # a tuple, as Link: a key of the assembler's dicts, hashed ~20 times a post
    """The root of a site's REST API, in whichever permalink form the site uses."""

    base: str
    """``https://host/wp-json/`` (pretty) or ``https://host/index.php`` (plain, routes in ``rest_route``)."""
    plain: bool

    @classmethod
    def from_url(cls, url: str) -> ApiRoot:
        """Reads a root URL as WordPress advertises it.

        >>> ApiRoot.from_url("https://example.org/index.php?rest_route=/")
        ApiRoot(base='https://example.org/index.php', plain=True)
        >>> ApiRoot.from_url("https://example.org/wp-json")
        ApiRoot(base='https://example.org/wp-json/', plain=False)
        """
        parts = urlsplit(url)
        if any(name == "rest_route" for name, _ in parse_qsl(parts.query, keep_blank_values=True)):
            return cls(urlunsplit((parts.scheme, parts.netloc, parts.path or "/", "", "")), plain=True)
        path = parts.path if parts.path.endswith("/") else parts.path + "/"
        return cls(urlunsplit((parts.scheme, parts.netloc, path, "", "")), plain=False)

    @property
    def url(self) -> str:
        """The root itself, the API index."""
        return self.endpoint("/")

    @property
    def netloc(self) -> str:
        return urlsplit(self.base).netloc

    def endpoint(self, route: str, params: Mapping[str, object] | None = None) -> str:
        """The URL of ``route`` with ``params``, in this root's permalink form.

        >>> ApiRoot.from_url("https://example.org/wp-json/").endpoint("/wp/v2/posts", {"page": 2})
        'https://example.org/wp-json/wp/v2/posts?page=2'
        >>> plain = ApiRoot.from_url("https://example.org/index.php?rest_route=/")
        >>> plain.endpoint("/wp/v2/posts", {"after": "2024-01-01T00:00:00+02:00"})
        'https://example.org/index.php?rest_route=/wp/v2/posts&after=2024-01-01T00:00:00%2B02:00'
        """
        route = "/" + route.lstrip("/")
        query = [(name, str(value)) for name, value in (params or {}).items() if value is not None]
        if self.plain:
            query.insert(0, ("rest_route", route))
            url = self.base
        else:
            url = self.base + route.lstrip("/")
        if not query:
            return url
        return url + "?" + urlencode(query, safe=_SAFE_QUERY_CHARACTERS, quote_via=quote)

    def route_of(self, url: str) -> tuple[str, dict[str, str]] | None:
        """The route and the other query parameters of an API URL under this root, else None.

        >>> root = ApiRoot.from_url("https://example.org/index.php?rest_route=/")
        >>> root.route_of("https://example.org/index.php?rest_route=%2Fwp%2Fv2%2Fcategories&post=7")
        ('/wp/v2/categories', {'post': '7'})
        """
        href = parse_api_href(url)
        if href is None or href.root != self:
            return None
        return href.route, href.params


@dataclass(frozen=True)
class ApiHref:
    """An API URL taken apart: which root, which route, which parameters."""

    root: ApiRoot
    route: str
    params: dict[str, str]

    @property
    def trailing_id(self) -> int | None:
        """The numeric last segment of the route (``/wp/v2/media/12`` -> 12)."""
        last = self.route.rstrip("/").rsplit("/", 1)[-1]
        return int(last) if last.isdigit() else None

    @property
    def collection_route(self) -> str:
        """The route without its trailing id (``/wp/v2/media/12`` -> ``/wp/v2/media``)."""
        route = self.route.rstrip("/")
        return route.rsplit("/", 1)[0] if self.trailing_id is not None else route


_NAMESPACE_IN_PATH = re.compile(r"^(?P<root>.*?/)(?P<route>wp/v2(?:/.*)?)$")


def parse_api_href(url: str) -> ApiHref | None:
    """Takes apart an API URL of either permalink form; None when it is not one.

    >>> parse_api_href("https://example.org/wp-json/wp/v2/media/12")
    ApiHref(root=ApiRoot(base='https://example.org/wp-json/', plain=False), route='/wp/v2/media/12', params={})
    >>> parse_api_href("https://example.org/wp-json/").route
    '/'
    >>> parse_api_href("http://[::1/wp-json/wp/v2/tags?post=5") is None  # a bracket a plugin left open
    True
    """
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    query = parse_qsl(parts.query, keep_blank_values=True)
    params = {name: value for name, value in query if name != "rest_route"}
    routes = [value for name, value in query if name == "rest_route"]
    if routes:
        root = ApiRoot(urlunsplit((parts.scheme, parts.netloc, parts.path or "/", "", "")), plain=True)
        return ApiHref(root, "/" + unquote(routes[0]).lstrip("/"), params)
    path = unquote(parts.path)
    match = _NAMESPACE_IN_PATH.match(path)
    if match:
        root_path, route = match["root"], "/" + match["route"]
    elif path.rstrip("/").endswith("/wp-json"):
        root_path, route = path.rstrip("/") + "/", "/"
    else:
        return None
    root = ApiRoot(urlunsplit((parts.scheme, parts.netloc, root_path, "", "")), plain=False)
    return ApiHref(root, route, params)


# Discovery ------------------------------------------------------------------------------------------

_LINK_VALUE = re.compile(r'<(?P<url>[^>]*)>\s*(?P<params>(?:;\s*[^;,]+)*)')
_HTML_LINK_TAG = re.compile(r"<link\b[^<>]*>", re.IGNORECASE)  # [^<>]: a "<link" never closed costs one scan
_ATTRIBUTE = re.compile(r"""([a-zA-Z-]+)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))""")


def parse_link_header(value: str) -> list[tuple[str, str]]:
    """``(url, rel)`` pairs of an HTTP ``Link`` header.

    >>> parse_link_header('<https://e.org/wp-json/>; rel="https://api.w.org/", <https://e.org/?p=1>; rel=shortlink')
    [('https://e.org/wp-json/', 'https://api.w.org/'), ('https://e.org/?p=1', 'shortlink')]
    """
    links = []
    for match in _LINK_VALUE.finditer(value):
        rel = ""
        for param in match["params"].split(";"):
            name, _, param_value = param.strip().partition("=")
            if name.strip().lower() == "rel":
                rel = param_value.strip().strip('"')
        links.append((match["url"].strip(), rel))
    return links


def api_root_from_link_headers(values: Iterable[str], base_url: str) -> str | None:
    """The API root a page advertises in its ``Link`` headers."""
    for value in values:
        for url, rel in parse_link_header(value):
            if API_REL in rel.split():
                return urljoin(base_url, url)
    return None


def api_root_from_html(html: str, base_url: str) -> str | None:
    """The API root a page advertises in ``<link rel="https://api.w.org/" href="...">``."""
    for tag in _HTML_LINK_TAG.findall(html):
        attributes = {m[1].lower(): m[2] or m[3] or m[4] for m in _ATTRIBUTE.finditer(tag)}
        if API_REL in attributes.get("rel", "").split() and attributes.get("href"):
            return urljoin(base_url, attributes["href"].replace("&amp;", "&"))
    return None


def fallback_api_roots(site_url: str) -> list[str]:
    """Where a root usually is when a site does not say: ``/wp-json/``, then ``/?rest_route=/``."""
    base = site_url.rstrip("/")
    return [base + "/wp-json/", base + "/?rest_route=/"]


def is_api_index(data: object) -> bool:
    """A root is only a root when it answers JSON listing the ``wp/v2`` namespace."""
    return isinstance(data, dict) and NAMESPACE in (data.get("namespaces") or ())


# Answers --------------------------------------------------------------------------------------------

# What PHP and plugins print around an answer's JSON: PHP's own messages (display_errors on, as HTML
# or as text) before it, HTML (a cache plugin's comment, a PHP warning) after it.
_LEADING_PHP_MESSAGES = re.compile(
    rb"^(?:\s*(?:<br\s*/?>\s*)?(?:<b>)?(?:PHP )?(?:Warning|Notice|Deprecated|Strict Standards)(?:</b>)?:[^\n]*\n)+")
_TRAILING_NOISE = re.compile(r"\s*(?:<|(?:PHP )?(?:Warning|Notice|Deprecated|Strict Standards):)")


def loads(body: bytes) -> Any:
    """Decodes a JSON answer, tolerating what plugins add around it: a byte-order mark, PHP warnings
    printed before it, an HTML comment from a cache plugin or a PHP warning after it. Raises
    ``ValueError`` when it is not JSON (a truncated answer included).

    >>> loads(b'\\xef\\xbb\\xbf{"id": 1}<!-- cached by WP Super Cache -->')
    {'id': 1}
    >>> loads(b'\\xef\\xbb\\xbf\\xef\\xbb\\xbf\\n[1]')  # two plugin files saved with one
    [1]
    >>> loads(b'[1]\\n<br />\\n<b>Warning</b>:  Undefined variable $x in <b>/wp-content/plugins/a.php</b><br />')
    [1]
    >>> loads(b'<br />\\n<b>Deprecated</b>:  Function create_function() is deprecated in x.php<br />\\n[2]')
    [2]
    >>> loads(b'[{"id": 1}, {"id"')
    Traceback (most recent call last):
    ...
    json.decoder.JSONDecodeError: Expecting ':' delimiter: line 1 column 18 (char 17)
    >>> loads(b"[" * 100000)
    Traceback (most recent call last):
    ...
    ValueError: JSON nested too deeply
    """
    body = body.lstrip()
    while body.startswith(b"\xef\xbb\xbf"):  # one for each PHP file of a plugin saved with one
        body = body[3:].lstrip()
    body = _LEADING_PHP_MESSAGES.sub(b"", body, count=1).lstrip()
    # orjson decodes a page of posts in under half the time; what it refuses and Python's json takes
    # (a lone surrogate escape, NaN, UTF-16) and the noise after the JSON go through Python's json, once.
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError:
        pass
    try:
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            return json.loads(body)  # UTF-16 or UTF-32, which Python's json detects
        data, end = json.JSONDecoder().raw_decode(text)
    except RecursionError:  # nesting orjson refused as too deep: no JSON we can read, not a crash of the callback
        raise ValueError("JSON nested too deeply") from None
    rest = text[end:].lstrip()
    if rest and not _TRAILING_NOISE.match(text, end):
        raise json.JSONDecodeError("Extra data", text, len(text) - len(rest))
    return data


@dataclass(frozen=True)
class WordPressError:
    """An error answer: WordPress's code (``rest_cannot_read``, ...), its message and the HTTP status."""

    status: int
    code: str
    message: str

    def __str__(self) -> str:
        return f"{self.status} {self.code}: {self.message}" if self.message else f"{self.status} {self.code}"


def error_from_answer(status: int, body: bytes, content_type: str = "") -> WordPressError:
    """Names what went wrong with an answer, in WordPress's words where it gave some."""
    try:
        data = loads(body)
    except ValueError:
        return WordPressError(status, _describe_non_json(body, content_type), "")
    if isinstance(data, dict) and isinstance(data.get("code"), str):
        return WordPressError(status, data["code"], str(data.get("message") or "")[:200])
    return WordPressError(status, f"http_{status}", "")


def _describe_non_json(body: bytes, content_type: str) -> str:
    head = body[:4096].lower()
    if b"cf-chl" in head or b"challenge-platform" in head or b"just a moment" in head:
        return "cloudflare_challenge"
    if b"wp-login" in head or b"loginform" in head:
        return "login_page"
    if not body.strip():
        return "empty_body"
    if b"<html" in head or b"<!doctype" in head or "html" in content_type:
        return "html_instead_of_json"
    return "invalid_json"


@dataclass(frozen=True)
class Pagination:
    total: int | None
    total_pages: int | None
    next_url: str | None


def pagination(headers: Mapping[str, str], base_url: str) -> Pagination:
    """Reads ``X-WP-Total``, ``X-WP-TotalPages`` and the ``rel="next"`` link; absent ones are None
    (caches and proxies strip them)."""
    next_url = None
    link = headers.get("Link")
    if link:
        next_url = next((urljoin(base_url, url) for url, rel in parse_link_header(link) if rel == "next"), None)
    return Pagination(_header_int(headers.get("X-WP-Total")), _header_int(headers.get("X-WP-TotalPages")), next_url)


def _header_int(value: str | None) -> int | None:
    if value is None or not value.strip().isdigit():
        return None
    return int(value.strip())


# A post's _links -------------------------------------------------------------------------------------

# The post fields that hold a taxonomy's term ids, where the field is not the taxonomy's rest_base.
_TERM_FIELDS = {"category": "categories", "post_tag": "tags"}


class Link(NamedTuple):  # a tuple: made for every link of every post, ~4x faster than a frozen dataclass
    """One linked resource a post names: which field it fills, which collection holds it, which ids."""

    field: str
    """``featured_media``, ``author``, ``categories``, ``tags`` or ``terms.<taxonomy>``."""
    href: str
    collection: tuple[ApiRoot, str] | None
    """(root, collection route); None when the link does not point at a collection of that field."""
    ids: tuple[int, ...]


@dataclass(frozen=True)
class Revisions:
    count: int
    latest_id: int | None
    href: str | None


def first_href(links: Mapping[str, Any], relation: str) -> dict[str, Any] | None:
    entries = links.get(relation)
    if isinstance(entries, list) and entries and isinstance(entries[0], dict):
        return entries[0]
    return None


def post_links(post: Mapping[str, Any]) -> list[Link]:
    """The resources a post links to, read from its ``_links`` (where they live) and its own id
    fields (which ids)."""
    links = post.get("_links")
    if not isinstance(links, dict):
        return []
    found: list[Link] = []
    media_id = _positive_int(post.get("featured_media"))
    media = first_href(links, "wp:featuredmedia")
    if media_id and media:
        found.append(_single_link("featured_media", str(media.get("href", "")), media_id))
    author_id = _positive_int(post.get("author"))
    author = first_href(links, "author")
    if author_id and author:
        found.append(_single_link("author", str(author.get("href", "")), author_id))
    for term in links.get("wp:term") or ():
        if isinstance(term, dict) and isinstance(term.get("taxonomy"), str):
            link = _term_link(post, term["taxonomy"], str(term.get("href", "")))
            if link is not None:
                found.append(link)
    return found


# What a record is made of (viewworld/assembly.py build_post, post_links, post_revisions); a posts page
# asks for these and each taxonomy's id field with ``_fields`` once a post has shown the taxonomies.
POST_FIELDS = ("id", "date", "date_gmt", "modified", "modified_gmt", "slug", "status", "type", "link", "title",
               "content", "excerpt", "author", "featured_media", "sticky", "format", "lang", "yoast_head_json",
               "_links")


def posts_fields(post: Mapping[str, Any], with_links: bool = True) -> str | None:
    """``_fields`` for posts pages, from a post's ``_links``: what records are made of and the id field
    of each taxonomy its ``wp:term`` links name (every taxonomy of the post type, as :func:`post_links`
    reads them); None when the post cannot tell (no ``_links``, a term link that is no API URL). Without
    it WordPress also computes and sends what plugins add (Yoast's ``yoast_head``, Jetpack's fields).
    With ``with_links`` false, ``_links`` are not asked for (see :func:`links_like`).

    >>> terms = [{"taxonomy": "category", "href": "https://e.org/wp-json/wp/v2/categories?post=5"},
    ...          {"taxonomy": "region", "href": "https://e.org/wp-json/wp/v2/regions?post=5"}]
    >>> posts_fields({"_links": {"wp:term": terms}}).split(",")[-3:]
    ['_links', 'categories', 'regions']
    """
    links = post.get("_links")
    if not isinstance(links, dict):
        return None
    terms = links.get("wp:term")
    fields = [field for field in POST_FIELDS if with_links or field != "_links"]
    for term in terms if isinstance(terms, list) else ():
        target = link_target(str(term.get("href", ""))) if isinstance(term, dict) else None
        if target is None or not isinstance(term.get("taxonomy"), str):
            return None
        fields.append(_term_id_field(term["taxonomy"], target[1]))
    return ",".join(dict.fromkeys(fields))


def links_like(post: Mapping[str, Any], template: Mapping[str, Any], root: ApiRoot) -> dict[str, Any]:
    """The ``_links`` WordPress gives ``post`` when asked without them (``REVISION_COUNTS`` off): those of
    ``template`` (the ``_links`` of a post of the same type that came with them), each pointed at this post's
    own ids; a relation the template lacks is at its route under the root of the template's ``self`` link (as
    WordPress writes its links), else under ``root``. There is no ``version-history``: its revision count is
    what WordPress spends a query per post on. A deleted featured image, which WordPress points at the API root,
    is pointed at its id: it is asked for, and named as not returned.

    >>> root = ApiRoot.from_url("https://e.org/wp-json/")
    >>> template = {"self": [{"href": "https://e.org/wp-json/wp/v2/posts/5"}],
    ...             "wp:term": [{"taxonomy": "category", "href": "https://e.org/wp-json/wp/v2/categories?post=5"}]}
    >>> links = links_like({"id": 7, "author": 2, "featured_media": 0}, template, root)
    >>> links["self"][0]["href"], links["author"][0]["href"], links["wp:term"][0]["href"], "wp:featuredmedia" in links
    ('https://e.org/wp-json/wp/v2/posts/7', 'https://e.org/wp-json/wp/v2/users/2', \
'https://e.org/wp-json/wp/v2/categories?post=7', False)
    """

    def like(relation: str, route: str, resource_id: int) -> list[dict[str, Any]]:
        model = (first_href(template, relation) or {}).get("href")
        href = _with_trailing_id(model, resource_id) if isinstance(model, str) else None
        return [{"href": href or base.endpoint(f"{route}/{resource_id}")}]

    own = link_target(str((first_href(template, "self") or {}).get("href", "")))
    base = own[0] if own is not None else root

    links = {"self": like("self", "/wp/v2/posts", post["id"])}
    if media_id := _positive_int(post.get("featured_media")):
        links["wp:featuredmedia"] = like("wp:featuredmedia", "/wp/v2/media", media_id)
    if author_id := _positive_int(post.get("author")):
        links["author"] = like("author", "/wp/v2/users", author_id)
    terms = template.get("wp:term")
    links["wp:term"] = [
        {**term, "href": _with_trailing_id(term["href"], post["id"]) or term["href"]}
        for term in (terms if isinstance(terms, list) else ())
        if isinstance(term, dict) and isinstance(term.get("href"), str)
    ]
    return links


def post_revisions(post: Mapping[str, Any]) -> Revisions:
    """The revision count and latest revision id, public in ``_links`` even when the revisions are not."""
    links = post.get("_links") if isinstance(post.get("_links"), dict) else {}
    history = first_href(links, "version-history") or {}
    predecessor = first_href(links, "predecessor-version") or {}
    count = _positive_int(history.get("count")) or 0
    href = history.get("href")
    return Revisions(count, _positive_int(predecessor.get("id")), href if isinstance(href, str) else None)


_DIGITS = "0123456789"


def _with_trailing_id(href: str, resource_id: int) -> str | None:
    """``href`` with the number it ends with (``/media/1137``, ``&post=1136``) made ``resource_id``; None when it
    ends with none."""
    prefix = href.rstrip(_DIGITS)
    return prefix + str(resource_id) if len(prefix) < len(href) else None


def link_target(href: str) -> tuple[ApiRoot, str, int | None] | None:
    """(root, collection route, trailing id) of a ``_links`` href; None when it is no API URL.

    Every post repeats the same few hrefs but for their last number (``/media/1137``, ``&post=1136``):
    what comes before it is parsed once per crawl.

    >>> link_target("https://e.org/index.php?rest_route=%2Fwp%2Fv2%2Fmedia%2F1137")[1:]
    ('/wp/v2/media', 1137)
    >>> link_target("https://e.org/wp-json/wp/v2/tags?post=5")[1:]
    ('/wp/v2/tags', None)
    """
    prefix = href.rstrip(_DIGITS)  # a fourteenth of a regex search's cost
    if len(prefix) == len(href):
        parsed = parse_api_href(href)
        return None if parsed is None else (parsed.root, parsed.collection_route, parsed.trailing_id)
    collection = _collection_at(prefix)
    if collection is None:
        return None
    is_segment = prefix.endswith(("/", "%2F", "%2f"))
    return (*collection, int(href[len(prefix):]) if is_segment else None)


@lru_cache(maxsize=4096)
def _collection_at(prefix: str) -> tuple[ApiRoot, str] | None:
    parsed = parse_api_href(prefix)
    return None if parsed is None else (parsed.root, parsed.collection_route)


def _single_link(field: str, href: str, resource_id: int) -> Link:
    """A link to one resource must name that resource: a deleted featured image keeps its id in the
    post while WordPress points the link at the API root."""
    target = link_target(href)
    if target is None or target[2] != resource_id:
        return Link(field, href, None, (resource_id,))
    return Link(field, href, (target[0], target[1]), (resource_id,))


def _term_link(post: Mapping[str, Any], taxonomy: str, href: str) -> Link | None:
    """A taxonomy's link; when its href is no API URL (``file:``, ``data:``, garbage), the link still
    carries the post's term ids, so that the post says which terms it could not fill.

    >>> _term_link({"categories": [3, 4]}, "category", "data:application/json,[]")
    Link(field='categories', href='data:application/json,[]', collection=None, ids=(3, 4))
    """
    target = link_target(href)
    if target is None:
        return Link(_term_field(taxonomy), href, None, _term_ids(post.get(_TERM_FIELDS.get(taxonomy, taxonomy))))
    root, collection_route, _ = target
    ids = post.get(_term_id_field(taxonomy, collection_route))
    if not isinstance(ids, list):
        return None
    return Link(_term_field(taxonomy), href, (root, collection_route), _term_ids(ids))


def _term_id_field(taxonomy: str, collection_route: str) -> str:
    """The field of a post that holds its term ids of ``taxonomy``: ``categories``, ``tags``, else the
    taxonomy's ``rest_base``, the last segment of its collection's route."""
    return _TERM_FIELDS.get(taxonomy) or collection_route.rsplit("/", 1)[-1]


# The most terms of one taxonomy a post is taken to have: a real post has tens; a hostile one naming millions would
# make as many thousands of include= batches, and as many errors in its record.
MAX_TERMS_A_POST = 1000


def _term_ids(ids: object) -> tuple[int, ...]:
    """A post's distinct positive term ids, the first ``MAX_TERMS_A_POST`` of them.

    >>> _term_ids([3, "4", 3, 0, -1, True]), len(_term_ids(list(range(1, 5000))))
    ((3, 4), 1000)
    """
    if not isinstance(ids, list):
        return ()
    found: dict[int, None] = {}
    for term_id in map(_positive_int, ids):
        if term_id and term_id not in found:
            found[term_id] = None
            if len(found) == MAX_TERMS_A_POST:
                break
    return tuple(found)


def _term_field(taxonomy: str) -> str:
    return _TERM_FIELDS.get(taxonomy) or f"terms.{taxonomy}"


def _positive_int(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int) and value > 0:
        return value
    if isinstance(value, str) and value.isdigit() and int(value) > 0:
        return int(value)
    return None


def http_date(value: bytes | str | None) -> str | None:
    """An HTTP ``Date`` header as a UTC moment in the form of ``modified_gmt`` (with ``Z``); None when absent or
    not a date.

    >>> http_date(b"Sun, 06 Nov 1994 08:49:37 GMT"), http_date("soon"), http_date(None)
    ('1994-11-06T08:49:37Z', None, None)
    """
    moment = parse_http_date(value.decode("latin-1") if isinstance(value, bytes) else value)
    return None if moment is None else moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_http_date(text: str | None) -> datetime | None:
    """An HTTP-date (``Date``, ``Retry-After``) as an aware datetime; None when it is none."""
    try:
        moment = parsedate_to_datetime(text)  # type: ignore[arg-type]  # None raises TypeError
    except (TypeError, ValueError):
        return None
    return moment if moment.tzinfo is not None else None


def plausible_total_pages(total: int | None, total_pages: int, per_page: int, first_page_count: int) -> bool:
    """Whether ``X-WP-TotalPages`` can be true, given ``X-WP-Total`` and the first page.

    >>> plausible_total_pages(250, 3, 100, 100)
    True
    >>> plausible_total_pages(250, 10**9, 100, 100)
    False
    >>> plausible_total_pages(None, 5, 100, 7)
    False
    >>> plausible_total_pages(0, 0, 100, 100)  # a plugin's no_found_rows: no count at all
    False
    """
    if total_pages < 0 or total_pages > MAX_PAGES:
        return False
    if first_page_count and (total_pages == 0 or total is not None and total < first_page_count):
        return False
    if total is not None and total_pages > -(-total // per_page) + 1:
        return False
    return not (first_page_count < per_page and total_pages > 1)


def capped_page_size(asked: int, count: int, total: int | None) -> int | None:
    """The page size a site serves whatever was asked, when a page 1 of ``count`` items, ``asked`` for, is short
    while ``X-WP-Total`` says there are more (a plugin's cap, or posts it hides); None when it is not so.

    >>> capped_page_size(100, 10, 5000), capped_page_size(100, 30, 30), capped_page_size(100, 0, 5000)
    (10, None, None)
    """
    return count if 0 < count < asked and (total or 0) > count else None


def per_page_refused(status: int, body: bytes) -> bool:
    """Whether a 400 answer says the ``per_page`` asked is above what this site allows."""
    if status != 400:
        return False
    error = error_from_answer(status, body)
    return error.code == "rest_invalid_param" and b"per_page" in body
