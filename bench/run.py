"""The benchmark: viewworld against the request floor, curl, a minimal Scrapy spider, wpextract and a naive crawl.

    .venv/bin/python bench/run.py            # the full benchmark (~21 min on 2 cores)
    .venv/bin/python bench/run.py --quick    # 2,000 posts, 1 round, no wpextract (~4 min)
    .venv/bin/python bench/run.py --only wordpress-5000 --no-wpextract --no-naive \
        --setting REVISION_COUNTS=False      # the crawl with a setting; curl asks for what it asks for

Scenarios: a real WordPress (tests/wordpress harness: WordPress 6.1, MariaDB, `php -S` with 4 workers, pretty
permalinks so that wpextract, which only knows `/wp-json/`, can crawl it too) with 2,000 and 5,000 posts and a
news site's media library (--media-per-post, default 0.62 images a post, featured images going round it: the
issue's 5,000-post site has 31 media batches in its floor of 84 requests); the
5,000-post site behind bench/latency_proxy.py (100 ms per response); the synthetic WordPress-shaped server
(demo/wpserver.py) with 100,000 posts. Everything talks to 127.0.0.1 only.

Per scenario, N rounds alternate the order of the crawl, curl and the minimal spider (round 1: crawl first, which
gives the distinct ids the floor needs, then curl, then the minimal spider; round 2: the other way round; ...) and
the table shows medians:
- floor: ceil(posts/100) + ceil(distinct media/100) + ceil(distinct categories/100) + ceil(distinct tags/100)
  + ceil(distinct authors/100), the distincts counted in the crawl's own output; the goal is <= 1.1x floor + 3
  (robots.txt, home page, API index);
- curl: the floor URLs plus robots.txt, the home page and the API index, 4 at a time (`curl --parallel
  --parallel-immediate`: 4 connections at once), with the same `_fields` as the crawler's batches: the time the
  server itself needs;
- minimal Scrapy spider (bench/floor_spider.py): the same URLs as curl, at the same concurrency, each JSON answer
  decoded and dropped; `elapsed_time_seconds` from its stats: what Scrapy itself takes to fetch the floor here;
- viewworld: `scrapy crawl wpposts` with DOWNLOAD_DELAY=0, AutoThrottle off, 4 requests at a time, a fresh
  OUTPUT_DIR and STATE_DIR; `elapsed_time_seconds` from its stats, CPU (user+sys) and peak RSS of the process from
  wait4(); "steady" CPU per post is measured inside the crawl by bench/cpu_probe.py, from the first posts page
  (start-up and discovery behind) to the close, over the posts written meanwhile;
- behind latency (the proxy), the crawl and curl run at 4 and at 16 requests at a time;
- viewworld incremental: a second run on the first round's STATE_DIR with nothing changed (goal: <= 3 requests);
- wpextract 1.1.1 (`wpextract download`, its own virtualenv in bench/.venv-wpextract), once, process wall time;
- bench/naive_spider.py (follows every `_links` href of every post), once, on the first --naive-posts posts (default
  500: the whole naive crawl of 5,000 posts takes ~15 minutes here) with its requests, time and CPU scaled to the
  site and marked EXTRAPOLATED in the table; --naive-posts 0 walks the whole site.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import re
import select
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
PYTHON = ROOT / ".venv" / "bin" / "python"
SCRAPY = ROOT / ".venv" / "bin" / "scrapy"
WPEXTRACT_VENV = BENCH / ".venv-wpextract"
WPEXTRACT = WPEXTRACT_VENV / "bin" / "wpextract"
WPEXTRACT_VERSION = "1.1.1"
PER_PAGE = 100
CONCURRENCY = 4
# Behind latency, 4 requests in flight leave the server idle while answers travel: 16 in flight keep its 4
# workers about as busy as 4 do on loopback. The latency scenario measures both, curl too.
LATENCY_CONCURRENCY = 16
sys.path.insert(0, str(ROOT))
from tests.crawling import log_stat  # noqa: E402
from viewworld.settings import EXTENSIONS  # noqa: E402

# The crawl's own extensions plus the probe of its steady-state CPU (bench/cpu_probe.py).
PROBED_EXTENSIONS = {**EXTENSIONS, "bench.cpu_probe.SteadyCpuProbe": 900}
# The same fields as the crawler's include= batches (viewworld/assembly.py), so curl asks the server for the same work.
BATCH_FIELDS = {
    "media": "id,source_url,alt_text,caption,mime_type,media_details",
    "categories": "id,name,slug,parent",
    "tags": "id,name,slug",
    "users": "id,name,slug",
}


# Processes -------------------------------------------------------------------------------------------

@dataclass
class Measured:
    wall: float
    cpu: float
    max_rss_mb: float
    returncode: int


# Measured commands start from this small launcher, not from run.py itself: on Linux a child's ru_maxrss starts at
# its parent's RSS at fork time (kept across exec), and run.py grows while it reads the tools' outputs.
_LAUNCHER = """
import json, os, sys, time
started = time.monotonic()
pid = os.fork()
if pid == 0:
    os.execvp(sys.argv[2], sys.argv[2:])
