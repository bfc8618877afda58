"""The assembly of posts from their linked resources.

A post names its featured media, terms, author and revisions through ``_links``. Asking for them one
post at a time would cost a dozen requests a post; instead the assembler collects the ids each
collection is asked for, hands out ``include=`` batches of up to 100 ids (filling across posts pages),
keeps each distinct resource once per crawl, and releases a post as soon as everything it links to
has arrived or failed. A failed link leaves its field empty and adds ``{field, url, reason}`` to the
post's ``errors``; it never drops the post.

Nothing here knows Scrapy: the spider turns :class:`Batch` objects into requests and feeds the
answers back.
"""

from __future__ import annotations

import itertools
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from viewworld.cleaning import inline_text
from viewworld.items import Post
from viewworld.state import parse_utc, utc_text
from viewworld.wordpress import Link, first_href, parse_api_href, post_revisions

if TYPE_CHECKING:
    from viewworld.sites import Site
    from viewworld.wordpress import ApiRoot

CollectionKey = tuple["ApiRoot", str]

# Only the fields the items use: smaller answers, less work for the server.
_FIELDS = {
    "featured_media": "id,source_url,alt_text,caption,mime_type,media_details",
    "author": "id,name,slug",
    "categories": "id,name,slug,parent",
}
_TERM_FIELDS = "id,name,slug"
# Images are mostly one per post: keeping every one for the whole crawl would hold ~1 KB a post (100 MB
# at 100,000 posts). The newest are kept; an image a later post shares with an old one is asked again.
MEDIA_KEPT = 5000


@dataclass(frozen=True)
class Batch:
    """One request for linked resources: up to 100 ids of one collection, or one post's revisions."""

    site: str
    url: str
    field: str
    collection: CollectionKey | None
    ids: tuple[int, ...] = ()
    post_id: int | None = None
    per_page: int = 0
    """The ``per_page`` it asked with (a batch of ids)."""


@dataclass
class _Pending:
    post: Post
    site: Site
    links: list[Link]
    missing: int = 0
    revisions: list[dict[str, Any]] | None = None


@dataclass
class _Collection:
    field: str
    site: Site | None
    """The site whose requests ask for it: the first that linked to it, while it is being crawled."""
    resolved: dict[int, dict[str, Any]] = field(default_factory=dict)
    failed: dict[int, str] = field(default_factory=dict)
    passing: set[int] = field(default_factory=set)
    """Ids among ``failed`` whose request failed for a reason that may pass (a 5xx, a timeout)."""
    queued: dict[int, None] = field(default_factory=dict)
    """Ids to ask for, in the order first seen (a dict: an ordered set)."""
    requested: set[int] = field(default_factory=set)
    pinned: Counter[int] = field(default_factory=Counter)
    """Ids that posts not yet finished link to: never forgotten."""
    closed: str | None = None
    """Why the whole collection is unavailable (``/users`` closed by a security plugin), if it is."""
    size: int | None = None
    """Ids a batch, when the site refuses the usual ``per_page`` for this collection (see ``refused``)."""


