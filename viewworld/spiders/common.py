"""Small readings of Scrapy responses and values that the spider's phases share."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from scrapy.exceptions import DownloadCancelledError
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.internet.defer import CancelledError
from twisted.internet.error import TimeoutError as TwistedTimeoutError

from viewworld.state import utc_text
from viewworld.wordpress import error_from_answer

if TYPE_CHECKING:
    from scrapy.http import Response
    from twisted.python.failure import Failure

    from viewworld.wordpress import WordPressError


def utc_now() -> str:
    return utc_text(datetime.now(UTC))


def content_type(response: Response) -> str:
    return (response.headers.get("Content-Type") or b"").decode("latin-1")


def answer_error(response: Response) -> WordPressError:
    """WordPress's error in an answer (its code and message), or what the answer is instead."""
    return error_from_answer(response.status, response.body, content_type(response))


def is_json(response: Response) -> bool:
    """Whether an answer looks like WordPress's JSON (a list, an object or an error object)."""
    return response.status in (200, 400) and response.body.lstrip()[:1] in (b"[", b"{", b"\xef")


def with_int_id(item: object) -> dict[str, Any] | None:
    """A listed item with its id as a positive int (WordPress sends ints; some plugins send digit
    strings); None when it has no usable id.

    >>> with_int_id({"id": "12"})
    {'id': 12}
    >>> with_int_id({"id": None}) is None
    True
    """
    if not isinstance(item, dict):
        return None
    value = item.get("id")
    if isinstance(value, str) and value.strip().isdigit():
        item["id"] = value = int(value)
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return item
    return None


def describe_failure(failure: Failure) -> str:
    """One line for a request that failed for good: WordPress's words for an error answer, what the
    download ran into otherwise."""
    error = failure.value
    if isinstance(error, HttpError):
        response = error.response
        return str(answer_error(response))
    if isinstance(error, (CancelledError, DownloadCancelledError)):
        return "download cancelled: " + (failure.getErrorMessage() or "the answer passed the download max size "
                                         "(DOWNLOAD_MAXSIZE), or was too slow")
    if isinstance(error, TwistedTimeoutError):
        return f"timed out: {failure.getErrorMessage()}"
    message = failure.getErrorMessage()
    if "certificate verify failed" in message or "VerificationError" in message:
        return ("TLS certificate not verified (" + ("certificate verify failed" if "verify failed" in message else
                "it names another host") + "): certificates are checked (DOWNLOAD_VERIFY_CERTIFICATES), as they are "
                "whenever credentials are set")
    name = type(error).__name__
    return f"{name}: {message}" if message and name not in message else (message or name)