_, status, usage = os.wait4(pid, 0)
wall = time.monotonic() - started
with open(sys.argv[1], "w") as report:
    json.dump({"wall": wall, "cpu": usage.ru_utime + usage.ru_stime, "max_rss_mb": usage.ru_maxrss / 1024,
               "returncode": os.waitstatus_to_exitcode(status)}, report)
"""


def run_measured(command: list[str], log: Path, cwd: Path = ROOT, env: dict[str, str] | None = None) -> Measured:
    """Run a command to its end; its wall time, CPU (user+sys, its children included) and peak RSS from wait4()."""
    report = log.with_name(log.name + ".rusage.json")
    with log.open("ab") as output:
        subprocess.run([sys.executable, "-S", "-c", _LAUNCHER, str(report), *command], cwd=cwd, env=env,
                       stdout=output, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, check=False)
    return Measured(**json.loads(report.read_text(encoding="utf-8")))


class Server:
    """A process that prints one JSON line when ready and stops on SIGTERM."""

    def __init__(self, name: str, command: list[str], log: Path, timeout: float) -> None:
        self.name = name
        self.log = log.open("ab")
        self.process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=self.log,
                                        stdin=subprocess.DEVNULL, start_new_session=True)
        self.timeout = timeout
        self.info: dict[str, Any] = {}

    def ready(self) -> dict[str, Any]:
        if not self.info:
            assert self.process.stdout is not None
            if not select.select([self.process.stdout], [], [], self.timeout)[0]:
                raise RuntimeError(f"{self.name} did not start in {self.timeout:.0f} s: see {self.log.name}")
            line = self.process.stdout.readline()
            if not line:
                raise RuntimeError(f"{self.name} did not start: see {self.log.name}")
            self.info = json.loads(line)
        return self.info

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=120)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()


def start_wordpress(posts: int, media: int, workdir: Path) -> Server:
    return Server(f"wordpress-{posts}", [str(PYTHON), "-m", "tests.wordpress", "serve", "--permalinks", "pretty",
                                         "--posts", str(posts), "--media", str(media)],
                  workdir / f"wordpress-{posts}.log", timeout=900)


def start_synthetic(posts: int, workdir: Path) -> Server:
    return Server(f"synthetic-{posts}", [str(PYTHON), "demo/wpserver.py", "--synthetic", str(posts), "--port", "0"],
                  workdir / f"synthetic-{posts}.log", timeout=300)


def start_proxy(upstream: str, delay: float, workdir: Path) -> Server:
    return Server("latency-proxy", [str(PYTHON), str(BENCH / "latency_proxy.py"), "--upstream", upstream,
                                    "--delay", str(delay)], workdir / "latency-proxy.log", timeout=30)


def discover_api_root(site_url: str) -> str:
    with urllib.request.urlopen(site_url + "/", timeout=30) as response:
        for value in response.headers.get_all("Link") or []:
            if match := re.search(r'<([^>]+)>\s*;\s*rel="https://api\.w\.org/"', value):
                return match.group(1)
    return site_url + "/wp-json/"


def endpoint(api_root: str, route: str, query: str) -> str:
    if "rest_route=" in api_root:
        return f"{api_root.rstrip('/')}{route}&{query}"
    return f"{api_root.rstrip('/')}{route}?{query}"


# The crawl's output and the floor ------------------------------------------------------------------------

@dataclass
class Distincts:
    posts: int = 0
    media: set[int] = field(default_factory=set)
    categories: set[int] = field(default_factory=set)
    tags: set[int] = field(default_factory=set)
    users: set[int] = field(default_factory=set)
    other_terms: set[tuple[str, int]] = field(default_factory=set)

    def floor(self) -> int:
        return sum(math.ceil(count / PER_PAGE) for count in
                   (self.posts, len(self.media), len(self.categories), len(self.tags), len(self.users)))


def read_distincts(output_dir: Path) -> Distincts:
    distincts = Distincts()
    for path in output_dir.rglob("posts-*.jsonl"):
        with path.open(encoding="utf-8") as file:
            for line in file:
                post = json.loads(line)
                if "title" not in post:  # a tombstone, not a post
                    continue
                distincts.posts += 1
                if post.get("featured_media"):
                    distincts.media.add(post["featured_media"]["id"])
                distincts.categories.update(term["id"] for term in post.get("categories") or ())
                distincts.tags.update(term["id"] for term in post.get("tags") or ())
                if post.get("author"):
                    distincts.users.add(post["author"]["id"])
                distincts.other_terms.update((taxonomy, term["id"]) for taxonomy, terms in (post.get("terms") or {}).items()
                                             for term in terms)
    return distincts


def floor_urls(site_url: str, api_root: str, distincts: Distincts, posts_fields: str = "") -> list[str]:
    """robots.txt, the home page, the API index, then the floor: whole posts pages (``posts_fields``: with those
    ``_fields``) and the include= batches of the distinct linked ids."""
    urls = [site_url + "/robots.txt", site_url + "/", api_root]
    fields = f"&_fields={posts_fields}" if posts_fields else ""
    urls += [endpoint(api_root, "/wp/v2/posts", f"per_page={PER_PAGE}&page={page}&orderby=id&order=desc{fields}")
             for page in range(1, math.ceil(distincts.posts / PER_PAGE) + 1)]
    for route, ids in (("media", distincts.media), ("categories", distincts.categories),
                       ("tags", distincts.tags), ("users", distincts.users)):
        ordered = sorted(ids)
        for start in range(0, len(ordered), PER_PAGE):
            include = ",".join(map(str, ordered[start:start + PER_PAGE]))
            urls.append(endpoint(api_root, f"/wp/v2/{route}",
                                 f"include={include}&per_page={PER_PAGE}&_fields={BATCH_FIELDS[route]}"))
    return urls


# The tools ----------------------------------------------------------------------------------------------

@dataclass
class Run:
    tool: str
    wall: float
    cpu: float | None = None
    max_rss_mb: float | None = None
    requests: int | None = None
    posts: int | None = None
    elapsed: float | None = None
    note: str = ""
    steady_cpu: float | None = None
    steady_posts: int | None = None


def crawl(site_url: str, workdir: Path, name: str, state_dir: Path | None = None, output_dir: Path | None = None,
          concurrency: int = CONCURRENCY, settings: tuple[str, ...] = ()) -> tuple[Run, Path]:
    output_dir = output_dir or workdir / f"{name}-output"
    state_dir = state_dir or workdir / f"{name}-state"
    log = workdir / f"{name}.log"
    log.unlink(missing_ok=True)
    command = [str(SCRAPY), "crawl", "wpposts", "-a", f"site={site_url}",
               "-s", f"OUTPUT_DIR={output_dir}", "-s", f"STATE_DIR={state_dir}", "-s", "DOWNLOAD_DELAY=0",
               "-s", "AUTOTHROTTLE_ENABLED=False", "-s", f"CONCURRENT_REQUESTS_PER_DOMAIN={concurrency}",
               "-s", "PROGRESS_INTERVAL=0", "-s", f"LOG_FILE={log}",
               "-s", f"EXTENSIONS={json.dumps(PROBED_EXTENSIONS)}"]
    for setting in settings:
        command += ["-s", setting]
    measured = run_measured(command, workdir / f"{name}.stdout")
    text = log.read_text(encoding="utf-8", errors="replace")
    note = "" if measured.returncode == 0 else f"exit {measured.returncode}, see {log}"
    return Run(", ".join(["viewworld", f"{concurrency} at a time", *settings]), measured.wall, measured.cpu, measured.max_rss_mb,
               log_stat(text, "downloader/request_count") or 0, log_stat(text, "item_scraped_count") or 0,
               log_stat(text, "elapsed_time_seconds"), note, log_stat(text, "bench/steady_cpu_seconds"),
               log_stat(text, "bench/steady_posts")), output_dir


def curl_floor(urls: list[str], workdir: Path, concurrency: int = CONCURRENCY) -> Run:
    config = workdir / "curl-floor.cfg"
    config.write_text("".join(f'url = "{url}"\noutput = "/dev/null"\n' for url in urls), encoding="utf-8")
    # --parallel-immediate: without it curl waits to see whether a connection can multiplex transfers (HTTP/2)
    # before it opens another, and over HTTP/1.1 fetched these URLs at half the speed of 4 curls at once.
    measured = run_measured(["curl", "--silent", "--show-error", "--parallel", "--parallel-immediate",
                             "--parallel-max", str(concurrency), "--config", str(config)], workdir / "curl.log")
    note = "" if measured.returncode == 0 else f"curl exit {measured.returncode}"
    return Run(f"curl, floor URLs, {concurrency} at a time", measured.wall, requests=len(urls), note=note)


def floor_spider(urls: list[str], workdir: Path, name: str, concurrency: int = CONCURRENCY) -> Run:
    """bench/floor_spider.py: a minimal Scrapy spider fetching curl's URLs, decoding each answer and nothing else."""
    urls_path, stats_path = workdir / "floor-urls.txt", workdir / f"{name}.json"
    urls_path.write_text("".join(url + "\n" for url in urls), encoding="utf-8")
    stats_path.unlink(missing_ok=True)
    measured = run_measured([str(PYTHON), str(BENCH / "floor_spider.py"), str(urls_path), str(stats_path),
                             str(concurrency)], workdir / f"{name}.log")
    stats = json.loads(stats_path.read_text(encoding="utf-8")) if stats_path.exists() else {}
    requests = stats.get("downloader/request_count")
    note = "" if measured.returncode == 0 and requests == len(urls) else \
        f"exit {measured.returncode}, {requests} of {len(urls)} requests, see {workdir / (name + '.log')}"
    return Run(f"minimal Scrapy spider, floor URLs, {concurrency} at a time", measured.wall, measured.cpu,
               measured.max_rss_mb, requests, elapsed=stats.get("elapsed_time_seconds"), note=note)


