"""``scripts/demo [--port N] [--output DIR] [scrapy crawl arguments]``: the real ``wpposts`` spider, with the
real settings, crawls the bundled demo site (recorded WordPress API responses, served on 127.0.0.1 by
``demo/wpserver.py``) and writes JSON Lines.

The server listens on the same port every run (``DEMO_PORT``, another when that one is taken), so the demo site
is the same site each time: a second run is an incremental one, finds nothing changed and writes nothing
(``scripts/demo -a full=1`` writes every post again). Arguments it does not know go to ``scrapy crawl``.
The server is started and stopped here, by its PID; the crawl's exit code is this script's.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUTPUT_DIR = ROOT / "output" / "demo"
DEMO_PORT = 47474


def start_server(port: int) -> tuple[subprocess.Popen[str], str] | None:
    """The demo server on ``port`` (0: a free one) and its URL; None when it cannot listen there."""
    server = subprocess.Popen(
        [sys.executable, str(ROOT / "demo" / "wpserver.py"), "--port", str(port)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT,
    )
    assert server.stdout is not None and server.stderr is not None
    line = server.stdout.readline()
    if not line:
        server.wait(timeout=10)
        error = server.stderr.read().strip().splitlines()
        server.stdout.close()
        server.stderr.close()
        if port and error and "Address already in use" in error[-1]:
            return None
        raise SystemExit(f"demo: the demo server did not start (exit {server.returncode}): "
                         f"{error[-1] if error else 'no message'}")
    server.stderr.close()
    return server, json.loads(line)["url"]


def stop_server(server: subprocess.Popen[str]) -> None:
    if server.poll() is None:
        os.kill(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.kill(server.pid, signal.SIGKILL)
            server.wait()
    if server.stdout is not None:
        server.stdout.close()


def crawl(site: str, output_dir: Path, extra: list[str]) -> int:
    output_dir.mkdir(parents=True, exist_ok=True)
    # The venv's python, not its scrapy script: that script's first line names the checkout's path when it was made.
    command = [sys.executable, "-m", "scrapy", "crawl", "wpposts", "-a", f"site={site}",
               "-s", f"OUTPUT_DIR={output_dir}", "-s", f"STATE_DIR={output_dir / 'state'}",
               "-s", f"LOG_FILE={output_dir / 'crawl.log'}", "-s", "LOG_FILE_APPEND=False", *extra]
    print("demo: scrapy " + " ".join(command[3:]), flush=True)
    return subprocess.run(command, cwd=ROOT, check=False).returncode


def shown(path: Path) -> str:
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def summarize(exit_code: int, output_dir: Path, written: list[Path]) -> None:
    log = output_dir / "crawl.log"
    if not written:
        if exit_code != 0:
            print(f"demo: no output written (exit code {exit_code}); see {shown(log)}")
            return
        requests = re.findall(r"'downloader/request_count': (\d+)", log.read_text(encoding="utf-8", errors="replace"))
        print(f"\ndemo: nothing changed since the last run, so nothing was written ({requests[-1] if requests else '?'}"
              f" requests); `scripts/demo -a full=1` writes every post again. The crawl's log is {shown(log)}")
        return
    newest = written[-1]
    posts = [json.loads(line) for line in newest.read_text(encoding="utf-8").splitlines()]
    print(f"\ndemo: {len(posts)} posts written to {shown(newest)} (exit code {exit_code})")
    print(f"{'id':>6}  {'words':>5}  {'author':<16} {'categories':<24} {'errors':>6}  title")
    for post in sorted(posts, key=lambda post: post["id"]):
        author = (post["author"] or {}).get("name") or "-"
        categories = ", ".join(category["name"] for category in post["categories"]) or "-"
        print(f"{post['id']:>6}  {post['word_count']:>5}  {author[:16]:<16} {categories[:24]:<24} "
              f"{len(post['errors']):>6}  {post['title'][:60]}")
    print(f"demo: the crawl's log is {shown(log)}; run scripts/demo again for an incremental run")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=DEMO_PORT, help="the demo server's port (default %(default)s; "
                        "0: a free one, a new site each run)")
    parser.add_argument("--output", type=Path, default=OUTPUT_DIR, help="OUTPUT_DIR and STATE_DIR's parent "
                        "(default output/demo)")
    arguments, extra = parser.parse_known_args(argv)
    output_dir = arguments.output.resolve()
    started = start_server(arguments.port)
    if started is None:
        print(f"demo: port {arguments.port} is taken; the demo server takes another, so this run crawls a new site",
              flush=True)
        started = start_server(0)
        assert started is not None
    server, site = started
    before = set(output_dir.glob("*/posts-*.jsonl"))
    try:
        exit_code = crawl(site, output_dir, extra)
    finally:
        stop_server(server)
    written = sorted(set(output_dir.glob("*/posts-*.jsonl")) - before, key=lambda path: path.stat().st_mtime)
    summarize(exit_code, output_dir, written)
    return exit_code


if __name__ == "__main__":
    sys.exit(main())
