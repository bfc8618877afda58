"""The output files: written as ``.part``, completed when a run ends or, after a dead run, by the next one."""

from __future__ import annotations

import json

from viewworld.output import JsonLinesFile, recover_part_files


def ids_in(path):
    return [json.loads(line)["id"] for line in path.read_text(encoding="utf-8").splitlines()]


def test_a_dead_runs_part_file_is_completed_and_a_live_runs_left_alone(tmp_path):
    """A cron run recovers what a killed run left, never the file of a run still writing (a one-off run
    of the same site, which takes no lock of the site): that run holds an flock on its ``.part``."""
    live = JsonLinesFile(tmp_path / "posts-live.jsonl")
    live.write({"site": "x", "id": 1})
    dead = tmp_path / "posts-dead.jsonl.part"
    dead.write_bytes(b'{"site": "x", "id": 2}\n{"site": "x", "id": 3}\n{"site": "x", "i')

    recovered = recover_part_files(tmp_path)

    assert [(path.name, [record["id"] for record in records]) for path, records in recovered] == [
        ("posts-dead.jsonl", [2, 3])]
    assert ids_in(tmp_path / "posts-dead.jsonl") == [2, 3] and not dead.exists()
    assert live.part_path.exists()
    live.write({"site": "x", "id": 4})
    assert ids_in(live.close()) == [1, 4]
    assert recover_part_files(tmp_path) == []