def wpextract(site_url: str, workdir: Path, name: str) -> Run:
    output_dir = workdir / f"{name}-json"
    log = workdir / f"{name}.log"
    measured = run_measured([str(WPEXTRACT), "download", site_url + "/", str(output_dir), "--log", str(log),
                             "--verbose", "--wait", "0", "--user-agent", "viewworld-bench"], workdir / f"{name}.stdout")
    text = log.read_text(encoding="utf-8", errors="replace") if log.exists() else ""
    requests = len(re.findall(r'"GET [^"]+" \d{3}', text))
    posts_files = sorted(output_dir.glob("*posts.json"))
    posts = len(json.loads(posts_files[0].read_text(encoding="utf-8"))) if posts_files else 0
    note = "" if measured.returncode == 0 else f"exit {measured.returncode}, see {log}"
    return Run(f"wpextract {WPEXTRACT_VERSION}", measured.wall, measured.cpu, measured.max_rss_mb, requests, posts,
               note=note or "linked data not joined")


def naive(api_root: str, workdir: Path, name: str, total_posts: int, sample: int) -> Run:
    """The naive crawl; on a sample of the first `sample` posts (0: all), its requests and time scaled to the site."""
    stats_path = workdir / f"{name}.json"
    command = [str(PYTHON), str(BENCH / "naive_spider.py"), api_root, str(stats_path)]
    if sample and sample < total_posts:
        command.append(str(sample))
    measured = run_measured(command, workdir / f"{name}.log")
    stats = json.loads(stats_path.read_text(encoding="utf-8")) if stats_path.exists() else {}
    note = "" if measured.returncode == 0 else f"exit {measured.returncode}"
    requests, posts = stats.get("downloader/request_count"), stats.get("posts")
    run = Run("naive: every _links href", measured.wall, measured.cpu, measured.max_rss_mb, requests, posts,
              stats.get("elapsed_time_seconds"), note)
    if posts and requests and posts < total_posts:
        scale = total_posts / posts
        run.note = (f"EXTRAPOLATED x{scale:.1f} from {posts} posts ({requests} requests, {measured.wall:.1f} s); "
                    + note).rstrip("; ")
        run.requests, run.wall, run.cpu, run.posts = round(requests * scale), measured.wall * scale, \
            measured.cpu * scale, total_posts
    return run


