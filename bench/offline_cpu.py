"""The crawler's own work on a site, without the network or Scrapy's engine: for comparing two versions.

    .venv/bin/python bench/offline_cpu.py --site http://127.0.0.1:PORT               # CPU a post
    .venv/bin/python bench/offline_cpu.py --site http://127.0.0.1:PORT --profile     # and cProfile's top
    valgrind --tool=callgrind --callgrind-out-file=/dev/null \\
        .venv/bin/python bench/offline_cpu.py --site http://127.0.0.1:PORT           # instructions ("Collected")

The wpposts spider's callbacks and the two item pipelines are fed the site's answers, one request after the
other, from a cache (--cache; an answer missing from it is fetched once, from 127.0.0.1 only): discovery, the
posts pages, the include= batches, cleaning and writing, and the spider's close (its checks, the state saved).
The CPU they take is printed per post. No downloader middleware runs: every answer, whatever its status, goes
to its callback, as a healthy local site's do.

On a shared virtual machine CPU time moves by 10-30% from one minute to the next, more than most changes
to the crawler's code make. The number of instructions callgrind counts for the same cached answers moves
by ~0.05% between runs: run this under callgrind in two worktrees (old and new) and compare.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import cProfile
import hashlib
import os
import pickle
import pstats
import shutil
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

sys.path.insert(0, os.getcwd())  # the worktree it is run from, which may not be this file's
from scrapy import Request  # noqa: E402
from scrapy.http import Headers  # noqa: E402
from scrapy.responsetypes import responsetypes  # noqa: E402
from scrapy.utils.test import get_crawler  # noqa: E402

from viewworld import settings as project_settings  # noqa: E402
from viewworld.collector import GarbageCollection  # noqa: E402
from viewworld.pipelines import CleaningPipeline, JsonLinesPipeline  # noqa: E402
from viewworld.spiders.wpposts import WpPostsSpider  # noqa: E402

# The settings of tests/test_spider_wpposts.py's make_spider, not imported from there: tests/ on the path is the
# measured worktree's, whose make_spider may predate a setting the spider reads now.
SETTINGS = ("ASSEMBLY_MAX_WAITING_POSTS", "INCREMENTAL_OVERLAP", "DELETION_SWEEP_INTERVAL", "POSTS_ONLY_NEEDED_FIELDS",
            "REVISION_COUNTS")


def answer(url: str, cache: Path) -> tuple[int, list[tuple[str, str]], bytes]:
    path = cache / hashlib.sha1(url.encode()).hexdigest()
    if path.exists():
        return pickle.loads(path.read_bytes())
    if not (urlsplit(url).hostname or "").startswith("127."):
        raise SystemExit(f"offline_cpu: {url} is not on 127.0.0.0/8; only a local site is fetched")
    try:
        with urllib.request.urlopen(url, timeout=60) as response:
            result = (response.status, response.getheaders(), response.read())  # repeated headers kept (Link)
    except urllib.error.HTTPError as error:
        result = (error.code, list(error.headers.items()), error.read())
    path.write_bytes(pickle.dumps(result))
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--site", required=True, help="the site's URL, on 127.0.0.1")
    parser.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "viewworld-offline-cpu",
                        help="where answers are kept between runs (default: %(default)s)")
    parser.add_argument("--profile", action="store_true", help="also print cProfile's top 40 by own time")
    arguments = parser.parse_args()
    cache = arguments.cache / hashlib.sha1(arguments.site.encode()).hexdigest()[:12]
    cache.mkdir(parents=True, exist_ok=True)
    workdir = Path(tempfile.mkdtemp(prefix="viewworld-offline-cpu-"))
    try:
        settings = {name: getattr(project_settings, name) for name in SETTINGS if hasattr(project_settings, name)} | {
            "STATE_DIR": str(workdir / "state"), "OUTPUT_DIR": str(workdir / "output"),
            "CONCURRENT_REQUESTS_PER_DOMAIN": 4}
        crawler = get_crawler(WpPostsSpider, settings)
        spider = WpPostsSpider.from_crawler(crawler, site=arguments.site)
        crawler.spider = spider
        cleaning, output = CleaningPipeline.from_crawler(crawler), JsonLinesPipeline.from_crawler(crawler)
        output.open_spider()

        async def first_requests() -> list[Request]:
            return [request async for request in spider.start()]

        queue = collections.deque(asyncio.run(first_requests()))
        GarbageCollection(project_settings.GC_THRESHOLD).engine_started()  # as in a crawl
        profile = cProfile.Profile() if arguments.profile else None
        cpu, posts = 0.0, 0
        while queue:
            request = queue.popleft()
            status, header_list, body = answer(request.url, cache)
            headers = Headers(header_list)
            response_class = responsetypes.from_args(headers=headers, url=request.url, body=body)
            started = time.process_time()
            if profile:
                profile.enable()
            response = response_class(request.url, body=body, status=status, headers=headers, request=request)
            results = list(request.callback(response, **request.cb_kwargs) or ())
            if not queue and not any(isinstance(result, Request) for result in results):
                results += spider.assembled(flush=True)  # what the spider does when the engine goes idle
            for result in results:
                if isinstance(result, Request):
                    queue.append(result)
                else:
                    output.process_item(cleaning.process_item(result))
                    posts += 1
            if profile:
                profile.disable()
            cpu += time.process_time() - started
        started = time.process_time()
        spider.closed("finished")  # its checks of the walk, and the state saved
        cpu += time.process_time() - started
        output.close_spider()
        print(f"{posts} posts, {cpu:.3f} s of CPU, {cpu / max(posts, 1) * 1e6:.1f} us a post")
        if profile:
            pstats.Stats(profile).sort_stats("tottime").print_stats(40)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
