"""Runs the real ``scrapy crawl wpposts`` command, as a user or cron would, and reads what it wrote."""

from __future__ import annotations

import ast
import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jsonschema

from viewworld.credentials import CREDENTIAL_VARIABLES
from viewworld.sites import site_key
from viewworld.state import StateStore

if TYPE_CHECKING:
    from collections.abc import Iterable

ROOT = Path(__file__).resolve().parent.parent
SCHEMAS = ROOT / "viewworld" / "schemas"
# Tests crawl loopback servers: no politeness delay, so that the suite stays fast.
FAST = {"DOWNLOAD_DELAY": "0", "AUTOTHROTTLE_ENABLED": "False", "PROGRESS_INTERVAL": "0", "LOG_LEVEL": "INFO"}


@dataclass
class Crawl:
    exit_code: int
    output_dir: Path
    log: str
    stderr: str

    def files(self) -> list[Path]:
        """This crawl's output files (a later crawl into the same directory has its own)."""
        run = self.stat("viewworld/run")
        return sorted(self.output_dir.glob(f"*/posts-{run}.jsonl")) if run else []

    def items(self) -> list[dict[str, Any]]:
        return records_of(self.files())

    def stat(self, name: str) -> Any:
        return log_stat(self.log, name)

    @property
    def requests(self) -> int:
        return self.stat("downloader/request_count") or 0

    def last_run(self, site_url: str) -> dict[str, Any]:
        """What the site's state (in ``output_dir/state``) says of the last run that ended the site."""
        return StateStore(self.output_dir / "state").load(site_key(site_url)).last_run


def log_stat(log: str, name: str) -> Any:
    """A number or string from the stats Scrapy dumps at the end of a crawl's log; None if absent."""
    match = re.search(rf"'{re.escape(name)}': ([^,\n}}]+)", log)
    return None if match is None else ast.literal_eval(match.group(1))


def scrapy_command() -> list[str]:
    return [sys.executable, "-m", "scrapy.cmdline"]


def crawl_command(*arguments: str, settings: dict[str, str]) -> list[str]:
    """``scrapy crawl wpposts -a ARG ... -s NAME=VALUE ...``: ``arguments`` are ``name=value``; the settings
    are the fast ones of the tests, then ``settings``."""
    command = [*scrapy_command(), "crawl", "wpposts"]
    for argument in arguments:
        command += ["-a", argument]
    for name, value in (FAST | settings).items():
        command += ["-s", f"{name}={value}"]
    return command


def crawl_environment(env: dict[str, str] | None = None) -> dict[str, str]:
    """The test process's environment without credentials (a crawl gets them only when a test says so)."""
    return {name: value for name, value in os.environ.items() if name not in CREDENTIAL_VARIABLES} | (env or {})


def output_settings(output_dir: Path, log_file: Path) -> dict[str, str]:
    """OUTPUT_DIR, STATE_DIR (``output_dir/state``: crawls with the same ``output_dir`` share their state)
    and LOG_FILE."""
    return {"OUTPUT_DIR": str(output_dir), "STATE_DIR": str(output_dir / "state"), "LOG_FILE": str(log_file)}


def start_crawl(*arguments: str, settings: dict[str, str], env: dict[str, str] | None = None,
                output: int | None = subprocess.DEVNULL) -> subprocess.Popen[bytes]:
    """``scrapy crawl wpposts`` started in the background (see :func:`crawl_command`); ``output`` is
    where its stdout and stderr go (``subprocess.PIPE`` to read them)."""
    return subprocess.Popen(crawl_command(*arguments, settings=settings), cwd=ROOT, env=crawl_environment(env),
                            stdout=output, stderr=output)


def records_of(paths: Iterable[Path]) -> list[dict[str, Any]]:
    return [json.loads(line) for path in paths for line in path.read_text(encoding="utf-8").splitlines()]


def written_items(output_dir: Path) -> list[dict[str, Any]]:
    """Every record of every finished output file under ``output_dir``, whichever crawl wrote it."""
    return records_of(sorted(output_dir.glob("*/posts-*.jsonl")))


def crawl(output_dir: Path, *arguments: str, settings: dict[str, str] | None = None,
          env: dict[str, str] | None = None, options: tuple[str, ...] = (), timeout: float = 300) -> Crawl:
    """``scrapy crawl wpposts -a ARG ... -s OUTPUT_DIR=output_dir -s STATE_DIR=output_dir/state``;
    ``arguments`` are ``name=value``. Crawls with the same ``output_dir`` share their state."""
    output_dir.mkdir(parents=True, exist_ok=True)
    log_file = output_dir / f"crawl-{len(list(output_dir.glob('crawl-*.log')))}.log"
    command = crawl_command(*arguments, settings=output_settings(output_dir, log_file) | (settings or {}))
    finished = subprocess.run([*command, *options], cwd=ROOT, env=crawl_environment(env), capture_output=True,
                              text=True, timeout=timeout, check=False)
    log = log_file.read_text(encoding="utf-8") if log_file.exists() else ""
    return Crawl(finished.returncode, output_dir, log, finished.stderr)


@cache
def _validator(record: str) -> jsonschema.Draft202012Validator:
    schema = json.loads((SCHEMAS / f"{record}.schema.json").read_text(encoding="utf-8"))
    return jsonschema.Draft202012Validator(schema)


def assert_valid_records(items: list[dict[str, Any]]) -> None:
    """Each line is a post or, when it says ``deleted``, a tombstone; each must match its schema."""
    for item in items:
        validator = _validator("tombstone" if "deleted" in item else "post")
        errors = sorted(validator.iter_errors(item), key=lambda error: list(error.path))
        assert not errors, f"post {item.get('id')}: {errors[0].message} at {list(errors[0].path)}"
