"""Item pipelines: cleaning the HTML of each post, then writing it as JSON Lines."""

from __future__ import annotations

import importlib.util
import logging
from dataclasses import is_dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from itemadapter import ItemAdapter
from scrapy.exceptions import DropItem
from scrapy.utils.defer import _schedule_coro

from viewworld.cleaning import clean_content, html_to_text, inline_text, normalize_language
from viewworld.items import Post
from viewworld.markdown import html_to_markdown
from viewworld.output import JsonLinesFile, new_run_id, run_stamp
from viewworld.signals import site_finished
from viewworld.stats import take_item_count
from viewworld.text import reading_time_minutes

if TYPE_CHECKING:
    from collections.abc import Callable

    from scrapy.crawler import Crawler
    from scrapy.statscollectors import StatsCollector

logger = logging.getLogger(__name__)


class CleaningPipeline:
    """Turns WordPress's rendered HTML into text and sanitized HTML (see ``viewworld.cleaning``),
    and into Markdown too with ``CONTENT_MARKDOWN`` on (markdownify, about ten times the cost of
    the rest of the cleaning)."""

    def __init__(self, content_markdown: bool = False) -> None:
        self.html_to_markdown: Callable[[str], str] | None = None
        if content_markdown:
            if importlib.util.find_spec("markdownify") is None:
                raise RuntimeError("CONTENT_MARKDOWN needs markdownify: pip install markdownify==1.2.3")
            self.html_to_markdown = html_to_markdown

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> CleaningPipeline:
        return cls(crawler.settings.getbool("CONTENT_MARKDOWN"))

    def process_item(self, item: Any) -> Any:
        if not isinstance(item, Post):
            return item
        cleaned = clean_content(item.content_html, item.url or f"https://{item.site}/")
        item.title = inline_text(item.title)
        item.excerpt_text = html_to_text(item.excerpt_text)
        item.content_html = cleaned.html
        item.content_text = cleaned.text
        item.links = cleaned.links
        item.images = cleaned.images
        item.embeds = cleaned.embeds
        item.word_count = cleaned.word_count
        item.reading_time_minutes = reading_time_minutes(cleaned.word_count)
        # The markup's lang says what this content is in; WordPress's locale (if the spider set it) what the site is.
        item.language = cleaned.language or normalize_language(item.language)
        item.content_markdown = self.html_to_markdown(cleaned.html) if self.html_to_markdown else None
        for revision in item.revisions.get("items") or ():
            revision["title"] = inline_text(revision["title"])
            revision["content_text"] = html_to_text(revision["content_text"])
        return item


def as_record(item: Any) -> dict[str, Any]:
    """The JSON object of an item. Our items are dataclasses of plain JSON values, so their fields are
    the record as they stand (ItemAdapter's deep ``asdict()`` cost ~10% of a crawl's CPU); any other
    item goes through itemadapter."""
    if is_dataclass(item) and not isinstance(item, type):
        return vars(item)
    return ItemAdapter(item).asdict()


class JsonLinesPipeline:
    """Writes each site's items to ``OUTPUT_DIR/<site>/posts-<UTC time>-<run id>.jsonl``, completed when the
    crawl ends, or as soon as the site is done (``viewworld.signals.site_finished``). A site crawled again in the
    same process (a cluster worker's next claim of it) gets a file of its own, with a time and id of its own.

    When the output cannot be written (the directory cannot be made, the disk is full), the crawl
    stops at once: nothing more is fetched that could not be kept, and the run exits 5.

    A spider with an ``item_written(item)`` method is told of each item once its line is written (the
    wpposts spider keeps what a run wrote for its state). A direct call: an ``item_scraped`` receiver
    costs ~50 us an item in Scrapy's signal dispatch. For the same reason, as the last pipeline of the
    crawl it counts ``item_scraped_count`` in place of ``viewworld.stats.CoreStats``."""

    def __init__(self, crawler: Crawler, output_dir: Path) -> None:
        self.crawler = crawler
        self.output_dir = output_dir
        self.run = f"{run_stamp()}-{new_run_id()}"
        self.files: dict[str, JsonLinesFile] = {}
        self.completed: set[str] = set()
        """Sites whose file this run has completed already."""
        self.failed = False
        self.item_written: Callable[[Any], None] | None = None
        self.counts_items = False

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> JsonLinesPipeline:
        pipeline = cls(crawler, Path(crawler.settings["OUTPUT_DIR"]))
        crawler.signals.connect(pipeline.site_finished, signal=site_finished)
        return pipeline

    @property
    def stats(self) -> StatsCollector:
        assert self.crawler.stats is not None
        return self.crawler.stats

    def open_spider(self) -> None:
        self.stats.set_value("viewworld/run", self.run)
        self.item_written = getattr(self.crawler.spider, "item_written", None)
        self.counts_items = take_item_count(self.crawler, self)
        try:
            self.output_dir.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            self.output_failed(self.output_dir, error)

    def process_item(self, item: Any) -> Any:
        if self.failed:
            raise DropItem("the output cannot be written")
        record = as_record(item)
        site = record["site"]
        try:
            output = self.files.get(site)
            if output is None:
                run = f"{run_stamp()}-{new_run_id()}" if site in self.completed else self.run
                self.stats.set_value(f"sites/{site}/output", None)  # an earlier crawl's file; this one's once complete
                output = self.files[site] = JsonLinesFile(self.output_dir / site / f"posts-{run}.jsonl")
            output.write(record)
        except OSError as error:
            self.output_failed(self.output_dir / site, error)
            raise DropItem("the output cannot be written") from None
        self.stats.inc_value(f"sites/{site}/items")
        if self.item_written is not None:
            self.item_written(item)
        if self.counts_items:
            self.stats.inc_value("item_scraped_count")
        return item

    def close_spider(self) -> None:
        for site in list(self.files):
            self.complete(site)

    def site_finished(self, site_key: str) -> None:
        if site_key in self.files and not self.failed:
            self.complete(site_key)

    def complete(self, site: str) -> None:
        output = self.files.pop(site)
        self.completed.add(site)
        try:
            self.stats.set_value(f"sites/{site}/output", str(output.close()))
        except OSError as error:
            self.output_failed(output.part_path, error)

    def output_failed(self, path: Path, error: OSError) -> None:
        if not self.failed:
            logger.error("the output cannot be written to %s: %s; stopping the crawl", path, error.strerror or error)
            self.stats.set_value("viewworld/output_failed", True)
            self.failed = True
            try:
                engine = self.crawler.engine
            except RuntimeError:  # not started yet: the spider finds the flag and crawls nothing
                return
            _schedule_coro(engine.close_spider_async(reason="output_failed"))
