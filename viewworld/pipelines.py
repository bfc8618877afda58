"""Item pipelines: cleaning the HTML of each post, then writing it as JSON Lines."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from itemadapter import ItemAdapter

from viewworld.cleaning import clean_content, html_to_text, inline_text
from viewworld.items import Post
from viewworld.output import JsonLinesFile, new_run_id, run_stamp

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.statscollectors import StatsCollector


class CleaningPipeline:
    """Turns WordPress's rendered HTML into text and sanitized HTML (see ``viewworld.cleaning``)."""

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
        for revision in item.revisions.get("items") or ():
            revision["title"] = inline_text(revision["title"])
            revision["content_text"] = html_to_text(revision["content_text"])
        return item


class JsonLinesPipeline:
    """Writes each site's items to ``OUTPUT_DIR/<site>/posts-<UTC time>-<run id>.jsonl``."""

    def __init__(self, output_dir: Path, stats: StatsCollector) -> None:
        self.output_dir = output_dir
        self.stats = stats
        self.run = f"{run_stamp()}-{new_run_id()}"
        self.files: dict[str, JsonLinesFile] = {}

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> JsonLinesPipeline:
        assert crawler.stats is not None
        return cls(Path(crawler.settings.get("OUTPUT_DIR")), crawler.stats)

    def open_spider(self) -> None:
        self.stats.set_value("viewworld/run", self.run)

    def process_item(self, item: Any) -> Any:
        adapter = ItemAdapter(item)
        site = adapter["site"]
        output = self.files.get(site)
        if output is None:
            output = self.files[site] = JsonLinesFile(self.output_dir / site / f"posts-{self.run}.jsonl")
        output.write(adapter.asdict())
        self.stats.inc_value(f"sites/{site}/items")
        return item

    def close_spider(self) -> None:
        for site, output in self.files.items():
            self.stats.set_value(f"sites/{site}/output", str(output.close()))