def ensure_wpextract() -> None:
    if WPEXTRACT.exists():
        return
    subprocess.run([sys.executable, "-m", "venv", str(WPEXTRACT_VENV)], check=True)
    subprocess.run([str(WPEXTRACT_VENV / "bin" / "pip"), "install", "-q", "--disable-pip-version-check",
                    f"wpextract=={WPEXTRACT_VERSION}"], check=True)


# Scenarios ----------------------------------------------------------------------------------------------

@dataclass
class Scenario:
    name: str
    posts: int
    kind: str  # "wordpress" or "synthetic"
    delay: float = 0.0
    rounds: int = 1
    peers: bool = True
    # Requests at a time per site, for the crawl and for curl alike; the first is the reference.
    concurrency: tuple[int, ...] = (CONCURRENCY,)


@dataclass
class Result:
    scenario: Scenario
    floor: int = 0
    distincts: Distincts | None = None
    crawls: dict[int, list[Run]] = field(default_factory=dict)  # by concurrency
    curls: dict[int, list[Run]] = field(default_factory=dict)
    minimal: dict[int, list[Run]] = field(default_factory=dict)  # bench/floor_spider.py
    incremental: Run | None = None
    peers: list[Run] = field(default_factory=list)
    posts_fields: str = ""  # of the floor's posts pages, "" for whole pages


