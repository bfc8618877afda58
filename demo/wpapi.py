"""The demo site's request handling, with no HTTP in it: `WordPressApp.handle(method, path_and_query, headers)`.

It answers like WordPress 6.x (see /work/shared/WORDPRESS.md): the same routes in plain (`index.php?rest_route=`)
and pretty (`/wp-json/`) form, the same parameters, headers and error codes. A fault layer or a test can call
`handle` directly, or wrap it before handing it to the HTTP server.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable
from urllib.parse import quote_plus, unquote

from demo.wphtml import home_page, not_found_page, robots_txt
from demo.wpparams import DateBound, Query, RestError
from demo.wpsite import PostRow

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence

    from demo.wpsite import Site, Table

JsonObject = dict[str, Any]
MAX_PER_PAGE = 100
# Parameters that choose a page or its shape, not which posts are in the collection.
PAGE_PARAMS = frozenset({"page", "per_page", "_fields", "_embed", "context", "rest_route", "_envelope"})
NAMESPACES = ["oembed/1.0", "wp/v2", "wp-site-health/v1"]
ORDERBY = ("date", "id", "include", "modified", "title")
REST_HEADERS = [
    ("X-Robots-Tag", "noindex"),
    ("X-Content-Type-Options", "nosniff"),
    ("Access-Control-Expose-Headers", "X-WP-Total, X-WP-TotalPages, Link"),
    ("Access-Control-Allow-Headers", "Authorization, X-WP-Nonce, Content-Disposition, Content-MD5, Content-Type"),
    ("Allow", "GET"),
]
NO_ROUTE = (404, "rest_no_route", "No route was found matching the URL and request method.")
# `index.php?rest_route=/a/b&x=1` as it appears in served JSON, for the move to `wp-json/a/b?x=1`.
PLAIN_REST_URL = re.compile(r"index\.php\?rest_route=([^\"&\s<>]*)((?:&[^\"\s<>]*)?)")


@dataclass(frozen=True)
class Response:
    status: int
    headers: list[tuple[str, str]]
    body: bytes


Handler = Callable[["WordPressApp", Query, "re.Match[str]"], "Page | JsonObject | list[JsonObject]"]


@dataclass
class Page:
    """One page of a collection, with what WordPress puts in its pagination headers."""

    items: list[JsonObject]
    total: int
    total_pages: int
    links: list[tuple[str, str]]


class WordPressApp:
    def __init__(self, site: Site, origin: str, permalinks: str = "plain") -> None:
        self.site = site
        self.origin = origin.rstrip("/")
        self.pretty = permalinks == "pretty"
        self._post_orders: dict[tuple[str, str], list[PostRow]] = {}
        self._filtered_posts: dict[tuple[tuple[str, str], ...], list[int]] = {}
        self.posts_by_id = {row.id: row for row in site.posts.rows}
        self.ordered_posts("date", "desc")  # the order nearly every request uses, sorted before the first one

    # -- Plumbing: from a request line to a route, and from a result to bytes.

    def handle(self, method: str, path_and_query: str, headers: Mapping[str, str]) -> Response:
        path, _, query_string = path_and_query.partition("?")
        query = Query.parse(query_string)
        route = self.rest_route(unquote(path), query)
        if route is None:
            return self.html_page(method, unquote(path), query)
        try:
            return self.rest_response(method, route, query)
        except RestError as error:
            return self.json_response(error.status, error.body)

    def rest_route(self, path: str, query: Query) -> str | None:
        """The REST route a request asks for, or None when it is a page of the site itself."""
        # rest_api_loaded() trims the trailing slash and reads an empty route as the index.
        if path in ("/", "/index.php") and query.get("rest_route") is not None:
            return (query.get("rest_route") or "").rstrip("/") or "/"
        if self.pretty and (path == "/wp-json" or path.startswith("/wp-json/")):
            return query.get("rest_route") or path[len("/wp-json") :].rstrip("/") or "/"
        return None

    def rest_response(self, method: str, route: str, query: Query) -> Response:
        if method not in ("GET", "HEAD"):
            raise RestError(*NO_ROUTE)
        for pattern, handler in ROUTES:
            match = pattern.match(route)
            if match:
                result = handler(self, query, match)
                break
        else:
            raise RestError(*NO_ROUTE)
        query.raise_if_invalid()
        fields = query.values("_fields")
        if not isinstance(result, Page):
            return self.json_response(200, select_fields(result, fields) if fields else result)
        headers = [("X-WP-Total", str(result.total)), ("X-WP-TotalPages", str(result.total_pages))]
        if result.links:
            headers.append(("Link", ", ".join(f'<{url}>; rel="{rel}"' for rel, url in result.links)))
        items = [select_fields(item, fields) for item in result.items] if fields else result.items
        return self.json_response(200, items, headers)

    def json_response(self, status: int, body: Any, headers: list[tuple[str, str]] | None = None) -> Response:
        text = json.dumps(body, separators=(",", ":")).replace(self.site.origin, self.origin)
        if self.pretty and "index.php?rest_route=" in text:
            text = PLAIN_REST_URL.sub(pretty_rest_url, text)
        # wp_json_encode() escapes slashes and every non-ASCII character; clients meet `https:\/\/` and `\u2019`.
        payload = text.replace("/", "\\/").encode("ascii")
        all_headers = [("Content-Type", "application/json; charset=UTF-8"), *REST_HEADERS, *(headers or [])]
        return Response(status, all_headers, payload)

    def html_page(self, method: str, path: str, query: Query) -> Response:
        if path == "/robots.txt":
            return Response(200, [("Content-Type", "text/plain; charset=utf-8")], robots_txt(self.origin).encode())
        if path in ("/", "/index.php"):
            latest = [row.id for row in self.ordered_posts("date", "desc")[:10]]
            html = home_page(self.site, self.origin, self.api_root(), query.get("p"), latest)
            headers = [("Content-Type", "text/html; charset=UTF-8"), ("Link", f'<{self.api_root()}>; rel="https://api.w.org/"')]
            return Response(200, headers, html.encode())
        return Response(404, [("Content-Type", "text/html; charset=iso-8859-1")], not_found_page(path).encode())

    # -- URLs, as rest_url() and add_query_arg() build them.

    def api_root(self) -> str:
        return self.rest_url("/")

    def rest_url(self, route: str) -> str:
        if self.pretty:
            return f"{self.origin}/wp-json{route}"
        return f"{self.origin}/index.php?rest_route={route}"

    def page_link(self, route: str, query: Query, page: int) -> str:
        """The next or previous page: the request's own parameters, url-encoded, added to the route's URL."""
        url = self.rest_url(route)
        base, _, base_query = url.partition("?")
        params: dict[str, str] = dict(pair.split("=", 1) for pair in base_query.split("&") if pair)
        for key, value in query.pairs:
            params[key] = quote_plus(value, safe="").replace("~", "%7E")
        params["page"] = str(page)
        return base + "?" + "&".join(f"{key}={value}" for key, value in params.items())

    # -- Collections.

    def page_of(self, route: str, query: Query, ids: Sequence[int], table: Table | None, posts: bool) -> Page:
        per_page = query.integer("per_page", 10, 1, MAX_PER_PAGE)
        page = query.integer("page", 1)
        query.raise_if_invalid()
        total = len(ids)
        total_pages = math.ceil(total / per_page)
        # Posts and media refuse a page past the end; terms and users answer an empty list.
        if posts and page > total_pages and total > 0:
            raise RestError(
                400, "rest_post_invalid_page_number", "The page number requested is larger than the number of pages available."
            )
        links: list[tuple[str, str]] = []
        if page > 1:
            links.append(("prev", self.page_link(route, query, min(page - 1, max(total_pages, 1)))))
        if total_pages > page:
            links.append(("next", self.page_link(route, query, page + 1)))
        chosen = ids[(page - 1) * per_page : page * per_page]
        get = table.get if table is not None else self.site.posts.get
        items = [item for item in map(get, chosen) if item is not None]
        return Page(items, total, total_pages, links)

    def filtered_posts(self, query: Query, select: Callable[[], list[int]]) -> list[int]:
        """The posts a query selects, kept for its following pages: a crawler pages through one query at a time."""
        key = tuple(sorted(pair for pair in query.pairs if pair[0] not in PAGE_PARAMS))
        if key not in self._filtered_posts:
            if len(self._filtered_posts) >= 16:
                self._filtered_posts.pop(next(iter(self._filtered_posts)), None)
            self._filtered_posts[key] = select()
        return self._filtered_posts[key]

    def ordered_posts(self, orderby: str, order: str) -> list[PostRow]:
        """Every post in one order, computed once: filters keep the order, so pages are slices of it."""
        key = (orderby, order)
        if key not in self._post_orders:
            self._post_orders[key] = self.sort_posts(self.site.posts.rows, orderby, order)
        return self._post_orders[key]

    def sort_posts(self, rows: Iterable[PostRow], orderby: str, order: str) -> list[PostRow]:
        title = self.site.posts.title
        sort_keys: dict[str, Callable[[PostRow], Any]] = {
            "date": lambda row: (row.date, row.id),
            "id": lambda row: row.id,
            "modified": lambda row: (row.modified, row.id),
            "title": lambda row: (title(row.id).casefold(), row.id),
        }
        return sorted(rows, key=sort_keys[orderby], reverse=order == "desc")


def date_filter(bound: DateBound, local: str, gmt: str, after: bool) -> Callable[[PostRow], bool]:
    # WordPress compares in local time and converts zoned values; comparing zoned values with *_gmt is the same.
    index = PostRow._fields.index(gmt if bound.utc else local)
    value = bound.seconds
    if after:
        return lambda row: row[index] > value
    return lambda row: row[index] < value


def list_posts(app: WordPressApp, query: Query, match: re.Match[str]) -> Page:
    statuses = query.values("status")
    if any(status != "publish" for status in statuses):
        query.invalid("status", "rest_forbidden_status", "Status is forbidden.")
    orderby = query.choice("orderby", ORDERBY, "date")
    order = query.choice("order", ("asc", "desc"), "desc")
    include = query.integers("include")
    filters = []
    for name, local, gmt, after in (
        ("after", "date", "date_gmt", True),
        ("before", "date", "date_gmt", False),
        ("modified_after", "modified", "modified_gmt", True),
        ("modified_before", "modified", "modified_gmt", False),
    ):
        bound = query.date(name)
        if bound is not None:
            filters.append(date_filter(bound, local, gmt, after))
    for taxonomy, name in (("category", "categories"), ("post_tag", "tags")):
        wanted = query.integers(name)
        if wanted is not None:
            filters.append(term_filter(app, taxonomy, set(wanted)))
    authors = query.integers("author")
    if authors is not None:
        wanted_authors, author = set(authors), app.site.posts.author
        filters.append(lambda row: author(row.id) in wanted_authors)
    query.raise_if_invalid()
    if orderby == "include" and include is None:
        raise RestError(400, "rest_orderby_include_missing_include", "You need to define an include parameter to order by include.")

    def select() -> list[int]:
        rows = app.ordered_posts(orderby, order) if include is None else included_posts(app, include, orderby, order)
        if not filters:
            return [row.id for row in rows]
        return [row.id for row in rows if all(keep(row) for keep in filters)]

    return app.page_of("/wp/v2/posts", query, app.filtered_posts(query, select), None, posts=True)


def included_posts(app: WordPressApp, include: list[int], orderby: str, order: str) -> list[PostRow]:
    rows = [app.posts_by_id[post_id] for post_id in dict.fromkeys(include) if post_id in app.posts_by_id]
    return rows if orderby == "include" else app.sort_posts(rows, orderby, order)


def term_filter(app: WordPressApp, taxonomy: str, wanted: set[int]) -> Callable[[PostRow], bool]:
    terms = app.site.posts.terms
    return lambda row: not wanted.isdisjoint(terms(row.id, taxonomy))


def get_post(app: WordPressApp, query: Query, match: re.Match[str]) -> JsonObject:
    post_id = int(match["id"])
    post = app.site.posts.get(post_id)
    if post is not None:
        return post
    if post_id in app.site.unpublished_post_ids:
        raise RestError(401, "rest_forbidden", "Sorry, you are not allowed to do that.")
    raise RestError(404, "rest_post_invalid_id", "Invalid post ID.")


def post_revisions(app: WordPressApp, query: Query, match: re.Match[str]) -> JsonObject:
    post_id = int(match["parent"])
    if app.site.posts.get(post_id) is None and post_id not in app.site.unpublished_post_ids:
        raise RestError(404, "rest_post_invalid_parent", "Invalid post parent ID.")
    raise RestError(401, "rest_cannot_read", "Sorry, you are not allowed to view revisions of this post.")


def collection(base: str, posts_like: bool) -> Handler:
    """`/wp/v2/media`, `/categories`, `/tags`, `/users`: `include`, `parent`, `post`, then one page."""

    def list_items(app: WordPressApp, query: Query, match: re.Match[str]) -> Page:
        table: Table = getattr(app.site, base)
        include = query.integers("include")
        parents = query.integers("parent") if base in ("media", "categories") else None
        post = query.integer("post", 0, minimum=0) if base in ("categories", "tags") else 0
        query.raise_if_invalid()
        # Ids that do not exist are dropped without a word, so each filter only narrows the candidates.
        candidates = None if include is None else set(include)
        if parents is not None and base == "media":
            candidates = narrow(candidates, {media_id for parent in parents for media_id in app.site.media.attached_to(parent)})
        elif parents is not None:
            candidates = narrow(candidates, {term_id for term_id in table.ids() if table.get(term_id)["parent"] in parents})  # type: ignore[index]
        if post:
            candidates = narrow(candidates, set(app.site.posts.terms(post, "category" if base == "categories" else "post_tag")))
        ids = table.ids() if candidates is None else table.in_order(candidates)
        return app.page_of(f"/wp/v2/{base}", query, ids, table, posts=posts_like)

    return list_items


def narrow(candidates: set[int] | None, allowed: set[int]) -> set[int]:
    return allowed if candidates is None else candidates & allowed


MISSING = {
    "media": (404, "rest_post_invalid_id", "Invalid post ID."),
    "categories": (404, "rest_term_invalid", "Term does not exist."),
    "tags": (404, "rest_term_invalid", "Term does not exist."),
    "users": (404, "rest_user_invalid_id", "Invalid user ID."),
}


def item(base: str) -> Handler:
    def get_item(app: WordPressApp, query: Query, match: re.Match[str]) -> JsonObject:
        found = getattr(app.site, base).get(int(match["id"]))
        if found is None:
            raise RestError(*MISSING[base])
        return found

    return get_item


def comments(app: WordPressApp, query: Query, match: re.Match[str]) -> Page:
    # The demo site has no comments; the route exists because every post links to it.
    return app.page_of("/wp/v2/comments", query, [], None, posts=True)


def api_index(app: WordPressApp, query: Query, match: re.Match[str]) -> JsonObject:
    site = app.site
    return {
        "name": site.name,
        "description": site.description,
        "url": site.origin,
        "home": site.origin,
        "gmt_offset": site.gmt_offset,
        "timezone_string": "",
        "page_for_posts": 0,
        "page_on_front": 0,
        "show_on_front": "posts",
        "namespaces": NAMESPACES,
        "authentication": {"application-passwords": {"endpoints": {"authorization": f"{site.origin}/wp-admin/authorize-application.php"}}},
        "routes": route_index(app),
        "site_logo": 0,
        "site_icon": 0,
        "site_icon_url": "",
        "_links": {"help": [{"href": "https://developer.wordpress.org/rest-api/"}]},
    }


def namespace_index(app: WordPressApp, query: Query, match: re.Match[str]) -> JsonObject:
    return {"namespace": "wp/v2", "routes": route_index(app), "_links": {"up": [{"href": app.api_root()}]}}


def route_index(app: WordPressApp) -> JsonObject:
    """A few of the routes WordPress lists, each in its real shape; a real index lists about two hundred."""
    routes: JsonObject = {}
    for route in ("/", "/wp/v2", "/wp/v2/posts", "/wp/v2/posts/(?P<id>[\\d]+)", "/wp/v2/media", "/wp/v2/categories", "/wp/v2/tags", "/wp/v2/users"):
        entry: JsonObject = {
            "namespace": "" if route == "/" else "wp/v2",
            "methods": ["GET"],
            "endpoints": [{"methods": ["GET"], "args": {"context": {"default": "view", "required": False}}}],
        }
        if "(?P" not in route:
            entry["_links"] = {"self": [{"href": app.rest_url(route)}]}
        routes[route] = entry
    return routes


def select_fields(item: Any, fields: list[str]) -> Any:
    """`_fields=id,title.rendered`: keep only those fields, nested ones by their dotted path."""
    if not isinstance(item, dict):
        return item
    selected: JsonObject = {}
    for path in fields:
        source: Any = item
        target = selected
        parts = path.split(".")
        for depth, part in enumerate(parts):
            if not isinstance(source, dict) or part not in source:
                break
            if depth == len(parts) - 1:
                target[part] = source[part]
            else:
                source = source[part]
                target = target.setdefault(part, {})
    return selected


def pretty_rest_url(match: re.Match[str]) -> str:
    route, extra = unquote(match[1]), match[2]
    return f"wp-json{route}" + (f"?{extra[1:]}" if extra else "")


ROUTES: list[tuple[re.Pattern[str], Handler]] = [
    (re.compile(pattern, re.IGNORECASE), handler)
    for pattern, handler in [
        (r"^/$", api_index),
        (r"^/wp/v2$", namespace_index),
        (r"^/wp/v2/posts$", list_posts),
        (r"^/wp/v2/posts/(?P<id>\d+)$", get_post),
        (r"^/wp/v2/posts/(?P<parent>\d+)/revisions(?:/(?P<id>\d+))?$", post_revisions),
        (r"^/wp/v2/comments$", comments),
        *[(rf"^/wp/v2/{base}$", collection(base, posts_like=base == "media")) for base in MISSING],
        *[(rf"^/wp/v2/{base}/(?P<id>\d+)$", item(base)) for base in MISSING],
    ]
]
