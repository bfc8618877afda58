"""A/B: crawl variants and curl's floor in alternating rounds on one running site; medians and ratios to curl.

    .venv/bin/python -m tests.wordpress serve --permalinks pretty --posts 5000 --media 3100   # prints its url
    .venv/bin/python bench/ab.py --site URL --rounds 8 \\
        --variant base= --variant lean="-s REVISION_COUNTS=False" --variant old="@/tmp/old"

A variant is NAME=ARGUMENTS: `-s NAME=VALUE` settings for `scrapy crawl wpposts`, and `@PATH` to crawl with the
code of another work tree (a `git worktree` of an older commit). The first crawl's output gives the distinct
linked ids of the floor URLs curl fetches 4 at a time (bench/run.py's floor_urls); each round runs curl and the
variants, in reverse order every other round. On a shared virtual machine single rounds move by 10% and more:
compare medians over 6 rounds or more, and the per-round ratios' spread.
"""

from __future__ import annotations

import argparse
import shlex
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import run  # noqa: E402  (bench/run.py)


def crawl(site: str, workdir: Path, arguments: list[str], tree: Path) -> tuple[float, int, float]:
    """elapsed_time_seconds, requests, process CPU of one crawl with fresh output and state."""
    for name in ("output", "state"):
        shutil.rmtree(workdir / name, ignore_errors=True)
    log = workdir / "crawl.log"
    log.unlink(missing_ok=True)
    command = [str(run.PYTHON), "-m", "scrapy", "crawl", "wpposts", "-a", f"site={site}",
               "-s", f"OUTPUT_DIR={workdir / 'output'}", "-s", f"STATE_DIR={workdir / 'state'}",
               "-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=False", "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=4",
               "-s", "PROGRESS_INTERVAL=0", "-s", f"LOG_FILE={log}", *arguments]
    measured = run.run_measured(command, workdir / "crawl.stdout", cwd=tree)
    text = log.read_text(encoding="utf-8", errors="replace")
    elapsed = run.log_stat(text, "elapsed_time_seconds")
    if measured.returncode != 0 or elapsed is None:
        raise SystemExit(f"ab: the crawl failed (exit {measured.returncode}), see {log}")
    return elapsed, run.log_stat(text, "downloader/request_count") or 0, measured.cpu


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--site", required=True, help="a running site on 127.0.0.1")
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--variant", action="append", required=True, metavar="NAME=ARGUMENTS")
    arguments = parser.parse_args(argv)
    variants: dict[str, tuple[list[str], Path]] = {}
    for variant in arguments.variant:
        name, _, rest = variant.partition("=")
        words = shlex.split(rest)
        trees = [Path(word[1:]) for word in words if word.startswith("@")]
        variants[name] = ([word for word in words if not word.startswith("@")], trees[0] if trees else run.ROOT)
    site = arguments.site.rstrip("/")
    if not site.startswith("http://127."):
        raise SystemExit("ab: --site must be on 127.0.0.0/8")
    workdir = Path(tempfile.mkdtemp(prefix="viewworld-ab-"))
    try:
        first_arguments, first_tree = next(iter(variants.values()))
        crawl(site, workdir, first_arguments, first_tree)
        urls = run.floor_urls(site, run.discover_api_root(site), run.read_distincts(workdir / "output"))
        times: dict[str, list[float]] = {"curl": [], **{name: [] for name in variants}}
        cpus: dict[str, list[float]] = {name: [] for name in variants}
        order = ["curl", *variants]
        for round_number in range(arguments.rounds):
            for name in order if round_number % 2 == 0 else order[::-1]:
                if name == "curl":
                    times["curl"].append(run.curl_floor(urls, workdir).wall)
                    continue
                elapsed, requests, cpu = crawl(site, workdir, *variants[name])
                times[name].append(elapsed)
                cpus[name].append(cpu)
                print(f"round {round_number + 1} {name}: {elapsed:.2f} s, {requests} requests, {cpu:.2f} s CPU",
                      flush=True)
            print(f"round {round_number + 1} curl: {times['curl'][-1]:.2f} s", flush=True)
        curl = statistics.median(times["curl"])
        print(f"{time.strftime('%Y-%m-%d %H:%M')} UTC, {len(urls)} floor URLs; curl median {curl:.2f} s")
        for name in variants:
            ratios = [crawl_time / curl_time for crawl_time, curl_time in zip(times[name], times["curl"])]
            print(f"{name}: median {statistics.median(times[name]):.2f} s ({statistics.median(times[name]) / curl:.3f}x"
                  f" curl's median); by round {statistics.median(ratios):.3f}x ({min(ratios):.2f}x-{max(ratios):.2f}x);"
                  f" CPU {statistics.median(cpus[name]):.2f} s")
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