def run_scenario(scenario: Scenario, site_url: str, api_root: str, workdir: Path, with_wpextract: bool,
                 with_naive: bool, naive_sample: int, settings: tuple[str, ...] = ()) -> Result:
    result = Result(scenario)
    tag = scenario.name
    say(f"{tag}: site {site_url}, API root {api_root}")
    first_state = None
    urls: list[str] = []
    for round_number in range(scenario.rounds):
        steps = ["crawl", "curl", "minimal"] if round_number % 2 == 0 else ["minimal", "curl", "crawl"]
        for concurrency in scenario.concurrency:
            for step in steps:
                name = f"{tag}-crawl-c{concurrency}-{round_number + 1}"
                if step == "crawl":
                    run, output_dir = crawl(site_url, workdir, name, concurrency=concurrency, settings=settings)
                    result.crawls.setdefault(concurrency, []).append(run)
                    say(f"{tag}: round {round_number + 1} crawl, {concurrency} at a time: {run.elapsed} s elapsed, "
                        f"{run.requests} requests, {run.posts} posts, {run.cpu:.2f} s CPU, {run.steady_cpu} s CPU "
                        f"steady, {run.max_rss_mb:.0f} MB {run.note}")
                    if first_state is None:
                        first_state = (workdir / f"{name}-state", output_dir)
                        result.distincts = read_distincts(output_dir)
                        result.floor = result.distincts.floor()
                        result.posts_fields = posts_fields_of(api_root, settings)
                        urls = floor_urls(site_url, api_root, result.distincts, result.posts_fields)
                elif step == "minimal":
                    run = floor_spider(urls, workdir, f"{tag}-minimal-c{concurrency}-{round_number + 1}", concurrency)
                    result.minimal.setdefault(concurrency, []).append(run)
                    say(f"{tag}: round {round_number + 1} minimal Scrapy spider, {concurrency} at a time: "
                        f"{run.elapsed} s elapsed, {run.requests} requests, {run.cpu:.2f} s CPU {run.note}")
                else:
                    run = curl_floor(urls, workdir, concurrency)
                    result.curls.setdefault(concurrency, []).append(run)
                    say(f"{tag}: round {round_number + 1} curl, {concurrency} at a time: {run.wall:.2f} s for "
                        f"{run.requests} URLs {run.note}")
    if first_state is not None:
        state_dir, output_dir = first_state
        run, _ = crawl(site_url, workdir, f"{tag}-incremental", state_dir=state_dir, output_dir=output_dir,
                       settings=settings)
        run.tool = "viewworld, 2nd run, no change"
        result.incremental = run
        say(f"{tag}: incremental: {run.requests} requests, {run.posts} posts {run.note}")
    if scenario.peers and with_wpextract:
        run = wpextract(site_url, workdir, f"{tag}-wpextract")
        result.peers.append(run)
        say(f"{tag}: wpextract: {run.wall:.1f} s, {run.requests} requests, {run.posts} posts {run.note}")
    if scenario.peers and with_naive:
        run = naive(api_root, workdir, f"{tag}-naive", result.distincts.posts if result.distincts else 0,
                    naive_sample)
        result.peers.append(run)
        say(f"{tag}: naive: {run.wall:.1f} s, {run.requests} requests, {run.posts} posts {run.note}")
    return result


def posts_fields_of(api_root: str, settings: tuple[str, ...]) -> str:
    """The ``_fields`` of the crawl's posts pages with ``REVISION_COUNTS=False`` among ``settings`` (without
    ``_links``: WordPress's work on them is less, and curl asks for the same), else "" (whole pages, which cost
    WordPress what the crawl's ``_fields`` with ``_links`` cost)."""
    from viewworld.wordpress import posts_fields

    if not any(setting.replace(" ", "").lower() in ("revision_counts=false", "revision_counts=0") for setting in settings):
        return ""
    with urllib.request.urlopen(endpoint(api_root, "/wp/v2/posts", "per_page=1"), timeout=30) as response:
        return posts_fields(json.load(response)[0], with_links=False) or ""


# The table ----------------------------------------------------------------------------------------------

def median(values: list[float | None]) -> float | None:
    present = [value for value in values if value is not None]
    return statistics.median(present) if present else None


def fmt(value: float | None, pattern: str = "{:.1f}") -> str:
    return "-" if value is None else pattern.format(value)


