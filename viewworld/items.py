"""The items a crawl yields. Each is one JSON Lines record; ``viewworld/schemas/post.schema.json``
describes them and the tests validate every output line against it.

A :class:`Tombstone` says a post written before is gone; ``viewworld/schemas/tombstone.schema.json``
describes it.

A :class:`Post` leaves the spider with WordPress's rendered HTML in ``title``, ``excerpt_text`` and
``content_html``; the cleaning pipeline turns those into text and sanitized HTML and fills the
fields derived from the content (``content_text``, ``links``, ``images``, ``embeds``, ``word_count``,
``reading_time_minutes``, ``language``, and ``content_markdown`` when ``CONTENT_MARKDOWN`` is on). The
spider may set ``language`` to what WordPress says (a Yoast ``og_locale``, Polylang's ``lang``); the
pipeline keeps it when the markup says nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Post:
    site: str
    id: int
    url: str | None
    api_url: str | None
    slug: str | None
    status: str | None
    type: str | None
    format: str | None
    sticky: bool
    protected: bool
    title: str
    date: str | None
    date_gmt: str | None
    modified: str | None
    modified_gmt: str | None
    author: dict[str, Any] | None
    categories: list[dict[str, Any]] = field(default_factory=list)
    tags: list[dict[str, Any]] = field(default_factory=list)
    terms: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    featured_media: dict[str, Any] | None = None
    excerpt_text: str = ""
    content_html: str = ""
    content_text: str = ""
    links: list[dict[str, Any]] = field(default_factory=list)
    images: list[dict[str, Any]] = field(default_factory=list)
    embeds: list[dict[str, Any]] = field(default_factory=list)
    word_count: int = 0
    reading_time_minutes: int = 0
    language: str | None = None
    content_markdown: str | None = None
    revisions: dict[str, Any] = field(default_factory=dict)
    errors: list[dict[str, str]] = field(default_factory=list)
    crawled_at: str = ""

    def add_error(self, field_name: str, url: str, reason: str, retry: bool = False) -> None:
        """``retry``: the failure may pass (a 5xx, a timeout): a later run writes the post again, whole."""
        self.errors.append({"field": field_name, "url": url, "reason": reason, **({"retry": True} if retry else {})})


@dataclass
class Tombstone:
    """A post written by an earlier run that is no longer public: deleted, trashed or made private."""

    site: str
    id: int
    deleted: bool = True
    detected_at: str = ""
