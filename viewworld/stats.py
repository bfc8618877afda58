"""Scrapy's core stats, with ``item_scraped_count`` counted where the records are written.

Scrapy's ``CoreStats`` counts items from an ``item_scraped`` receiver, and Scrapy delivers that signal
through an asyncio task per receiver and item: ~50 us an item, as much as the rest of Scrapy's handling of an
item (its spider middlewares and pipeline chain), a tenth of the crawler's CPU on a news site. When
``JsonLinesPipeline`` is the last item pipeline, an item is scraped exactly when its record is written, so
this ``CoreStats`` drops its receiver and that pipeline counts. With another pipeline last (one that could
still drop an item), or without ``JsonLinesPipeline``, it is Scrapy's ``CoreStats`` unchanged.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from scrapy import signals
from scrapy.extensions import corestats
from scrapy.utils.conf import build_component_list
from scrapy.utils.misc import load_object

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.settings import BaseSettings
    from scrapy.statscollectors import StatsCollector


class CoreStats(corestats.CoreStats):
    def __init__(self, stats: StatsCollector, pipeline_counts_items: bool = False) -> None:
        super().__init__(stats)
        self.pipeline_counts_items = pipeline_counts_items

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> CoreStats:
        extension = super().from_crawler(crawler)
        extension.pipeline_counts_items = last_pipeline_writes_records(crawler.settings)
        if extension.pipeline_counts_items:
            crawler.signals.disconnect(extension.item_scraped, signal=signals.item_scraped)
        return extension


def last_pipeline_writes_records(settings: BaseSettings) -> bool:
    """Whether the last of the item pipelines ``settings`` enable is a ``JsonLinesPipeline``."""
    from viewworld.pipelines import JsonLinesPipeline  # the pipelines import the cleaning: only when asked

    pipelines = build_component_list(settings.getwithbase("ITEM_PIPELINES"))
    if not pipelines:
        return False
    last = load_object(pipelines[-1])
    return isinstance(last, type) and issubclass(last, JsonLinesPipeline)


def counted_by_pipeline(crawler: Crawler) -> bool:
    """Whether this module's ``CoreStats`` runs in ``crawler`` and left the item count to the last pipeline."""
    return any(isinstance(extension, CoreStats) and extension.pipeline_counts_items
               for extension in crawler.extensions.middlewares)
