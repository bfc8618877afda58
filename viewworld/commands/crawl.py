"""``scrapy crawl`` with exit codes: the same command as Scrapy's, but

- bad arguments exit 2 with one line saying what was wrong;
- a site whose lock another run holds exits 4 at once, before anything is opened;
- each run gets a JOBDIR (``STATE_DIR/jobs/<sites>``) unless one is set: a run killed or interrupted
  leaves it, the next run of the same sites resumes it, and a successful run removes it;
- the exit status says how the crawl went (see ``viewworld.outcome``).
"""

from __future__ import annotations

import hashlib
import shutil
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from scrapy.commands.crawl import Command as ScrapyCrawlCommand
from scrapy.exceptions import UsageError

from viewworld.outcome import BAD_ARGUMENTS, OK, SITE_LOCKED, exit_code
from viewworld.state import SiteLocked, StateStore

if TYPE_CHECKING:
    import argparse


class Command(ScrapyCrawlCommand):
    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        if len(args) != 1:
            raise UsageError("run one spider: scrapy crawl wpposts [-a name=value ...]")
        assert self.crawler_process is not None
        spider_class = self.crawler_process.spider_loader.load(args[0])
        run_locks = getattr(spider_class, "run_locks", None)
        locks: list[str] = []
        if run_locks is not None:
            try:
                locks = run_locks(opts.spargs)
            except ValueError as error:
                print(f"{spider_class.name}: {error}", file=sys.stderr)
                self.exitcode = BAD_ARGUMENTS
                return
        settings = self.crawler_process.settings
        if settings.get("REDIS_URL"):
            locks = []  # a cluster's locks and state are in Redis, taken site by site as workers claim them
        store = StateStore(Path(settings["STATE_DIR"] or "state"))
        try:
            for key in locks:
                store.lock(key)
        except SiteLocked as error:
            print(f"{spider_class.name}: {error}; is another crawl of this site still running?", file=sys.stderr)
            self.exitcode = SITE_LOCKED
            return
        job_directory = None
        if locks and not settings.get("JOBDIR"):
            job_directory = store.directory / "jobs" / _job_name(locks)
            settings.set("JOBDIR", str(job_directory), priority="cmdline")
        crawler = self._create_crawler(spider_class)
        self.crawler_process.crawl(crawler, **opts.spargs)
        self.crawler_process.start()
        if self.crawler_process.bootstrap_failed:
            self.exitcode = 1
            return
        assert crawler.stats is not None
        self.exitcode = exit_code(crawler.stats.get_stats())
        if job_directory is not None and self.exitcode == OK:
            shutil.rmtree(job_directory, ignore_errors=True)


def _job_name(keys: list[str]) -> str:
    name = "+".join(sorted(keys))
    return name if len(name) <= 100 else hashlib.sha256(name.encode()).hexdigest()[:24]
