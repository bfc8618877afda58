"""viewworld.stats.CoreStats: Scrapy's core stats, with item_scraped_count left to JsonLinesPipeline when it is last."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from scrapy import Spider, signals
from scrapy.extensions import corestats
from scrapy.utils.test import get_crawler

from viewworld.pipelines import JsonLinesPipeline
from viewworld.stats import CoreStats, counted_by_pipeline, last_pipeline_writes_records

OURS = {"viewworld.pipelines.CleaningPipeline": 300, "viewworld.pipelines.JsonLinesPipeline": 800}


class AfterWriting:
    """A pipeline a user might add after ours: it can still drop an item whose record is written."""

    def process_item(self, item: Any) -> Any:
        return item


class Writing(JsonLinesPipeline):
    pass


@pytest.mark.parametrize(("pipelines", "expected"), [
    (OURS, True),
    ({"tests.test_stats.Writing": 800}, True),  # a subclass counts as well
    (OURS | {"tests.test_stats.AfterWriting": 900}, False),
    (OURS | {"tests.test_stats.AfterWriting": 100}, True),
    (OURS | {"viewworld.pipelines.JsonLinesPipeline": None}, False),  # disabled
    ({}, False),
])
def test_the_pipeline_counts_only_when_it_is_the_last_one(pipelines, expected):
    crawler = get_crawler(Spider, {"ITEM_PIPELINES": pipelines})
    assert last_pipeline_writes_records(crawler.settings) is expected


@pytest.mark.parametrize("last", [True, False])
def test_the_item_scraped_receiver_goes_only_when_the_pipeline_counts(last):
    pipelines = OURS if last else OURS | {"tests.test_stats.AfterWriting": 900}
    crawler = get_crawler(Spider, {"ITEM_PIPELINES": pipelines})
    extension = CoreStats.from_crawler(crawler)
    receivers = crawler.signals.send_catch_log(signal=signals.item_scraped, item={}, response=None, spider=None)
    assert [receiver for receiver, _ in receivers if getattr(receiver, "__self__", None) is extension] == (
        [] if last else [extension.item_scraped])
    assert crawler.signals.send_catch_log(signal=signals.response_received, response=None, request=None,
                                          spider=None)  # the other core stats stay
    assert extension.pipeline_counts_items is last


def test_the_project_runs_this_core_stats_in_place_of_scrapys():
    from scrapy.utils.project import get_project_settings

    extensions = get_project_settings().get_component_priority_dict_with_base("EXTENSIONS")
    assert extensions.get("viewworld.stats.CoreStats") == 0
    assert "scrapy.extensions.corestats.CoreStats" not in extensions


@pytest.mark.parametrize(("extension", "expected"), [
    (CoreStats(None, pipeline_counts_items=True), True),
    (CoreStats(None, pipeline_counts_items=False), False),
    (corestats.CoreStats(None), False),  # Scrapy's own counts from its receiver
])
def test_the_pipeline_counts_when_this_core_stats_says_so(extension, expected):
    crawler = SimpleNamespace(extensions=SimpleNamespace(middlewares=(object(), extension)))
    assert counted_by_pipeline(crawler) is expected
