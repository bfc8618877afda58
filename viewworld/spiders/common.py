"""Small readings of Scrapy responses and values that the spider's phases share."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

from viewworld.state import utc_text

if TYPE_CHECKING:
    from scrapy.http import Response


def utc_now() -> str:
    return utc_text(datetime.now(UTC))


def content_type(response: Response) -> str:
    return (response.headers.get("Content-Type") or b"").decode("latin-1")


def is_json(response: Response) -> bool:
    """Whether an answer looks like WordPress's JSON (a list, an object or an error object)."""
    return response.status in (200, 400) and response.body.lstrip()[:1] in (b"[", b"{", b"\xef")


def is_id(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0
