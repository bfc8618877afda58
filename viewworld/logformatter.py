"""Scrapy's log lines, less the one per item when the log is not at DEBUG.

Scrapy makes a DEBUG record of every item (``Scraped from <200 ...>`` and the item itself) and lets the
log handler drop it when ``LOG_LEVEL`` is higher; at thousands of posts that record costs ~2% of a
crawl's CPU. The posts are in the output files; at ``LOG_LEVEL=DEBUG`` they are logged as before.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from scrapy.logformatter import LogFormatter

if TYPE_CHECKING:
    from scrapy import Spider
    from scrapy.crawler import Crawler
    from scrapy.http import Response
    from scrapy.logformatter import LogFormatterResult
    from twisted.python.failure import Failure


class QuietItemsLogFormatter(LogFormatter):
    def __init__(self, items_logged: bool = True) -> None:
        self.items_logged = items_logged

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> QuietItemsLogFormatter:
        return cls(items_logged=is_debug(crawler.settings.get("LOG_LEVEL", "DEBUG")))

    def scraped(self, item: Any, response: Response | Failure | None, spider: Spider) -> LogFormatterResult | None:
        return super().scraped(item, response, spider) if self.items_logged else None


def is_debug(level: int | str) -> bool:
    """Whether a ``LOG_LEVEL`` lets DEBUG records through.

    >>> is_debug("INFO"), is_debug("debug"), is_debug(10), is_debug("NOISY")
    (False, True, True, True)
    """
    number = level if isinstance(level, int) else logging.getLevelName(str(level).upper())
    return not isinstance(number, int) or number <= logging.DEBUG
