"""The output files: written as ``.part``, completed when a run ends or, after a dead run, by the next one."""

from __future__ import annotations

import json
from pathlib import Path

from viewworld.output import JsonLinesFile, recover_part_files


def ids_in(path):
    return [json.loads(line)["id"] for line in path.read_text(encoding="utf-8").splitlines()]


def test_a_dead_runs_part_file_is_completed_and_a_live_runs_left_alone(tmp_path):
    """A cron run recovers what a killed run left, never the file of a run still writing (a one-off run
    of the same site, which takes no lock of the site): that run holds an flock on its ``.part``."""
    live = JsonLinesFile(tmp_path / "posts-live.jsonl")
    live.write({"site": "x", "id": 1})
    dead = tmp_path / "posts-dead.jsonl.part"
    dead.write_bytes(b'{"site": "x", "id": 2, "modified_gmt": "2024-01-01T00:00:00Z"}\n{"site": "x", "id": 3}\n'
                     b'{"site": "x", "id": 4, "modified_gmt": "2024-01-01T00:00:00Z"}\n'
                     b'{"site": "x", "id": 4, "deleted": true}\n{"site": "x", "i')
    # What a recovery killed half-way left: the .part is still there, and recovered again.
    (tmp_path / "posts-dead.jsonl.recovering").write_bytes(b'{"site": "x", "id": 2')

    recovered = list(recover_part_files(tmp_path))

    assert [(path.name, records, versions) for path, records, versions, _ in recovered] == [
        ("posts-dead.jsonl", 4, {2: "2024-01-01T00:00:00Z"})]
    assert ids_in(tmp_path / "posts-dead.jsonl") == [2, 3, 4, 4] and not dead.exists()
    assert sorted(path.name for path in tmp_path.iterdir()) == ["posts-dead.jsonl", "posts-live.jsonl.part"]
    assert live.part_path.exists()
    live.write({"site": "x", "id": 4})
    assert ids_in(live.close()) == [1, 4]
    assert list(recover_part_files(tmp_path)) == []


def test_a_sites_output_stat_names_only_the_file_of_its_latest_crawl(tmp_path):
    """A cluster worker crawls a site again in the same process: until the new crawl's file is complete, the
    site's ``output`` (what the summary and the state's ``last_run`` name) is no longer the earlier file."""
    from scrapy import Spider
    from scrapy.utils.test import get_crawler

    from viewworld.items import Tombstone
    from viewworld.pipelines import JsonLinesPipeline

    crawler = get_crawler(Spider)
    crawler.spider = Spider("wpposts")
    pipeline = JsonLinesPipeline(crawler, tmp_path)
    crawler.stats.open_spider()
    pipeline.open_spider()
    pipeline.process_item(Tombstone("example.org", 7, True, "2024-06-01T00:00:00Z"))
    pipeline.site_finished("example.org")
    first = crawler.stats.get_value("sites/example.org/output")
    assert ids_in(Path(first)) == [7]
    pipeline.process_item(Tombstone("example.org", 8, True, "2024-06-01T01:00:00Z"))
    assert crawler.stats.get_value("sites/example.org/output") is None  # say, the disk fills up now
    pipeline.site_finished("example.org")
    second = crawler.stats.get_value("sites/example.org/output")
    assert second != first and ids_in(Path(second)) == [8]


def test_a_recovery_the_disk_cuts_short_leaves_the_part_file_and_no_half_copy(tmp_path, monkeypatch):
    import pytest

    import viewworld.output as output

    dead = tmp_path / "posts-dead.jsonl.part"
    dead.write_bytes(b'{"site": "x", "id": 2, "modified_gmt": "2024-01-01T00:00:00Z"}\n')

    def disk_full(part, temporary):
        temporary.write_bytes(b'{"site": "x", "i')
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(output, "_copy_records", disk_full)
    with pytest.raises(OSError):
        list(recover_part_files(tmp_path))
    assert sorted(path.name for path in tmp_path.iterdir()) == ["posts-dead.jsonl.part"]


def test_a_file_a_write_failed_on_stays_a_part_file_for_the_next_run_to_recover(tmp_path):
    """A full disk (here the file-size limit) cuts a big record short: the file is not completed with a torn last
    line, it stays a ``.part``, and recovery keeps its whole lines."""
    import subprocess
    import sys

    script = """
import resource, signal, sys
from pathlib import Path
from viewworld.output import JsonLinesFile
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
resource.setrlimit(resource.RLIMIT_FSIZE, (90_000, 90_000))
output = JsonLinesFile(Path(sys.argv[1]))
output.write({"site": "x", "id": 1, "modified_gmt": "2024-01-01T00:00:00Z", "content": "a" * 70_000})
for step in (lambda: output.write({"site": "x", "id": 2, "content": "b" * 70_000}), output.close):
    try:
        step()
    except OSError as error:
        print(error.errno)
"""
    path = tmp_path / "posts-x.jsonl"
    result = subprocess.run([sys.executable, "-c", script, str(path)], cwd=Path(__file__).parent.parent,
                            capture_output=True, text=True, check=True)
    assert len(result.stdout.split()) == 2, "the second write (part of it went to disk) and the close failed"
    assert not path.exists()
    part = path.with_name(path.name + ".part")
    assert part.stat().st_size == 90_000, "the torn line is in the .part file"
    [recovered] = recover_part_files(tmp_path)
    assert (recovered.records, recovered.versions) == (1, {1: "2024-01-01T00:00:00Z"})
    assert ids_in(path) == [1]
