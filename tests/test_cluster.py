"""wpposts on scrapy-redis with a real Redis: three workers, two real WordPress sites."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import time
from typing import TYPE_CHECKING

import pytest
import redis
from scrapy_redis.queue import PriorityQueue

from tests.crawling import assert_valid_records, crawl, log_stat, records_of, start_crawl
from tests.test_cron import edit_posts
from tests.wordpress.processes import free_port
from viewworld.sites import Site
from viewworld.spiders.wpposts import WpPostsSpider

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

pytestmark = pytest.mark.wordpress


@pytest.fixture
def redis_url(tmp_path: Path) -> Iterator[str]:
    """A private redis-server on 127.0.0.1 (Debian's package), stopped by its PID."""
    server_binary = shutil.which("redis-server")
    assert server_binary, "redis-server is missing: run scripts/install-system-packages.sh"
    port = free_port()
    server = subprocess.Popen([server_binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                               "--appendonly", "no", "--dir", str(tmp_path)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    client = redis.Redis(host="127.0.0.1", port=port)
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                client.ping()
                break
            except redis.ConnectionError:
                assert time.monotonic() < deadline, "redis-server did not start"
                time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        client.close()
        os.kill(server.pid, signal.SIGTERM)
        server.wait(timeout=10)


def start_worker(output_dir: Path, redis: str, name: str, *arguments: str,
                 settings: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    return start_crawl(*arguments, settings={
        "REDIS_URL": redis, "OUTPUT_DIR": str(output_dir), "CLUSTER_SITES_PER_WORKER": "1",
        "MAX_IDLE_TIME_BEFORE_CLOSE": "3", "CLUSTER_WORKER_TIMEOUT": "8", "LOG_FILE": str(output_dir / f"{name}.log"),
    } | (settings or {}))


def wait_all(workers: list[subprocess.Popen[bytes]], timeout: float = 180) -> list[int]:
    deadline = time.monotonic() + timeout
    try:
        return [worker.wait(timeout=max(1.0, deadline - time.monotonic())) for worker in workers]
    finally:
        for worker in workers:
            if worker.poll() is None:
                os.kill(worker.pid, signal.SIGKILL)
                worker.wait()


def completed_records(output_dir: Path) -> dict[Path, list[dict]]:
    return {path: records_of([path]) for path in output_dir.glob("*/posts-*.jsonl")}


def expected_ids(wordpress_sites) -> dict[str, set[int]]:
    return {f"127.0.0.1_{site.port}": {post["id"] for post in site.truth()["posts"]}
            for site in wordpress_sites.values()}


def test_three_workers_crawl_two_sites_once_each_and_all_exit_0(wordpress_sites, redis_url, tmp_path):
    sites = ",".join(site.url for site in wordpress_sites.values())
    helpers = [start_worker(tmp_path, redis_url, f"helper{number}") for number in (1, 2)]
    time.sleep(1.0)
    # Each site takes a couple of seconds, so that the helpers (who look at the queue every second)
    # take the second site while the starter crawls the first.
    starter = start_worker(tmp_path, redis_url, "starter", f"site={sites}", settings={"DOWNLOAD_DELAY": "0.2"})
    assert wait_all([starter, *helpers]) == [0, 0, 0]

    files = completed_records(tmp_path)
    assert not list(tmp_path.glob("*/*.part"))
    workers_with_output = {path.name.removeprefix("posts-").removesuffix(".jsonl") for path in files}
    assert len(workers_with_output) == 2, "two sites, one site per worker: two workers wrote"
    seen: dict[str, list[int]] = {}
    for path, records in files.items():
        assert_valid_records(records)
        seen.setdefault(path.parent.name, []).extend(record["id"] for record in records)
    for site, ids in expected_ids(wordpress_sites).items():
        assert sorted(seen[site]) == sorted(ids), site  # every post, none twice across workers

    # The state is in Redis: a later crawl of the same sites, by a new worker, is incremental.
    second = start_worker(tmp_path, redis_url, "second", f"site={sites}", settings={"CLUSTER_SITES_PER_WORKER": "2"})
    assert wait_all([second]) == [0]
    log = (tmp_path / "second.log").read_text(encoding="utf-8")
    assert log.count(": incremental crawl") == 2
    assert len(completed_records(tmp_path)) == len(files), "nothing changed: nothing written"


def test_a_worker_killed_mid_crawl_loses_nothing(wordpress_sites, redis_url, tmp_path):
    slow = {"DOWNLOAD_DELAY": "0.15", "CONCURRENT_REQUESTS_PER_DOMAIN": "1",  # long enough to be caught
            "LOG_LEVEL": "DEBUG"}  # the pages asked for, in the logs
    sites = ",".join(site.url for site in wordpress_sites.values())
    workers = {name: start_worker(tmp_path, redis_url, name, *(["site=" + sites, "per_page=50"] if name == "a" else []),
                                  settings=slow) for name in ("a", "b", "c")}
    client = redis.Redis.from_url(redis_url)
    try:
        deadline = time.monotonic() + 60
        victim = None
        while victim is None and time.monotonic() < deadline:
            parts = [path for path in tmp_path.glob("*/*.jsonl.part") if path.stat().st_size]
            inflight = {worker.decode() for worker in client.hvals("viewworld:inflight")}
            pids = {int(worker.split(":")[-2]) for worker in inflight}  # host:pid:random
            victim = next((name for name, worker in workers.items() if worker.pid in pids), None) if parts else None
            time.sleep(0.05)
        assert victim is not None, "no worker was caught mid-crawl"
        claims = [json.loads(options) for options in client.hvals("viewworld:claims")]
        assert claims and all(options["per_page"] == 50 for options in claims), claims
        os.kill(workers[victim].pid, signal.SIGKILL)
        workers[victim].wait()
        restarted = start_worker(tmp_path, redis_url, f"{victim}-restarted", settings=slow)
        others = [worker for name, worker in workers.items() if name != victim]
        assert wait_all([*others, restarted], timeout=240) == [0, 0, 0]
        assert client.hgetall("viewworld:claims") == {} and client.hgetall("viewworld:inflight") == {}
    finally:
        client.close()
        for worker in workers.values():
            if worker.poll() is None:
                os.kill(worker.pid, signal.SIGKILL)
                worker.wait()

    assert not list(tmp_path.glob("*/*.part")), "the dead worker's .part files were completed"
    seen: dict[str, set[int]] = {}
    for path, records in completed_records(tmp_path).items():
        assert_valid_records(records)
        seen.setdefault(path.parent.name, set()).update(record["id"] for record in records)
    assert seen == expected_ids(wordpress_sites)
    # The dead worker's sites went back with their options (viewworld:claims): every walk asked 50 a page.
    logs = "".join(path.read_text(encoding="utf-8") for path in tmp_path.glob("*.log"))
    assert set(re.findall(r"/wp/v2/posts[?&]per_page=(\d+)&page=", logs)) == {"50"}


def enqueue_claim(redis_url: str, site_url: str, **arguments: str) -> None:
    """What a crawl given ``site=`` (and ``arguments``) with ``REDIS_URL`` queues, without a worker of its own."""
    spider = WpPostsSpider(site=site_url, **arguments)
    client = redis.Redis.from_url(redis_url)
    try:
        queue(client, spider).push(spider.claim_request(site_url, spider.arguments.site_options))
    finally:
        client.close()


def queue(client: redis.Redis, spider: WpPostsSpider) -> PriorityQueue:
    return PriorityQueue(client, spider, "viewworld:%(spider)s:sites")


def test_a_worker_hands_each_site_back_as_it_finishes_it_and_crawls_its_next_claim(fresh_site, redis_url, tmp_path):
    """A worker that runs for long (it waits for more claims) ends each site when it is done with it, not when it
    exits: its file completed, its state saved, its lock and in-flight entry released. A second claim of the site
    (the next hour's) is crawled, incrementally, into a file of its own; a third, queued with ``full=1``, is
    crawled in full: a claim's arguments go with it."""
    key = Site(fresh_site.url).state_key
    worker = start_worker(tmp_path, redis_url, "worker", f"site={fresh_site.url}",
                          settings={"MAX_IDLE_TIME_BEFORE_CLOSE": "8"})
    client = redis.Redis.from_url(redis_url)
    try:
        deadline = time.monotonic() + 90
        while not (first_files := completed_records(tmp_path)) and time.monotonic() < deadline:
            assert worker.poll() is None, "the worker ended before its site's file was completed"
            time.sleep(0.05)
        assert "Closing spider" not in (tmp_path / "worker.log").read_text(encoding="utf-8"), \
            "the file was completed only when the worker ended"
        [(first_path, first_records)] = first_files.items()
        assert sorted(record["id"] for record in first_records) == sorted(
            post["id"] for post in fresh_site.truth()["posts"])
        state = json.loads(client.get(f"viewworld:state:{key}"))
        assert state["mark"] and len(state["posts"]) == len(first_records)
        assert not client.exists(f"viewworld:lock:{key}")
        assert client.hgetall("viewworld:inflight") == {}

        changed = first_records[0]["id"]
        edit_posts(fresh_site, [changed])
        enqueue_claim(redis_url, fresh_site.url)
        while len(completed_records(tmp_path)) < 2 and time.monotonic() < deadline:
            assert worker.poll() is None, "the worker ended before the second claim's file was completed"
            time.sleep(0.05)
        enqueue_claim(redis_url, fresh_site.url, full="1")  # its arguments go with the claim
        assert wait_all([worker]) == [0]
        assert not client.exists(f"viewworld:lock:{key}")
    finally:
        client.close()
        if worker.poll() is None:
            os.kill(worker.pid, signal.SIGKILL)
            worker.wait()

    files = completed_records(tmp_path)
    assert files.pop(first_path) == first_records, "the first claim's file stays as it was"
    second_records, third_records = sorted(files.values(), key=len)  # files of one second sort by their run id
    assert [record["id"] for record in second_records] == [changed]
    assert sorted(record["id"] for record in third_records) == sorted(record["id"] for record in first_records), \
        "full=1 went with the third claim: every post written again"
    log = (tmp_path / "worker.log").read_text(encoding="utf-8")
    assert log.count(": full crawl") == 2
    assert log.count(": incremental crawl") == 1
    assert log_stat(log, "robotstxt/request_count") == 3, "each claim reads the site's robots.txt afresh"


def test_a_claim_of_another_spelling_of_a_site_being_crawled_leaves_that_crawls_lock(wordpress_sites, redis_url,
                                                                                     tmp_path):
    """``https://`` and ``http://`` of one site share its lock: the second claim is given up as the same site, and
    handing it back must not release the lock the first still crawls under."""
    site = wordpress_sites["plain"]
    key = Site(site.url).state_key
    other_spelling = site.url.replace("http://", "https://")
    worker = start_worker(tmp_path, redis_url, "worker", f"site={site.url}", settings={
        "CLUSTER_SITES_PER_WORKER": "2", "DOWNLOAD_DELAY": "0.3", "CONCURRENT_REQUESTS_PER_DOMAIN": "1"})
    client = redis.Redis.from_url(redis_url)
    log_path = tmp_path / "worker.log"
    try:
        deadline = time.monotonic() + 60
        while not client.hexists("viewworld:inflight", site.url) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert client.hexists("viewworld:inflight", site.url), "the worker did not crawl the site it was given"
        enqueue_claim(redis_url, other_spelling)
        while f"{other_spelling}: ended (" not in log_path.read_text(encoding="utf-8") \
                and time.monotonic() < deadline:
            time.sleep(0.05)
        log = log_path.read_text(encoding="utf-8")
        assert f"{other_spelling}: cannot be crawled: the same site as {site.url}" in log
        assert f"{site.url}: ended (" not in log, "the first crawl ended before the test could look"
        assert client.get(f"viewworld:lock:{key}") is not None, "the crawl of the site lost its lock"
        assert client.hget("viewworld:inflight", site.url) is not None
        assert wait_all([worker]) == [3]  # a site given up
    finally:
        client.close()
        if worker.poll() is None:
            os.kill(worker.pid, signal.SIGKILL)
            worker.wait()
    assert sorted(record["id"] for record in records_of(list(tmp_path.glob("*/posts-*.jsonl")))) == sorted(
        post["id"] for post in site.truth()["posts"])


def test_a_worker_stopped_with_sigterm_puts_its_unfinished_site_back_in_the_queue(wordpress_sites, redis_url,
                                                                                  tmp_path):
    """SIGTERM (systemd, Scrapyd's cancel) closes a worker before its site is done: its file holds what it wrote,
    and the site goes back to the queue, with the arguments it was claimed with, for the next worker."""
    site = wordpress_sites["plain"]
    slow = {"DOWNLOAD_DELAY": "0.3", "CONCURRENT_REQUESTS_PER_DOMAIN": "1"}  # 77 pages of 3 posts: 20 s and more
    first = start_worker(tmp_path, redis_url, "first", f"site={site.url}", "per_page=3", settings=slow)
    client = redis.Redis.from_url(redis_url)
    try:
        deadline = time.monotonic() + 60
        while not client.hexists("viewworld:inflight", site.url) and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(4)  # a few pages in
        assert client.hexists("viewworld:inflight", site.url), "the worker was not caught mid-crawl"
        os.kill(first.pid, signal.SIGTERM)
        assert wait_all([first], timeout=60) == [1]
        assert client.hgetall("viewworld:inflight") == {}
        assert len(queue(client, WpPostsSpider())) == 1, "one claim, queued once"
        claim = queue(client, WpPostsSpider()).pop()
        assert (claim.meta["site"], claim.meta["options"]["per_page"]) == (site.url, 3)
        queue(client, WpPostsSpider()).push(claim)
        second = start_worker(tmp_path, redis_url, "second", settings={"LOG_LEVEL": "DEBUG"})
        assert wait_all([second]) == [0]
    finally:
        client.close()
        for worker in (first, *(() if "second" not in locals() else (second,))):
            if worker.poll() is None:
                os.kill(worker.pid, signal.SIGKILL)
                worker.wait()
    first_log = (tmp_path / "first.log").read_text(encoding="utf-8")
    assert f"{site.url}: not finished when the crawl closed (shutdown): the site goes back to the queue" in first_log
    ids = [record["id"] for records in completed_records(tmp_path).values() for record in records]
    assert sorted(ids) == sorted(post["id"] for post in site.truth()["posts"]), "nothing lost, nothing twice"
    second_log = (tmp_path / "second.log").read_text(encoding="utf-8")
    assert set(re.findall(r"/wp/v2/posts&per_page=(\d+)&page=", second_log)) == {"3"}


def test_one_off_arguments_are_refused_with_redis_url(tmp_path, unused_port):
    """A claim carries no dates or count: a one-off crawl runs on one machine."""
    result = crawl(tmp_path, f"site=http://127.0.0.1:{unused_port}", "since=2024-01-01",
                   settings={"REDIS_URL": f"redis://127.0.0.1:{unused_port}/0"})
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines()[-1] == (
        "scrapy crawl: argument since cannot be used with REDIS_URL: a cluster's claims carry no dates or count; "
        "crawl one-off on one machine (without REDIS_URL)")


@pytest.mark.parametrize(("url", "code", "said"), [
    ("http://127.0.0.1:6379", 2, "REDIS_URL=http://127.0.0.1:6379: Redis URL must specify one of the following "
                                 "schemes (redis://, rediss://, unix://)"),
    ("redis://:s3cret@127.0.0.1:{port}/0", 3, "REDIS_URL=redis://127.0.0.1:{port}/0: cannot be reached: Error 111 "
                                              "connecting to 127.0.0.1:{port}. Connection refused."),
    ("redis://:s3cret/x@127.0.0.1:{port}/0", 2, "REDIS_URL=redis://127.0.0.1:{port}/0: not a Redis URL"),
    ("redis://127.0.0.1:{port}/0?password=s3cret", 3, "REDIS_URL=redis://127.0.0.1:{port}/0: cannot be reached: "
                                                      "Error 111 connecting to 127.0.0.1:{port}. Connection refused."),
])
def test_a_worker_whose_redis_is_no_url_or_down_says_so_in_one_line(tmp_path, unused_port, url, code, said):
    """Before anything is crawled, and without the password the URL holds."""
    result = crawl(tmp_path, f"site=http://127.0.0.1:{unused_port}",
                   settings={"REDIS_URL": url.format(port=unused_port)})
    assert result.exit_code == code
    assert result.stderr.strip().splitlines()[-1] == f"scrapy crawl: {said.format(port=unused_port)}"
    assert "s3cret" not in result.stderr + result.log
    assert "Crawled" not in result.log


def test_a_worker_that_lost_a_sites_lock_cannot_overwrite_its_state(redis_url):
    """A worker stalled (a VM paused) past CLUSTER_WORKER_TIMEOUT is taken for dead: another worker puts its site
    back in the queue (deleting its lock), and the site is claimed and crawled again. What the stalled worker
    saves when it wakes up is refused, then and after the other worker is done with the site."""
    from viewworld.cluster import PREFIX, LockLost, RedisStateStore
    from viewworld.state import SiteState

    server = redis.Redis.from_url(redis_url)
    stalled, other = RedisStateStore(server, "host:1"), RedisStateStore(server, "host:2")
    try:
        stalled.lock("example.org")
        stalled.save(SiteState("example.org", mark="2024-01-01T00:00:00Z"))
        server.delete(f"{PREFIX}:lock:example.org")  # what recover_dead_workers does
        other.lock("example.org")
        other.save(SiteState("example.org", mark="2024-06-01T00:00:00Z"))
        with pytest.raises(LockLost, match="worker host:2 holds it"):
            stalled.save(SiteState("example.org", mark="2024-01-02T00:00:00Z"))
        other.unlock("example.org")
        with pytest.raises(LockLost, match="it expired"):
            stalled.save(SiteState("example.org", mark="2024-01-02T00:00:00Z"))
        assert other.load("example.org").mark == "2024-06-01T00:00:00Z"
    finally:
        server.close()
