"""A minimal Scrapy spider, for comparison: exactly the floor URLs curl fetches, and nothing else.

    python bench/floor_spider.py URLS_FILE STATS_JSON [CONCURRENCY]

URLS_FILE holds one URL a line (robots.txt, the home page, the API index, the posts pages and the `include=`
batches, as bench/run.py gives them to curl). Plain Scrapy with the benchmark's settings (CONCURRENCY requests at a
time, default 4, held by the project's downloader; no delay; AutoThrottle off); each answer's JSON is decoded
(`response.json()`) and dropped: nothing is assembled, cleaned or written. What it takes over curl is Scrapy's own
cost of fetching the floor on this machine, the least any Scrapy crawl of the site can take. The crawl's stats go
to STATS_JSON.
"""

from __future__ import annotations

import sys
from typing import Any

import scrapy

import plain_scrapy


class FloorSpider(scrapy.Spider):
    name = "floor"

    def __init__(self, urls: list[str], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.urls = urls
        self.decoded = 0

    async def start(self):
        for url in self.urls:
            yield scrapy.Request(url, dont_filter=True)

    def parse(self, response: scrapy.http.Response) -> None:
        if response.status == 200 and b"json" in (response.headers.get("Content-Type") or b""):
            response.json()
            self.decoded += 1


def main(argv: list[str]) -> int:
    urls_path, stats_path, *rest = argv
    urls = [line.strip() for line in open(urls_path, encoding="utf-8") if line.strip()]
    concurrency = int(rest[0]) if rest else 4
    settings = {"ROBOTSTXT_OBEY": False,  # robots.txt is one of the URLs, as for curl
                "CONCURRENT_REQUESTS": max(16, concurrency), "CONCURRENT_REQUESTS_PER_DOMAIN": concurrency,
                "USER_AGENT": "viewworld-bench-floor/0.1"}
    return plain_scrapy.run(FloorSpider, settings, stats_path, "decoded", urls=urls)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
