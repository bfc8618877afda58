"""The README's first command: ``make demo`` (``scripts/demo``) crawls the bundled demo site with the real spider
and settings.

Run through ``scripts/demo.py`` (``scripts/demo`` only makes the virtualenv first), twice on one port: the first run
writes every published post of ``demo/site``, the second finds nothing changed and writes nothing.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from pathlib import Path

from demo.wpsite import load_site

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def run_demo(output: Path, port: int, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "scripts/demo.py", "--port", str(port), "--output-dir", str(output), *extra],
                          cwd=ROOT, capture_output=True, text=True, timeout=180, check=False)


def test_demo_writes_every_published_post_then_nothing_when_nothing_changed(tmp_path: Path) -> None:
    site = load_site(ROOT / "demo" / "site")
    published = sorted({row.id for row in site.posts.rows} - site.unpublished_post_ids)
    port = free_port()

    first = run_demo(tmp_path, port)
    assert first.returncode == 0, first.stdout + first.stderr
    [output] = list(tmp_path.glob(f"127.0.0.1_{port}/posts-*.jsonl"))
    records = [json.loads(line) for line in output.read_text(encoding="utf-8").splitlines()]
    assert sorted(record["id"] for record in records) == published
    assert f"demo: {len(published)} posts written to {output}" in first.stdout
    assert all(record["title"] and record["author"]["name"] for record in records)

    second = run_demo(tmp_path, port)
    assert second.returncode == 0, second.stdout + second.stderr
    assert list(tmp_path.glob(f"127.0.0.1_{port}/posts-*.jsonl")) == [output]
    assert "nothing changed since the last run, so nothing was written (3 requests)" in second.stdout

    again = run_demo(tmp_path, port, "-a", "full=1")
    assert again.returncode == 0, again.stdout + again.stderr
    assert len(list(tmp_path.glob(f"127.0.0.1_{port}/posts-*.jsonl"))) == 2
    assert f"demo: {len(published)} posts written to" in again.stdout


def test_demo_takes_another_port_when_its_own_is_taken(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run_demo(tmp_path, port)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"port {port} is taken" in result.stdout
    [output] = list(tmp_path.glob("127.0.0.1_*/posts-*.jsonl"))
    assert output.parent.name != f"127.0.0.1_{port}"
