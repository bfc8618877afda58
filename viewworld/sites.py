"""A site being crawled: its address, its scope, its API root and how far its crawl has got."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

from viewworld.state import SiteState

if TYPE_CHECKING:
    from viewworld.arguments import SiteOptions
    from viewworld.credentials import Credentials
    from viewworld.wordpress import ApiRoot, Link

_DEFAULT_PORTS = {"http": 80, "https": 443}


# What a path segment keeps in a site's name; anything else becomes "_".
_UNSAFE_IN_NAME = re.compile(r"[^A-Za-z0-9._-]")


@lru_cache(maxsize=1024)  # pure, and asked for with every post
def site_key(url: str) -> str:
    """The name a site's output, state and records go under: its host, with ``_port`` when the port is
    not the default, and ``~`` and each segment of its path when it is given with a path (a multisite's
    ``/en`` and ``/fr`` are two sites). A name is one file name: no ``/``, no ``..``.

    >>> site_key("https://www.viewworld.org")
    'www.viewworld.org'
    >>> site_key("http://127.0.0.1:8080/news")
    '127.0.0.1_8080~news'
    >>> site_key("https://example.org/../world/fr-ca/%C3%A9t%C3%A9")
    'example.org~world~fr-ca~_C3_A9t_C3_A9'
    """
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port and parts.port != _DEFAULT_PORTS.get(parts.scheme):
        host = f"{host}_{parts.port}"
    segments = [_UNSAFE_IN_NAME.sub("_", segment) for segment in parts.path.split("/")
                if segment not in ("", ".", "..")]
    return "~".join([host, *segments])


def _bare_host(host: str) -> str:
    return host[4:] if host.startswith("www.") else host


@lru_cache(maxsize=4096)  # pure, and asked for the same few pairs (a site and its API root) per post
def same_site(url: str, other: str) -> bool:
    """Whether two URLs belong to one site: the same host give or take ``www.``, the same port
    (a default port counts as the scheme's), any scheme.

    >>> same_site("http://viewworld.org/", "https://www.viewworld.org/wp-json/")
    True
    >>> same_site("https://www.viewworld.org/", "https://cdn.example.com/")
    False
    >>> same_site("http://127.0.0.1:8080/", "http://127.0.0.1:8081/")
    False
    >>> same_site("https://www.viewworld.org/", "https://www.viewworld.org:99999/wp-json/wp/v2/media/7")
    False
    """
    try:  # a link in a post is anything a plugin wrote: a port past 65535, a bracket left open
        first, second = urlsplit(url), urlsplit(other)
        if first.scheme not in _DEFAULT_PORTS or second.scheme not in _DEFAULT_PORTS:
            return False
        if _bare_host(first.hostname or "") != _bare_host(second.hostname or ""):
            return False
        first_port = first.port or _DEFAULT_PORTS[first.scheme]
        second_port = second.port or _DEFAULT_PORTS[second.scheme]
    except ValueError:
        return False
    # http -> https redirects change the default port along with the scheme.
    default_ports = set(_DEFAULT_PORTS.values())
    return first_port == second_port or (first_port in default_ports and second_port in default_ports)


FULL = "full"
INCREMENTAL = "incremental"
# Runs that write a post lacking a linked resource for a reason that may pass, before it stays so.
RETRY_RUNS = 3
ONE_OFF = "one-off"
"""A crawl limited by ``since``, ``until`` or ``max_posts``: it neither reads nor advances the state."""
LOCKED = "locked by another run"
"""The failure of a site whose lock another run (or cluster worker) holds."""


@dataclass
class Site:
    url: str
    """The base URL, no trailing slash; after the home page's redirects, the final address."""
    origin: str = ""
    """The URL as given; it names the site for the whole crawl (requests, state, lock), whatever its redirects."""
    credentials: Credentials | None = None
    options: SiteOptions | None = None
    """What a cluster's claim of the site asked (``full``, ``sweep``, ``per_page``); None: the arguments'."""
    api_root: ApiRoot | None = None
    state: SiteState | None = None
    mode: str = FULL
    per_page: int = 100
    """Posts a page: the argument, halved for as long as the site refuses it."""
    per_page_found: int | None = None
    """The page size this run found the site to allow, below what was asked (kept in the state)."""
    sweep: bool = False
    """Whether this run lists every public id to find deleted posts (and posts a walk missed)."""
    rewrite: bool = False
    """Write every post again (``-a full=1``), even one already written at its current version."""
    root_remembered: bool = False
    total: int | None = None
    """``X-WP-Total`` of the first posts page, when the site sends it."""
    totals: set[int] = field(default_factory=set)
    """``X-WP-Total`` of every posts page: more than one value means posts came or went mid-walk."""
    pages: int = 0
    pages_requested: int = 0
    """The highest posts page asked for so far (some go with page 1, the rest a few at a time)."""
    last_page: int = 0
    """The last posts page to walk as far as the pages have told (page 1's ``X-WP-TotalPages``, else the
    page after each full one)."""
    posts_fields: str | None = None
    """``_fields`` for its posts pages, once a post has shown its taxonomies; "" once they proved unusable."""
    links_template: dict[str, Any] | None = None
    """With ``REVISION_COUNTS`` off, the ``_links`` of the post ``posts_fields`` came from: the posts of the
    pages asked for with them come without ``_links``, and get these, pointed at their ids."""
    pages_in_flight: int = 0
    pages_lost: int = 0
    post_ids: set[int] = field(default_factory=set)
    """Ids seen in this run's walk (written, or unchanged since the last run)."""
    unchanged: int = 0
    newest: str | None = None
    """The newest ``modified_gmt`` seen in the walk."""
    walk_started: str | None = None
    """The server's clock (``Date``) when it answered page 1 of the walk: the mark never passes it, since a post
    edited after its page was fetched, while a later page still was, shows in no page of this walk."""
    listed: dict[int, str | None] | None = None
    """Ids (and ``modified_gmt`` where asked) of a listing: the reconciliation or deletion sweep."""
    listing_in_flight: int = 0
    listing_lost: bool = False
    listings: dict[str, set[int]] = field(default_factory=dict)
    """Per listing asked for (``all``, ``walk``, ``published``): the ``X-WP-Total`` its pages told."""
    listing_pages: dict[str, tuple[int, int]] = field(default_factory=dict)
    """Per listing: (the highest page asked for, the last page its pages told of)."""
    written: dict[int, str] = field(default_factory=dict)
    """Posts whose line is written: id -> ``modified_gmt``."""
    tombstones: list[int] = field(default_factory=list)
    """Ids of the tombstones whose line is written: only these leave the state (one a pipeline failed on is
    said again by the next sweep)."""
    batches_in_flight: int = 0
    """``include=`` batches asked for as this site's (some may be for another site's posts: see assembly)."""
    items_failed: int = 0
    """Posts and tombstones a pipeline failed on: not written, so the mark holds."""
    retry_posts: set[int] = field(default_factory=set)
    """Posts that lack a linked resource (media, terms, author, revisions) whose request failed for a reason that
    may pass (a 5xx, a timeout, a 200 that is no JSON): written with the error, and kept in the state's ``retry``
    for the next runs to fetch again by id (see :meth:`next_state`)."""
    retries_given_up: int = 0
    """Posts written so for the ``RETRY_RUNS``-th run: they stay as written."""
    items_pending: int = 0
    """Posts and tombstones handed to the item pipelines and not yet written."""
    failure: str | None = None
    """Why the site could not be crawled at all, in one line; None while it can."""
    started: float | None = None
    """When its crawl started (``time.monotonic()``): a site may wait for its turn, or be a later claim."""

    def __post_init__(self) -> None:
        self.origin = self.origin or self.url

    @property
    def key(self) -> str:
        return site_key(self.url)

    @property
    def state_key(self) -> str:
        return site_key(self.origin)

    def output_keys(self) -> list[str]:
        """Where its runs' files may be: under the key it was given as, the one it is known by, and
        either with or without ``www.`` (a run killed before it saved its state knew it by its redirect).

        >>> Site("https://www.viewworld.org", origin="http://viewworld.org").output_keys()
        ['viewworld.org', 'www.viewworld.org']
        """
        keys = {self.state_key, self.key}
        return sorted(keys | {key[4:] if key.startswith("www.") else f"www.{key}" for key in keys})

    def in_scope(self, url: str) -> bool:
        return same_site(self.url, url)

    def use_root(self, root: ApiRoot) -> None:
        """Takes ``root`` as its API root (over https, see :meth:`over_https`), and the root's scheme and host as
        its own: a site is known by that address in every run, those that remember the root and skip the home
        page too."""
        self.api_root = root = self.over_https(root)
        self.adopt(root.url)

    def over_https(self, root: ApiRoot) -> ApiRoot:
        """``root`` over https when it is this site's, written with http, and the site is crawled over https: a
        WordPress behind a TLS proxy that believes it is served over http writes every URL (its API root,
        ``_links``) with http, and those are asked for over TLS, which the site serves, so that neither its
        answers nor a password travel in clear. A site whose home page redirects to http is crawled over http in
        that run (the site's own word, over TLS); a later run, which starts from the root it remembers, asks over
        https and follows the site's redirects.

        >>> from viewworld.wordpress import ApiRoot
        >>> site = Site("https://example.org", "https://example.org")
        >>> site.over_https(ApiRoot.from_url("http://www.example.org:80/wp-json/")).base
        'https://www.example.org/wp-json/'
        >>> site.over_https(ApiRoot.from_url("http://cdn.example.net/wp-json/")).base
        'http://cdn.example.net/wp-json/'
        >>> Site("http://example.org").over_https(ApiRoot.from_url("http://example.org/wp-json/")).base
        'http://example.org/wp-json/'
        >>> site.over_https(ApiRoot.from_url("HTTP://Example.org:0080/index.php?rest_route=/")).base
        'https://example.org/index.php'
        >>> Site("https://[::1]:8443").over_https(ApiRoot.from_url("http://[::1]:8443/wp-json/")).base
        'https://[::1]:8443/wp-json/'
        """
        if not root.base.startswith("http://") or not self.url.startswith("https://") or not self.in_scope(root.base):
            return root
        parts = urlsplit(root.base)
        if "@" in parts.netloc or parts.hostname is None:
            return root
        # In scope: the site's host (or its www twin) at the site's own port, or both at their scheme's default.
        host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
        netloc = host if parts.port in (None, 80) else f"{host}:{parts.port}"
        return root._replace(base=urlunsplit(("https", netloc, parts.path, parts.query, "")))

    def over_https_links(self, links: list[Link]) -> list[Link]:
        """``links`` with each collection of this site's written with http asked for over https (see
        :meth:`over_https`); the same list when there is none (nearly always: checked in a few string tests)."""
        if not self.url.startswith("https://") or not any(
                link.collection is not None and link.collection[0].base.startswith("http://") for link in links):
            return links
        return [link if link.collection is None else
                link._replace(collection=(self.over_https(link.collection[0]), link.collection[1])) for link in links]

    def lower_page_size(self, size: int) -> None:
        """The site was found to allow ``size`` posts a page, below what was asked: used from now on, and kept."""
        self.per_page = self.per_page_found = size

    def credentials_go_to(self, url: str) -> bool:
        """Whether a request to ``url`` may carry the site's application password: only to its API root's
        scheme and host, and only over https unless the site was given as http (a root advertised as http
        behind a TLS proxy, or a redirect to http, would send it in clear).

        >>> from viewworld.wordpress import ApiRoot
        >>> site = Site("https://example.org", "https://example.org")
        >>> site.use_root(ApiRoot.from_url("https://example.org/wp-json/"))
        >>> [site.credentials_go_to(url) for url in ("https://example.org/wp-json/wp/v2/users/me",
        ...     "http://example.org/wp-json/wp/v2/users/me", "https://cdn.example.org/wp-json/")]
        [True, False, False]
        """
        if self.api_root is None:
            return False
        target, root = urlsplit(url), urlsplit(self.api_root.base)
        secure_enough = target.scheme == "https" or urlsplit(self.origin or self.url).scheme == "http"
        return secure_enough and (target.scheme, target.netloc) == (root.scheme, root.netloc)

    def adopt(self, final_url: str) -> None:
        """Takes the scheme and host the home page redirected to (http to https, ``www.`` added or
        dropped); the path stays, since a redirect to ``/en/`` does not move the API."""
        final, current = urlsplit(final_url), urlsplit(self.url)
        self.url = f"{final.scheme}://{final.netloc}{current.path}"

    # The walk ---------------------------------------------------------------------------------------

    def posts_order(self) -> dict[str, str]:
        """Incremental runs ask for what changed, oldest change first; other runs walk ids, newest
        first: ids never tie, so no post can straddle two pages."""
        if self.mode == INCREMENTAL:
            return {"orderby": "modified", "order": "asc"}
        return {"orderby": "id", "order": "desc"}

    def posts_by_id(self, ids: list[int]) -> dict[str, object]:
        """The query of a posts request for ``ids`` (at most ``per_page`` of them), whatever their order."""
        return {"include": ",".join(map(str, ids)), "per_page": self.per_page, "orderby": "id"}

    def accept(self, post_id: int, modified_gmt: str | None, max_posts: int | None) -> bool:
        """Whether a listed post is to be assembled and written: once per run, and only when its
        ``modified_gmt`` differs from the version written before (by an earlier run, or by a dead run
        whose ``.part`` file this run recovered: the first crawl of a site killed halfway is finished by
        the next run without writing the first half again), unless every post is to be written again."""
        if post_id in self.post_ids or (max_posts and len(self.post_ids) >= max_posts):
            return False
        self.post_ids.add(post_id)
        if modified_gmt and (self.newest is None or modified_gmt > self.newest):
            self.newest = modified_gmt
        # Without a usable modified_gmt a post cannot be known unchanged: it is written.
        if (not self.rewrite and modified_gmt is not None and self.state is not None
                and self.state.posts.get(post_id) == modified_gmt and post_id not in self.state.retry):
            self.unchanged += 1
            return False
        return True

    @property
    def walk_is_consistent(self) -> bool:
        """Whether the offset pages can be trusted to have shown every post: the count did not move
        while they were fetched and matches what was seen. A one-page walk can miss a post only when its
        count says so."""
        if self.pages <= 1 and not self.pages_lost:
            # Unless the count says otherwise: a post trashed after page 1 turns the page after it into a
            # page past the end, and the post it pushed onto page 1 was never seen.
            return self.total is None or self.total == len(self.post_ids)
        return len(self.totals) == 1 and self.total == len(self.post_ids) and self.mode != INCREMENTAL

    @property
    def listing_moved(self) -> bool:
        """Whether an id listing's count moved while its offset pages were fetched: a post deleted meanwhile
        pushes one that is still public off the pages. (A count that does not match the ids listed is no
        sign: some plugins hide posts WordPress counts.)"""
        return any(len(totals) > 1 for totals in self.listings.values())

    def missing_from_walk(self, among: dict[int, str | None] | None = None) -> list[int]:
        """Listed posts (``among`` them, if given) the walk did not show (page shifts), or that changed
        since it showed them."""
        assert self.listed is not None
        known = self.state.posts if self.state is not None else {}
        return [post_id for post_id, modified in (self.listed if among is None else among).items()
                if post_id not in self.post_ids and (modified is None or known.get(post_id) != modified)]

    def deleted(self) -> list[int]:
        """Posts written in earlier runs that are no longer public (deleted, trashed, made private)."""
        if self.state is None or self.listed is None or self.listing_lost or self.listing_moved:
            return []
        return sorted(set(self.state.posts) - set(self.listed) - self.post_ids)

    # After the run ----------------------------------------------------------------------------------

    @property
    def in_flight(self) -> int:
        """Its posts pages, id listing pages and ``include=`` batches asked for and not answered yet."""
        return self.pages_in_flight + self.listing_in_flight + self.batches_in_flight

    def forget_posts(self) -> None:
        """Drops the ids, the state and the credentials the crawl of the site needed once it is over (a cluster
        worker that crawls thousands of sites keeps only what its summary says of each, and no secret)."""
        self.state, self.listed, self.credentials = None, None, None
        self.post_ids, self.written, self.tombstones, self.retry_posts = set(), {}, [], set()
        self.totals, self.listings, self.listing_pages = set(), {}, {}

    @property
    def complete(self) -> bool:
        """Whether every post the site listed has been durably written or was already: nothing failed, the walk
        reached its end (not cut short by an error in a callback), and nothing asked for is unanswered (a request
        a middleware dropped without a word)."""
        return (self.failure is None and not self.pages_lost and not self.listing_lost and not self.items_failed
                and self.listed is not None and self.pages_in_flight == 0 and self.listing_in_flight == 0)

    def next_retry(self, retry: dict[int, int]) -> dict[int, int]:
        """The posts to fetch again by id next run: those written this run without a linked resource that may come
        next time (for at most ``RETRY_RUNS`` runs), and those of before that this run did not write (a post
        written whole, or gone, leaves the list)."""
        kept = {post_id: runs for post_id, runs in retry.items()
                if post_id not in self.written and post_id not in self.tombstones}
        for post_id in self.retry_posts:
            if post_id not in self.written:
                continue
            if (runs := retry.get(post_id, 0) + 1) < RETRY_RUNS:
                kept[post_id] = runs
            else:
                self.retries_given_up += 1
        return kept

    def next_state(self, finished: bool, now: str, written_kept: bool = True, run: str | None = None,
                   output: str | None = None) -> SiteState:
        """The state to keep: what was written is recorded (unless the output failed, ``written_kept``
        false: lines still in a buffer were lost, and the next run recovers what reached the disk);
        the mark advances only when the whole walk was written, so it never passes a post that was not.
        ``last_run`` says what this run (``run``: its id) did, for a monitor that reads the state: whether it
        was complete (the mark moved up to its walk), what it wrote, and to which file (``output``)."""
        state = self.state or SiteState(self.state_key)
        if written_kept:
            state.posts.update(self.written)
            for post_id in self.tombstones:
                state.posts.pop(post_id, None)
            state.retry = self.next_retry(state.retry)
        if self.per_page_found:
            state.per_page = self.per_page_found
        elif self.sweep and self.complete and state.per_page and self.per_page > state.per_page:
            state.per_page = None  # a sweep asked more than the cap kept and found none: it was lifted
        if self.api_root is not None:
            state.api_root = self.api_root.url
        # A listing that moved may have missed a post the walk missed too: its mark and sweep wait for a run
        # whose listing holds still (written posts are recorded all the same).
        complete = finished and self.complete and not self.listing_moved
        if complete:
            newest = min(self.newest, self.walk_started) if self.newest and self.walk_started else self.newest
            if newest and (state.mark is None or newest > state.mark):
                state.mark = newest
            if self.sweep:
                state.last_sweep = now
        state.last_run = {"run": run, "ended_at": now, "mode": self.mode, "complete": complete and written_kept,
                          "written": len(self.written), "deleted": len(self.tombstones),
                          "unchanged": self.unchanged, "output": output}
        return state
