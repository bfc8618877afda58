"""``scripts/demo``: the real ``wpposts`` spider, with the real settings, crawls the bundled demo site
(recorded WordPress API responses, served on 127.0.0.1 by ``demo/wpserver.py``) and writes JSON Lines.

The server is started and stopped here, by its PID; the crawl's exit code is this script's.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUTPUT_DIR = ROOT / "output" / "demo"


def start_server() -> tuple[subprocess.Popen[str], str]:
    server = subprocess.Popen(
        [sys.executable, str(ROOT / "demo" / "wpserver.py"), "--port", "0"],
        stdout=subprocess.PIPE, text=True, cwd=ROOT,
    )
    assert server.stdout is not None
    line = server.stdout.readline()
    if not line:
        server.wait(timeout=10)
        raise SystemExit(f"demo: the demo server did not start (exit {server.returncode})")
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


def crawl(site: str) -> int:
    OUTPUT_DIR.mkdir(parents=True, exist_ok=True)
    log_file = OUTPUT_DIR / "crawl.log"
    # The venv's python, not its scrapy script: that script's first line names the checkout's path when it was made.
    command = [sys.executable, "-m", "scrapy", "crawl", "wpposts", "-a", f"site={site}",
               "-s", f"OUTPUT_DIR={OUTPUT_DIR}", "-s", f"STATE_DIR={OUTPUT_DIR / 'state'}", "-s", f"LOG_FILE={log_file}"]
    print("demo: scrapy " + " ".join(command[3:]), flush=True)
    return subprocess.run(command, cwd=ROOT, check=False).returncode


def summarize(exit_code: int) -> None:
    files = sorted(OUTPUT_DIR.glob("*/posts-*.jsonl"), key=lambda path: path.stat().st_mtime)
    if not files:
        print(f"demo: no output written (exit code {exit_code}); see {OUTPUT_DIR / 'crawl.log'}")
        return
    newest = files[-1]
    posts = [json.loads(line) for line in newest.read_text(encoding="utf-8").splitlines()]
    print(f"\ndemo: {len(posts)} posts written to {newest.relative_to(ROOT)} (exit code {exit_code})")
    print(f"{'id':>6}  {'words':>5}  {'author':<16} {'categories':<24} {'errors':>6}  title")
    for post in sorted(posts, key=lambda post: post["id"]):
        author = (post["author"] or {}).get("name") or "-"
        categories = ", ".join(category["name"] for category in post["categories"]) or "-"
        print(f"{post['id']:>6}  {post['word_count']:>5}  {author[:16]:<16} {categories[:24]:<24} "
              f"{len(post['errors']):>6}  {post['title'][:60]}")
    print(f"demo: the crawl's log is {(OUTPUT_DIR / 'crawl.log').relative_to(ROOT)}")


def main() -> int:
    server, site = start_server()
    try:
        exit_code = crawl(site)
    finally:
        stop_server(server)
    summarize(exit_code)
    return exit_code


if __name__ == "__main__":
    sys.exit(main())
