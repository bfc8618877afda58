"""What the server serves: a site's posts, media, terms and users, whether recorded (demo/site) or synthetic.

Posts are kept as compact `PostRow`s for filtering and ordering, and rendered to full JSON objects only when a
page needs them, so a synthetic site of 100,000 posts costs a few rows, not 100,000 dicts.
"""

from __future__ import annotations

import calendar
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

JsonObject = dict[str, Any]


class PostRow(NamedTuple):
    """A post's sortable fields; dates are seconds, the local ones read as if they were UTC."""

    id: int
    date: int
    date_gmt: int
    modified: int
    modified_gmt: int


class Table(Protocol):
    def ids(self) -> Sequence[int]:
        """Every id, in the collection's default order (newest first for media, by name for terms and users)."""

    def get(self, item_id: int) -> JsonObject | None: ...

    def in_order(self, item_ids: Iterable[int]) -> list[int]:
        """Those of the ids that exist, in the default order."""


class PostTable(Protocol):
    rows: Sequence[PostRow]

    def get(self, post_id: int) -> JsonObject | None: ...

    def title(self, post_id: int) -> str: ...

    def author(self, post_id: int) -> int: ...

    def terms(self, post_id: int, taxonomy: str) -> list[int]:
        """The post's category (`category`) or tag (`post_tag`) ids."""


class MediaTable(Table, Protocol):
    def attached_to(self, post_id: int) -> list[int]: ...


@dataclass
class Site:
    name: str
    description: str
    origin: str
    gmt_offset: str
    posts: PostTable
    media: MediaTable
    categories: Table
    tags: Table
    users: Table
    # Drafts, private and trashed posts: they exist, so WordPress answers 401, not 404.
    unpublished_post_ids: frozenset[int] = field(default_factory=frozenset)


def seconds(wordpress_date: str) -> int:
    """`2022-01-03T12:25:57` as seconds since the epoch, the date read as UTC whatever its zone."""
    return calendar.timegm((*map(int, wordpress_date.replace("T", "-").replace(":", "-").split("-")), 0, 0, 0))


class ListTable:
    """A small collection held as the JSON objects WordPress returned."""

    def __init__(self, items: list[JsonObject], order_key: str, newest_first: bool = False) -> None:
        key = (lambda item: (item[order_key], item["id"])) if order_key == "date" else None
        ordered = sorted(items, key=key or (lambda item: (item[order_key].casefold(), item["id"])))
        if newest_first:
            ordered.reverse()
        self._ids = [item["id"] for item in ordered]
        self._by_id = {item["id"]: item for item in items}
        self._position = {item_id: position for position, item_id in enumerate(self._ids)}

    def ids(self) -> Sequence[int]:
        return self._ids

    def get(self, item_id: int) -> JsonObject | None:
        return self._by_id.get(item_id)

    def in_order(self, item_ids: Iterable[int]) -> list[int]:
        return sorted((item_id for item_id in set(item_ids) if item_id in self._position), key=self._position.__getitem__)

    def attached_to(self, post_id: int) -> list[int]:
        return [item_id for item_id in self._ids if self._by_id[item_id].get("post") == post_id]


class RecordedPosts:
    def __init__(self, posts: list[JsonObject]) -> None:
        self._by_id = {post["id"]: post for post in posts}
        self.rows = [
            PostRow(
                post["id"],
                seconds(post["date"]),
                seconds(post["date_gmt"]),
                seconds(post["modified"]),
                seconds(post["modified_gmt"]),
            )
            for post in posts
        ]

    def get(self, post_id: int) -> JsonObject | None:
        return self._by_id.get(post_id)

    def title(self, post_id: int) -> str:
        return self._by_id[post_id]["title"]["rendered"]

    def author(self, post_id: int) -> int:
        return self._by_id[post_id]["author"]

    def terms(self, post_id: int, taxonomy: str) -> list[int]:
        post = self._by_id.get(post_id)
        if post is None:
            return []
        return post["categories" if taxonomy == "category" else "tags"]


def load_site(site_dir: Path) -> Site:
    """Read a recorded site: posts.json, media.json, categories.json, tags.json, users.json and site.json."""

    def read(name: str) -> Any:
        return json.loads((site_dir / name).read_text(encoding="utf-8"))

    info = read("site.json")
    return Site(
        name=info["name"],
        description=info["description"],
        origin=info["url"],
        gmt_offset=str(info.get("gmt_offset", "0")),
        posts=RecordedPosts(read("posts.json")),
        media=ListTable(read("media.json"), "date", newest_first=True),
        categories=ListTable(read("categories.json"), "name"),
        tags=ListTable(read("tags.json"), "name"),
        users=ListTable(read("users.json"), "name"),
        unpublished_post_ids=frozenset(info.get("unpublished_post_ids", [])),
    )
