"""The naive way, for comparison: walk the posts pages and follow every `_links` href of every post.

    python bench/naive_spider.py API_ROOT STATS_JSON [MAX_POSTS]

API_ROOT is the REST API root (`http://HOST/wp-json/` or `http://HOST/index.php?rest_route=/`). Plain Scrapy with
the benchmark's politeness settings (4 requests at a time, held by the project's downloader; no delay, AutoThrottle
off, robots.txt obeyed) and its duplicate filter, so each distinct href is fetched once per crawl; nothing is
assembled or cleaned. With MAX_POSTS, only the first ceil(MAX_POSTS/100) posts pages are walked (a sample: the naive
crawl of 5,000 posts takes ~15 minutes here). The crawl's stats go to STATS_JSON.
"""

from __future__ import annotations

import math
import sys
from typing import Any

import scrapy

import plain_scrapy


def endpoint(api_root: str, route: str, query: str) -> str:
    if "rest_route=" in api_root:
        return f"{api_root.rstrip('/')}{route}&{query}"
    return f"{api_root.rstrip('/')}{route}?{query}"


class NaiveSpider(scrapy.Spider):
    name = "naive"

    def __init__(self, api_root: str, max_pages: int = 0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.api_root = api_root
        self.max_pages = max_pages
        self.posts = 0

    def page_url(self, page: int) -> str:
        return endpoint(self.api_root, "/wp/v2/posts", f"per_page=100&page={page}")

    async def start(self):
        yield scrapy.Request(self.page_url(1), callback=self.parse_page, cb_kwargs={"first": True})

    def parse_page(self, response: scrapy.http.Response, first: bool = False):
        if response.status != 200:
            return
        if first:
            pages = int(response.headers.get("X-WP-TotalPages", b"1"))
            for page in range(2, min(pages, self.max_pages or pages) + 1):
                yield scrapy.Request(self.page_url(page), callback=self.parse_page)
        for post in response.json():
            self.posts += 1
            for links in post.get("_links", {}).values():
                for link in links:
                    if "href" in link and not link.get("templated"):
                        yield scrapy.Request(link["href"], callback=self.parse_linked)

    def parse_linked(self, response: scrapy.http.Response) -> None:
        pass


def main(argv: list[str]) -> int:
    api_root, stats_path, *rest = argv
    max_pages = math.ceil(int(rest[0]) / 100) if rest else 0
    return plain_scrapy.run(NaiveSpider, {"USER_AGENT": "viewworld-bench-naive/0.1"}, stats_path, "posts",
                            api_root=api_root, max_pages=max_pages)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
