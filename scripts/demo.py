"""``scripts/demo [--port N] [--output-dir DIR] [scrapy crawl arguments]``: the real ``wpposts`` spider, with the
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
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUTPUT_DIR = ROOT / "output" / "demo"
DEMO_PORT = 28642  # below Linux's ephemeral ports (32768-60999), which any connection may hold


def start_server(port: int, output_dir: Path) -> tuple[subprocess.Popen[str], str] | None:
    """The demo server on ``port`` (0: a free one) and its URL; None when it cannot listen there. What it says on
    stderr goes to ``output_dir/server.log``."""
    output_dir.mkdir(parents=True, exist_ok=True)
    log = output_dir / "server.log"
    with log.open("w", encoding="utf-8") as stderr:
        server = subprocess.Popen(
            [sys.executable, str(ROOT / "demo" / "wpserver.py"), "--port", str(port)],
            stdout=subprocess.PIPE, stderr=stderr, text=True, cwd=ROOT,
        )
    assert server.stdout is not None
    line = server.stdout.readline()
    if not line:
        server.wait(timeout=10)
        server.stdout.close()
        error = log.read_text(encoding="utf-8", errors="replace").strip().splitlines()
        if port and error and "Address already in use" in error[-1]:
            return None
        raise SystemExit(f"demo: the demo server did not start (exit {server.returncode}): "
                         f"{error[-1] if error else 'no message'} (see {shown(log)})")
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


def summarize(exit_code: int, output_dir: Path, written: list[Path], started: float) -> None:
    log = output_dir / "crawl.log"
    if not written:
        if exit_code != 0:
            print(f"demo: no output written (exit code {exit_code}); see {shown(log)}")
            return
        # The log is this run's unless the arguments sent it elsewhere (-s LOG_FILE=..., --nolog).
        fresh = log.exists() and log.stat().st_mtime >= started
        text = log.read_text(encoding="utf-8", errors="replace") if fresh else ""
        requests = re.findall(r"'downloader/request_count': (\d+)", text)
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
    # No abbreviations: an argument this script does not know is scrapy crawl's, whole (-o, --output included).
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0], allow_abbrev=False)
    parser.add_argument("--port", type=int, default=DEMO_PORT, help="the demo server's port (default %(default)s; "
                        "0: a free one, a new site each run)")
    parser.add_argument("--output-dir", type=Path, default=OUTPUT_DIR, help="OUTPUT_DIR, with the state and the "
                        "logs (default output/demo)")
    arguments, extra = parser.parse_known_args(argv)
    output_dir = arguments.output_dir.resolve()
    running = start_server(arguments.port, output_dir)
    if running is None:
        print(f"demo: port {arguments.port} is taken; the demo server takes another, so this run crawls a new site",
              flush=True)
        running = start_server(0, output_dir)
        assert running is not None
    server, site = running
    before = set(output_dir.glob("*/posts-*.jsonl"))
    started = time.time()
    try:
        exit_code = crawl(site, output_dir, extra)
    finally:
        stop_server(server)
    written = sorted(set(output_dir.glob("*/posts-*.jsonl")) - before, key=lambda path: path.stat().st_mtime)
    summarize(exit_code, output_dir, written, started)
    return exit_code


if __name__ == "__main__":
    sys.exit(main())