def table(results: list[Result]) -> str:
    header = ["scenario", "tool", "posts", "requests", "vs floor+3", "time s", "vs curl", "CPU ms/post",
              "steady ms/post", "peak RSS MB", "note"]
    rows = []
    for result in results:
        scenario = result.scenario
        floor3 = result.floor + 3
        rows.append([scenario.name, f"floor: {result.floor} requests + 3", fmt(result.distincts and result.distincts.posts, "{:.0f}"),
                     str(floor3), "1.00x", "-", "-", "-", "-", "-", describe_distincts(result.distincts)])
        crawl_times, curl_times = {}, {}
        for concurrency in scenario.concurrency:
            curls, crawls = result.curls.get(concurrency, []), result.crawls.get(concurrency, [])
            curl_time = curl_times[concurrency] = median([run.wall for run in curls])
            what = "floor URLs, posts pages without _links" if result.posts_fields else "floor URLs"
            rows.append([scenario.name, f"curl, {what}, {concurrency} at a time", "-", str(floor3), "1.00x",
                         fmt(curl_time, "{:.2f}"), "1.00x", "-", "-", "-", f"median of {len(curls)}"])
            minimal = result.minimal.get(concurrency, [])
            if minimal:
                minimal_time = median([run.elapsed for run in minimal])
                minimal_cpu = median([run.cpu for run in minimal])
                notes = [f"median of {len(minimal)}; nothing assembled, cleaned or written", by_round(minimal, curls),
                         *[run.note for run in minimal if run.note][:1]]
                posts = result.distincts.posts if result.distincts else 0
                minimal_requests = median([run.requests for run in minimal])
                rows.append([scenario.name, minimal[0].tool, "-", fmt(minimal_requests, "{:.0f}"),
                             ratio(minimal_requests, floor3), fmt(minimal_time, "{:.2f}"),
                             ratio(minimal_time, curl_time), fmt(minimal_cpu and posts and minimal_cpu / posts * 1000,
                                                                 "{:.2f}"), "-",
                             fmt(median([run.max_rss_mb for run in minimal]), "{:.0f}"),
                             "; ".join(note for note in notes if note)])
            if not crawls:
                continue
            crawl_time = crawl_times[concurrency] = median([run.elapsed for run in crawls])
            cpu = median([run.cpu for run in crawls])
            posts = crawls[0].posts or 0
            steady = median([run.steady_cpu / run.steady_posts * 1000 for run in crawls
                             if run.steady_cpu is not None and run.steady_posts])
            notes = [f"median of {len(crawls)}; process {fmt(median([run.wall for run in crawls]), '{:.2f}')} s",
                     f"CPU {fmt(cpu, '{:.2f}')} s, from {fmt(min(run.cpu for run in crawls), '{:.2f}')} to "
                     f"{fmt(max(run.cpu for run in crawls), '{:.2f}')}"]
            notes += [by_round(crawls, curls), *[run.note for run in crawls if run.note][:1]]
            requests = median([run.requests for run in crawls])
            rows.append([scenario.name, crawls[0].tool, str(posts), fmt(requests, "{:.0f}"),
                         ratio(requests, floor3), fmt(crawl_time, "{:.2f}"),
                         ratio(crawl_time, curl_time), fmt(cpu and posts and cpu / posts * 1000, "{:.2f}"),
                         fmt(steady, "{:.2f}"), fmt(median([run.max_rss_mb for run in crawls]), "{:.0f}"),
                         "; ".join(note for note in notes if note)])
        if result.incremental:
            run = result.incremental
            rows.append([scenario.name, run.tool, str(run.posts), str(run.requests), "goal <= 3",
                         fmt(run.elapsed, "{:.2f}"), "-", "-", "-", fmt(run.max_rss_mb, "{:.0f}"), run.note])
        else:
            rows.append([scenario.name, "viewworld, 2nd run, no change", "-", "TODO", "goal <= 3", "-", "-", "-",
                         "-", "-", "TODO: not measured (STATE_DIR unavailable)"])
        reference_curl = median([run.wall for run in result.curls.get(scenario.concurrency[0], [])])
        for run in result.peers:
            faster = [f"viewworld {concurrency} at a time {run.wall / crawl_time:.1f}x faster"
                      for concurrency, crawl_time in crawl_times.items() if crawl_time and run.posts]
            # What no crawler of these URLs can beat on this machine: curl fetching only the floor.
            faster += [f"curl {concurrency} at a time {run.wall / curl_time:.1f}x"
                       for concurrency, curl_time in curl_times.items() if curl_time and run.posts]
            rows.append([scenario.name, run.tool, fmt(run.posts, "{:.0f}"), fmt(run.requests, "{:.0f}"),
                         ratio(run.requests, floor3), fmt(run.wall, "{:.2f}"), ratio(run.wall, reference_curl),
                         fmt(run.cpu and run.posts and run.cpu / run.posts * 1000, "{:.2f}"), "-",
                         fmt(run.max_rss_mb, "{:.0f}"),
                         "; ".join(["process wall time, once", *faster, run.note]).rstrip("; ")])
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header))]
    lines = [" | ".join(str(cell).ljust(width) for cell, width in zip(row, widths)).rstrip() for row in [header, *rows]]
    lines.insert(1, "-+-".join("-" * width for width in widths))
    return "\n".join(lines)


