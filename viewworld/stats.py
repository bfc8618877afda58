"""Scrapy's core stats, with ``item_scraped_count`` counted where the records are written.

Scrapy's ``CoreStats`` counts items from an ``item_scraped`` receiver, and Scrapy delivers that signal
through an asyncio task per receiver and item: ~50 us an item, as much as the rest of Scrapy's handling of an
item (its spider middlewares and pipeline chain), 6-9% of the crawler's CPU on a news site. When a
``JsonLinesPipeline`` is the last item pipeline of the crawl, an item is scraped exactly when that pipeline has
written its record: it takes the count over (:func:`take_item_count`) and this ``CoreStats`` drops its
receiver. With another pipeline last (one that could still drop an item), it is Scrapy's ``CoreStats``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from scrapy import signals
from scrapy.extensions import corestats

if TYPE_CHECKING:
    from scrapy.crawler import Crawler


class CoreStats(corestats.CoreStats):
    pipeline_counts_items = False


def take_item_count(crawler: Crawler, pipeline: Any) -> bool:
    """Whether ``pipeline`` counts ``item_scraped_count`` from now on: True when it is the last of the
    crawl's item pipelines and this module's ``CoreStats`` runs, whose receiver is then disconnected."""
    try:
        pipelines = crawler.engine.scraper.itemproc.middlewares
        extensions = crawler.extensions.middlewares
    except (AttributeError, RuntimeError):  # no engine (a pipeline used alone), or one built otherwise
        return False
    if not pipelines or pipelines[-1] is not pipeline:
        return False
    for extension in extensions:
        if isinstance(extension, CoreStats):
            if not extension.pipeline_counts_items:
                crawler.signals.disconnect(extension.item_scraped, signal=signals.item_scraped)
                extension.pipeline_counts_items = True
            return True
    return False
