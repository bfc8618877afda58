"""viewworld.stats: Scrapy's core stats, with item_scraped_count taken over by the last pipeline when it writes."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from scrapy import Spider, signals
from scrapy.extensions import corestats
from scrapy.signalmanager import SignalManager
from scrapy.utils.test import get_crawler

from viewworld.pipelines import JsonLinesPipeline
from viewworld.stats import CoreStats, take_item_count


class Mirror(JsonLinesPipeline):
    """A second writing pipeline, as a user might add after ours."""


def crawl_of(pipelines: tuple[Any, ...], *extension_classes: type) -> tuple[Any, list[Any]]:
    """A crawler as far as take_item_count sees it: its pipelines and extensions, built as Scrapy builds them."""
    crawler = get_crawler(Spider)
    crawler.signals = SignalManager(crawler)
    extensions = [cls.from_crawler(crawler) for cls in extension_classes]
    crawler.engine = SimpleNamespace(scraper=SimpleNamespace(itemproc=SimpleNamespace(middlewares=pipelines)))
    crawler.extensions = SimpleNamespace(middlewares=tuple(extensions))
    return crawler, extensions


def counters(crawler: Any) -> list[Any]:
    """The item_scraped receivers that are core stats."""
    answers = crawler.signals.send_catch_log(signal=signals.item_scraped, item={}, response=None, spider=None)
    return [receiver for receiver, _ in answers if isinstance(getattr(receiver, "__self__", None), corestats.CoreStats)]


def test_the_last_pipeline_takes_the_count_and_the_receiver_goes():
    writer = JsonLinesPipeline(None, None)
    crawler, [stats] = crawl_of((object(), writer), CoreStats)
    assert counters(crawler) == [stats.item_scraped]
    assert take_item_count(crawler, writer) is True
    assert counters(crawler) == []
    assert take_item_count(crawler, writer) is True  # asked again: still this pipeline's, nothing else changes
    assert crawler.signals.send_catch_log(signal=signals.response_received, response=None, request=None,
                                          spider=None)  # the other core stats stay


def test_of_two_writing_pipelines_only_the_last_counts():
    ours, mirror = JsonLinesPipeline(None, None), Mirror(None, None)
    crawler, _ = crawl_of((ours, mirror), CoreStats)
    assert take_item_count(crawler, ours) is False
    assert take_item_count(crawler, mirror) is True
    assert counters(crawler) == []


@pytest.mark.parametrize("extension", [CoreStats, corestats.CoreStats, None])
def test_with_a_pipeline_after_ours_or_scrapys_own_core_stats_the_receiver_counts(extension):
    writer = JsonLinesPipeline(None, None)
    crawler, extensions = crawl_of((writer, object()), *([extension] if extension else []))
    assert take_item_count(crawler, writer) is False
    assert counters(crawler) == [e.item_scraped for e in extensions]
    crawler, extensions = crawl_of((writer,), *([extension] if extension else []))
    assert take_item_count(crawler, writer) is (extension is CoreStats)
    assert counters(crawler) == ([] if extension is CoreStats else [e.item_scraped for e in extensions])


def test_the_project_runs_this_core_stats_in_place_of_scrapys():
    from scrapy.utils.project import get_project_settings

    extensions = get_project_settings().get_component_priority_dict_with_base("EXTENSIONS")
    assert extensions.get("viewworld.stats.CoreStats") == 0
    assert "scrapy.extensions.corestats.CoreStats" not in extensions


def test_a_pipeline_used_outside_a_crawl_counts_nothing():
    assert take_item_count(get_crawler(Spider), JsonLinesPipeline(None, None)) is False