def by_round(runs: list[Run], curls: list[Run]) -> str:
    """Each round's run over the curl run next to it: on a shared machine whose speed moves within minutes, the
    spread says how far the median over the median can be trusted ("" for a single round)."""
    paired = [run.elapsed / reference.wall for run, reference in zip(runs, curls) if run.elapsed and reference.wall]
    if len(paired) < 2:
        return ""
    return f"by round {min(paired):.2f}x to {max(paired):.2f}x of curl, median {median(paired):.2f}x"


def describe_distincts(distincts: Distincts | None) -> str:
    if distincts is None:
        return ""
    return (f"distinct: {len(distincts.media)} media, {len(distincts.categories)} categories, {len(distincts.tags)} "
            f"tags, {len(distincts.users)} authors; {len(distincts.other_terms)} other terms (not in the floor)")


def ratio(value: float | None, reference: float | None) -> str:
    if value is None or not reference:
        return "-"
    return f"{value / reference:.2f}x"


def machine() -> str:
    model = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
        memory = next(line for line in Path("/proc/meminfo").read_text().splitlines() if line.startswith("MemTotal"))
        memory_gb = int(memory.split()[1]) / 1024 / 1024
    except (OSError, StopIteration):
        memory_gb = 0.0
    scrapy_version = subprocess.run([str(PYTHON), "-c", "import scrapy; print(scrapy.__version__)"],
                                    capture_output=True, text=True).stdout.strip()
    php = subprocess.run(["php", "-r", "echo PHP_VERSION;"], capture_output=True, text=True).stdout.strip() \
        if shutil.which("php") else "-"
    return (f"{os.cpu_count()} CPUs ({model}), {memory_gb:.0f} GB RAM, {platform.system()} {platform.release()}, "
            f"Python {platform.python_version()}, Scrapy {scrapy_version}, PHP {php} (`php -S`, 4 workers)")


def host_speed(rounds: int = 40) -> float:
    """Microseconds of CPU to clean one post of the test corpus (tests/data/corpus), best of three: the same
    work every time, so that it tells how fast this machine is running now. On a shared virtual machine it
    moves (170 to 320 us seen on this one, idle), and every CPU figure of the table moves with it."""
    from viewworld.cleaning import clean_content

    bodies = [path.read_text(encoding="utf-8") for path in sorted((ROOT / "tests/data/corpus").glob("*.html"))]
    timings = []
    for _ in range(3):
        started = time.process_time()
        for _ in range(rounds):
            for body in bodies:
                clean_content(body, "https://www.example.org/2024/01/post/")
        timings.append((time.process_time() - started) / (rounds * len(bodies)) * 1e6)
    return min(timings)