class PostAssembler:
    def __init__(self, batch_size: int = 100, max_waiting_posts: int = 2000) -> None:
        self.batch_size = batch_size
        self.max_waiting_posts = max_waiting_posts
        self._collections: dict[CollectionKey, _Collection] = {}
        self._waiting: dict[tuple[CollectionKey, int], list[_Pending]] = defaultdict(list)
        self._revisions_waiting: dict[tuple[str, int], _Pending] = {}
        """By site and post id: two sites of a run may have a post of the same id."""
        self._new_batches: list[Batch] = []
        self._ready: list[Post] = []
        self.waiting_by_site: Counter[str] = Counter()

    @property
    def waiting_posts(self) -> int:
        return sum(self.waiting_by_site.values())

    # Input ------------------------------------------------------------------------------------------

    def add(self, site: Site, post: Post, links: list[Link], revisions_url: str | None = None) -> None:
        """Registers a post and what it links to; ``revisions_url`` when its revisions are to be fetched."""
        pending = _Pending(post, site, links)
        for link in links:
            if not _followed(site, link):
                continue
            collection = self._collection(link.collection, link.field, site)
            collection.pinned.update(link.ids)
            for resource_id in link.ids:
                if resource_id in collection.resolved or resource_id in collection.failed or collection.closed:
                    continue
                if resource_id not in collection.requested and resource_id not in collection.queued:
                    collection.queued[resource_id] = None
                self._waiting[(link.collection, resource_id)].append(pending)
                pending.missing += 1
        if revisions_url is not None:
            self._new_batches.append(Batch(site.origin, revisions_url, "revisions", None, post_id=post.id))
            self._revisions_waiting[(site.origin, post.id)] = pending
            pending.missing += 1
        if pending.missing:
            self.waiting_by_site[site.origin] += 1
        else:
            self._finish(pending)

    def resolve(self, batch: Batch, resources: list[Any]) -> None:
        """Feeds a batch's answer back: each resource asked for and returned fills its posts."""
        if batch.post_id is not None:
            pending = self._revisions_waiting.pop((batch.site, batch.post_id), None)
            if pending is not None:
                pending.revisions = [_revision(r) for r in resources if isinstance(r, dict)]
                self._release(pending)
            return
        assert batch.collection is not None  # a batch of ids, not of revisions
        collection = self._collections[batch.collection]
        summarize = _SUMMARIES.get(collection.field, _term)
        for resource in resources:
            if isinstance(resource, dict) and resource.get("id") in batch.ids:
                collection.resolved[resource["id"]] = summarize(resource)
        for resource_id in batch.ids:
            collection.requested.discard(resource_id)
            if resource_id not in collection.resolved:
                collection.failed[resource_id] = "not returned by WordPress (deleted or not public)"
            self._release_waiting(batch.collection, resource_id)
        if collection.field == "featured_media":
            _forget_oldest(collection.resolved, collection.pinned, MEDIA_KEPT)
            _forget_oldest(collection.failed, collection.pinned, MEDIA_KEPT)
            collection.passing.intersection_update(collection.failed)

    def fail(self, batch: Batch, reason: str, *, whole_collection: bool = False, passing: bool = False) -> None:
        """A batch failed for good; ``whole_collection`` when no batch of that collection can succeed; ``passing``
        when the next run's may (a 5xx, a timeout): the posts that lack what it held go in their site's
        ``retry_posts``."""
        if batch.post_id is not None:
            pending = self._revisions_waiting.pop((batch.site, batch.post_id), None)
            if pending is not None:
                pending.post.add_error("revisions", batch.url, reason, retry=passing)
                if passing:
                    pending.site.retry_posts.add(pending.post.id)
                self._release(pending)
            return
        assert batch.collection is not None  # a batch of ids, not of revisions
        collection = self._collections[batch.collection]
        if whole_collection:
            collection.closed = reason
        if passing:
            collection.passing.update(batch.ids)
        for resource_id in batch.ids:
            collection.requested.discard(resource_id)
            collection.failed[resource_id] = reason
            self._release_waiting(batch.collection, resource_id)
        if whole_collection:
            for resource_id in list(collection.queued):
                collection.failed[resource_id] = reason
                self._release_waiting(batch.collection, resource_id)
            collection.queued.clear()

    def preload(self, site: Site, known: dict[str, dict[str, Any]]) -> None:
        """Resources an earlier run fetched (``{collection url: {field, resources}}``, as
        :meth:`known_resources` gives them): posts that link to them do not wait for a request."""
        for url, entry in known.items():
            href = parse_api_href(url)
            if href is None or not site.in_scope(url):
                continue
            collection = self._collection((site.over_https(href.root), href.route), entry["field"], site)
            collection.resolved.update({int(resource_id): resource
                                        for resource_id, resource in entry["resources"].items()})

    def known_resources(self, site: Site) -> dict[str, dict[str, Any]]:
        """A site's terms and authors fetched so far, to keep for the next run (media are per post:
        not worth keeping)."""
        return {root.endpoint(route): {"field": collection.field,
                                       "resources": {str(key): value for key, value in collection.resolved.items()}}
                for (root, route), collection in self._collections.items()
                if collection.site is site and collection.field != "featured_media" and collection.resolved}

    def abandon(self, site: Site) -> int:
        """Drops the posts of ``site`` still waiting, when what they wait for will never come (a request dropped
        without an answer): they are not written, and the site's mark holds. How many there were."""
        abandoned: dict[int, _Pending] = {}
        for key, pendings in list(self._waiting.items()):
            if any(pending.site is site for pending in pendings):
                abandoned.update((id(pending), pending) for pending in pendings if pending.site is site)
                if kept := [pending for pending in pendings if pending.site is not site]:
                    self._waiting[key] = kept
                else:
                    del self._waiting[key]
        for key in [key for key, pending in self._revisions_waiting.items() if pending.site is site]:
            pending = self._revisions_waiting.pop(key)
            abandoned[id(pending)] = pending
        for pending in abandoned.values():
            for link in pending.links:
                if _followed(site, link) and link.ids:
                    _unpin(self._collections[link.collection].pinned, link.ids)
        for key, collection in self._collections.items():
            if collection.site is site:  # its batches out were dropped: what another site's posts wait for goes again
                for resource_id in collection.requested:
                    collection.queued[resource_id] = None
                collection.requested.clear()
            for resource_id in [queued for queued in collection.queued if (key, queued) not in self._waiting]:
                del collection.queued[resource_id]  # no post waits for it any more
        self.waiting_by_site[site.origin] = 0
        return len(abandoned)

    def forget(self, site: Site) -> None:
        """Drops what is kept of a site that has ended: its posts still waiting (see :meth:`abandon`; a site that
        ends done has none) and its collections. One that posts of another site still link to (under the same
        host, which both follow) becomes that site's."""
        if self.waiting_by_site[site.origin]:
            self.abandon(site)
        for key, collection in list(self._collections.items()):
            if collection.site is not site and collection.site is not None:
                continue
            if not (collection.pinned or collection.queued or collection.requested):
                del self._collections[key]
                continue
            # Ids queued or asked for have posts waiting; ids only pinned go to the next site that asks.
            collection.site = next((pending.site for (waiting_key, _), pendings in self._waiting.items()
                                    if waiting_key == key for pending in pendings), None)
        del self.waiting_by_site[site.origin]

    # Output -----------------------------------------------------------------------------------------

    def batches(self, flush: bool = False, flush_site: Site | None = None) -> list[Batch]:
        """The requests to make now: every full batch, and the partial ones when ``flush`` (nothing
        else will come), when their ``flush_site`` has no posts pages left, or when too many posts wait."""
        flush = flush or self.waiting_posts >= self.max_waiting_posts
        batches, self._new_batches = self._new_batches, []
        for key, collection in self._collections.items():
            partial_allowed = flush or collection.site is flush_site
            size = collection.size or self.batch_size
            while len(collection.queued) >= size or (collection.queued and partial_allowed):
                ids = tuple(itertools.islice(collection.queued, size))
                for resource_id in ids:
                    del collection.queued[resource_id]
                collection.requested.update(ids)
                assert collection.site is not None  # ids queued have posts waiting, whose site it is (see forget)
                batches.append(Batch(collection.site.origin, self._batch_url(key, collection.field, ids, size),
                                     collection.field, key, ids, per_page=size))
        return batches

    def refused(self, batch: Batch) -> int | None:
        """The site refused the batch's ``per_page`` (400 ``rest_invalid_param``): its ids go back to the front of
        the queue, to be asked for at half that size (or less, as another batch found) from now on. The size it
        goes down to, when this batch lowered it; 0 when another did; None when there is no smaller (it fails)."""
        if batch.collection is None or batch.per_page <= 1:
            return None
        collection = self._collections[batch.collection]
        before = collection.size or self.batch_size
        collection.size = min(before, batch.per_page // 2)
        collection.requested.difference_update(batch.ids)
        collection.queued = {**dict.fromkeys(batch.ids), **collection.queued}
        return collection.size if collection.size < before else 0

    def ready(self) -> list[Post]:
        """The posts completed since the last call."""
        ready, self._ready = self._ready, []
        return ready

    # Internals --------------------------------------------------------------------------------------

    def _collection(self, key: CollectionKey, field_name: str, site: Site) -> _Collection:
        collection = self._collections.get(key)
        if collection is None:
            collection = self._collections[key] = _Collection(field_name, site)
        elif collection.site is None:  # its site has ended (see forget): what failed then may not fail now
            collection.site, collection.closed = site, None
            collection.failed = {resource_id: reason for resource_id, reason in collection.failed.items()
                                 if resource_id in collection.pinned}
            collection.passing.intersection_update(collection.failed)
        return collection

    def _batch_url(self, key: CollectionKey, field_name: str, ids: tuple[int, ...], size: int) -> str:
        root, route = key
        fields = _FIELDS.get(field_name, _TERM_FIELDS)
        params = {"include": ",".join(map(str, ids)), "per_page": size, "_fields": fields}
        return root.endpoint(route, params)

    def _release_waiting(self, key: CollectionKey, resource_id: int) -> None:
        for pending in self._waiting.pop((key, resource_id), ()):
            self._release(pending)

    def _release(self, pending: _Pending) -> None:
        pending.missing -= 1
        if pending.missing == 0:
            self.waiting_by_site[pending.site.origin] -= 1
            self._finish(pending)

    def _finish(self, pending: _Pending) -> None:
        post = pending.post
        for link in pending.links:
            followed = _followed(pending.site, link)
            values = self._link_values(pending, link, followed)
            if followed and link.ids:  # add pinned its ids (a collection with none pinned may be forgotten)
                _unpin(self._collections[link.collection].pinned, link.ids)
            if link.field == "featured_media":
                post.featured_media = values[0] if values else None
            elif link.field == "author":
                post.author = values[0] if values else post.author
            elif link.field == "categories":
                post.categories = values
            elif link.field == "tags":
                post.tags = values
            else:
                post.terms[link.field.removeprefix("terms.")] = values
        post.revisions["items"] = pending.revisions
        self._ready.append(post)

    def _link_values(self, pending: _Pending, link: Link, followed: bool) -> list[dict[str, Any]]:
        post = pending.post
        if link.collection is not None and not followed:
            post.add_error(link.field, link.href, "the link points outside the site; not followed")
            return []
        if link.collection is None:
            if parse_api_href(link.href) is None:
                reason = "the link is not a URL of this site's API; not followed"
            else:
                reason = "the link does not point at this resource (WordPress points a deleted resource at the API root)"
            if link.ids:
                post.add_error(link.field, link.href, reason)
            return []
        if not link.ids:
            return []
        collection = self._collections[link.collection]
        values = []
        for resource_id in link.ids:
            if resource_id in collection.resolved:
                values.append(collection.resolved[resource_id])
            else:
                reason = collection.closed or collection.failed.get(resource_id, "not fetched")
                passing = resource_id in collection.passing
                post.add_error(link.field, link.href, f"{link.field} {resource_id}: {reason}", retry=passing)
                if passing:
                    pending.site.retry_posts.add(post.id)
        return values


def _followed(site: Site, link: Link) -> bool:
    """Whether the assembler fetches, and pins while posts wait, what ``link`` names: a collection of the
    site's own API."""
    return link.collection is not None and site.in_scope(link.collection[0].base)


def _forget_oldest(entries: dict[int, Any], pinned: Counter[int], keep: int) -> None:
    for resource_id in list(itertools.islice(entries, max(0, len(entries) - keep))):
        if not pinned[resource_id]:
            del entries[resource_id]


def build_post(site: Site, raw: dict[str, Any], crawled_at: str) -> Post:
    """A post as the API listed it, before its linked resources and its cleaning. ``title``,
    ``excerpt_text`` and ``content_html`` hold WordPress's rendered HTML until the cleaning pipeline."""
    content = raw.get("content") if isinstance(raw.get("content"), dict) else {}
    links = raw.get("_links") if isinstance(raw.get("_links"), dict) else {}
    self_link = first_href(links, "self") or {}
    revisions = post_revisions(raw)
    author_id = _int_or_none(raw.get("author"))
    post = Post(
        site=site.key,
        id=raw["id"],
        url=_text_or_none(raw.get("link")),
        api_url=_text_or_none(self_link.get("href")),
        slug=_text_or_none(raw.get("slug")),
        status=_text_or_none(raw.get("status")),
        type=_text_or_none(raw.get("type")),
        format=_text_or_none(raw.get("format")),
        sticky=raw.get("sticky") is True,
        protected=content.get("protected") is True,
        title=_rendered(raw.get("title")),
        date=local_moment(raw.get("date")),
        date_gmt=gmt(raw.get("date_gmt")),
        modified=local_moment(raw.get("modified")),
        modified_gmt=gmt(raw.get("modified_gmt")),
        # Filled in by the assembler; these stand when the link is missing altogether.
        author={"id": author_id, "name": public_author_name(raw), "slug": None} if author_id else None,
        excerpt_text=_rendered(raw.get("excerpt")),
        content_html=_rendered(content),
        revisions={"count": revisions.count, "latest_id": revisions.latest_id, "items": None},
        crawled_at=crawled_at,
    )
    post.language = wordpress_locale(raw)
    for name in ("date", "date_gmt", "modified", "modified_gmt"):
        if raw.get(name) is not None and getattr(post, name) is None:
            post.add_error(name, post.api_url or "", f"not a date: {str(raw[name])[:60]!r}")
    return post


def wordpress_locale(raw: dict[str, Any]) -> str | None:
    """The post's locale as WordPress plugins state it (Yoast's ``og_locale``, Polylang's ``lang``); the
    cleaning pipeline prefers a ``lang`` on the content and normalizes either to BCP 47."""
    yoast = raw.get("yoast_head_json") if isinstance(raw.get("yoast_head_json"), dict) else {}
    for value in (yoast.get("og_locale"), raw.get("lang")):
        if isinstance(value, str) and value.strip():
            return value.strip()
    return None


def public_author_name(raw: dict[str, Any]) -> str | None:
    """The author's name from what the post itself carries, for sites that close ``/wp/v2/users``:
    the embedded author (``_embed``), else Yoast's metadata (``yoast_head_json.author``)."""
    embedded = raw.get("_embedded") if isinstance(raw.get("_embedded"), dict) else {}
    authors = embedded.get("author")
    if isinstance(authors, list) and authors and isinstance(authors[0], dict):
        name = authors[0].get("name")
        if isinstance(name, str) and name.strip():
            return inline_text(name)
    yoast = raw.get("yoast_head_json") if isinstance(raw.get("yoast_head_json"), dict) else {}
    name = yoast.get("author")
    return inline_text(name) if isinstance(name, str) and name.strip() else None


def _media(resource: dict[str, Any]) -> dict[str, Any]:
    details = resource.get("media_details") if isinstance(resource.get("media_details"), dict) else {}
    return {
        "id": resource["id"],
        "url": _text_or_none(resource.get("source_url")),
        "alt": _text_or_none(resource.get("alt_text")),
        "caption": inline_text(_rendered(resource.get("caption"))) or None,
        "mime_type": _text_or_none(resource.get("mime_type")),
        "width": _int_or_none(details.get("width")),
        "height": _int_or_none(details.get("height")),
    }


def _user(resource: dict[str, Any]) -> dict[str, Any]:
    return {"id": resource["id"], "name": inline_text(_rendered(resource.get("name"))) or None,
            "slug": _text_or_none(resource.get("slug"))}


def _category(resource: dict[str, Any]) -> dict[str, Any]:
    return {**_term(resource), "parent": _int_or_none(resource.get("parent")) or 0}


def _term(resource: dict[str, Any]) -> dict[str, Any]:
    return {"id": resource["id"], "name": inline_text(_rendered(resource.get("name"))),
            "slug": _text_or_none(resource.get("slug"))}


def _revision(resource: dict[str, Any]) -> dict[str, Any]:
    # title and content_text hold rendered HTML until the cleaning pipeline turns them into text.
    return {
        "id": _int_or_none(resource.get("id")),
        "date_gmt": gmt(resource.get("date_gmt")),
        "modified_gmt": gmt(resource.get("modified_gmt")),
        "author": _int_or_none(resource.get("author")),
        "title": _rendered(resource.get("title")),
        "content_text": _rendered(resource.get("content")),
    }


_SUMMARIES = {"featured_media": _media, "author": _user, "categories": _category}


_LOCAL_MOMENT = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$")


def _unpin(pinned: Counter[int], ids: tuple[int, ...]) -> None:
    """Takes one post's pins of ``ids`` off (Counter.subtract and a second pass to drop zeros cost 5% of
    assembling)."""
    for resource_id in ids:
        if (count := pinned[resource_id] - 1) > 0:
            pinned[resource_id] = count
        else:
            pinned.pop(resource_id, None)


def gmt(value: object) -> str | None:
    """WordPress's ``*_gmt`` dates carry no offset; ours say so with ``Z``. A value with an offset is
    converted to UTC; anything that is not a date is None.

    >>> gmt("2022-01-03T16:25:57"), gmt("2024-01-01T02:00:00+02:00"), gmt("yesterday")
    ('2022-01-03T16:25:57Z', '2024-01-01T00:00:00Z', None)
    >>> gmt("9999-12-31T23:00:00-05:00")  # past the last moment Python's dates hold, once in UTC
    >>> gmt("2024-02-30T10:00:00")  # no such day
    """
    if not isinstance(value, str):
        return None
    if _LOCAL_MOMENT.match(value):
        try:
            datetime.fromisoformat(value)  # a day that exists (not February 30th): it may become the site's mark
        except ValueError:
            return None
        return value + "Z"
    try:
        return utc_text(parse_utc(value))
    except (ValueError, OverflowError):
        return None


def local_moment(value: object) -> str | None:
    """A site-time date as WordPress gives it (``2022-01-03T12:25:57``), else None."""
    return value if isinstance(value, str) and _LOCAL_MOMENT.match(value) else None


def _rendered(value: object) -> str:
    if isinstance(value, dict):
        value = value.get("rendered")
    return value if isinstance(value, str) else ""


def _text_or_none(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _int_or_none(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return None