def say(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# Main ---------------------------------------------------------------------------------------------------

def scenarios_for(arguments: argparse.Namespace) -> list[Scenario]:
    if arguments.quick:
        return [Scenario("wordpress-2000", 2000, "wordpress", rounds=1)]
    rounds = arguments.rounds
    return [
        Scenario("wordpress-2000", 2000, "wordpress", rounds=rounds),
        Scenario("wordpress-5000", 5000, "wordpress", rounds=rounds),
        # As many rounds as on loopback: with 2, one slow minute of the machine set the row (1.48x and 1.67x).
        Scenario("wordpress-5000+100ms", 5000, "wordpress", delay=arguments.latency, rounds=rounds,
                 concurrency=(CONCURRENCY, LATENCY_CONCURRENCY)),
        Scenario("synthetic-100000", 100_000, "synthetic", rounds=1, peers=False),
    ]


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt(signal.Signals(signum).name)


def main(argv: list[str] | None = None) -> int:
    signal.signal(signal.SIGTERM, _interrupt)  # the servers are stopped on the way out
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2,000 posts, 1 round, no wpextract (a few minutes)")
    parser.add_argument("--rounds", type=int, default=5, help="alternating rounds per scenario (default 5)")
    parser.add_argument("--latency", type=float, default=0.1, help="seconds the proxy adds per response")
    parser.add_argument("--media-per-post", type=float, default=0.62,
                        help="images in the WordPress sites' media library per post (0: the tests' 30 images)")
    parser.add_argument("--only", nargs="*", help="scenario names to run (default: all of the mode)")
    parser.add_argument("--no-wpextract", action="store_true")
    parser.add_argument("--no-naive", action="store_true")
    parser.add_argument("--naive-posts", type=int, default=500,
                        help="the naive crawl walks this many posts and is scaled to the site (0: all; default 500)")
    parser.add_argument("--keep", action="store_true", help="keep the working directory (logs, outputs)")
    parser.add_argument("--json", type=Path, help="also write the raw results here")
    parser.add_argument("--setting", action="append", default=[], metavar="NAME=VALUE",
                        help="a setting of every viewworld crawl (-s); with REVISION_COUNTS=False curl and the minimal "
                             "spider ask for the posts pages as the crawl does, without _links")
    arguments = parser.parse_args(argv)
    with_wpextract = not (arguments.quick or arguments.no_wpextract)
    if with_wpextract:
        ensure_wpextract()
    scenarios = [s for s in scenarios_for(arguments) if not arguments.only or s.name in arguments.only]
    speeds = [host_speed()]
    say(f"host speed: {speeds[0]:.0f} us of CPU to clean a corpus post")
    workdir = Path(tempfile.mkdtemp(prefix="viewworld-bench-"))
    say(f"working directory {workdir}")
    servers: dict[str, Server] = {}
    results: list[Result] = []
    try:
        # The WordPress sites seed in parallel, and all are ready before anything is measured.
        for posts in sorted({s.posts for s in scenarios if s.kind == "wordpress"}):
            servers[f"wordpress-{posts}"] = start_wordpress(posts, round(posts * arguments.media_per_post), workdir)
        for server in servers.values():
            server.ready()
        for scenario in scenarios:
            key = f"{scenario.kind}-{scenario.posts}"
            if key not in servers:
                servers[key] = start_synthetic(scenario.posts, workdir)
            info = servers[key].ready()
            site_url = info["url"].rstrip("/")
            proxy = None
            if scenario.delay:
                proxy = start_proxy(site_url, scenario.delay, workdir)
                site_url = proxy.ready()["url"]
            api_root = discover_api_root(site_url)
            results.append(run_scenario(scenario, site_url, api_root, workdir, with_wpextract and scenario.peers,
                                        not arguments.no_naive and scenario.peers, arguments.naive_posts,
                                        tuple(arguments.setting)))
            if proxy:
                proxy.stop()
            if scenario.kind == "synthetic" or not any(
                    later.kind == scenario.kind and later.posts == scenario.posts
                    for later in scenarios[scenarios.index(scenario) + 1:]):
                servers.pop(key).stop()
    finally:
        for server in servers.values():
            server.stop()
        if arguments.json:
            arguments.json.write_text(json.dumps([result_json(result) for result in results], indent=1))
        if not arguments.keep:
            shutil.rmtree(workdir, ignore_errors=True)
    speeds.append(host_speed())
    print(f"viewworld benchmark, {time.strftime('%Y-%m-%d %H:%M')} UTC, {'quick' if arguments.quick else 'full'} mode")
    print(f"machine: {machine()}")
    print(f"host speed: cleaning a corpus post took {speeds[0]:.0f} us of CPU before the runs and {speeds[1]:.0f} us "
          f"after (the same work: on a shared virtual machine CPU figures move with it)")
    print(table(results))
    return 0


def result_json(result: Result) -> dict[str, Any]:
    def run_json(run: Run | None) -> dict[str, Any] | None:
        return None if run is None else run.__dict__

    distincts = result.distincts
    return {"scenario": result.scenario.__dict__, "floor": result.floor,
            "distincts": None if distincts is None else {
                "posts": distincts.posts, "media": len(distincts.media), "categories": len(distincts.categories),
                "tags": len(distincts.tags), "users": len(distincts.users), "other_terms": len(distincts.other_terms)},
            "crawls": {c: [run_json(run) for run in runs] for c, runs in result.crawls.items()},
            "curls": {c: [run_json(run) for run in runs] for c, runs in result.curls.items()},
            "minimal": {c: [run_json(run) for run in runs] for c, runs in result.minimal.items()},
            "incremental": run_json(result.incremental),
            "peers": [run_json(run) for run in result.peers]}


if __name__ == "__main__":
    sys.exit(main())
