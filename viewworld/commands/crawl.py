"""``scrapy crawl`` with exit codes: the same command as Scrapy's, but

- bad arguments exit 2 with one line saying what was wrong;
- a site whose lock another run holds exits 4 at once, before anything is opened;
- a ``JOBDIR`` is dropped, with a warning: the state and the recovery of a dead run's ``.part`` file make
  the next run complete, and a resumed request queue would replay a dead run's requests beside the
  new run's own walk (Scrapyd sets one per job when its ``jobs_dir`` is set);
- the exit status says how the crawl went (see ``viewworld.outcome``);
- a ``LOG_FILE``'s directory is made, as ``OUTPUT_DIR``'s is; a log that cannot be written exits 5 with one
  line, before anything is crawled (Scrapy's own logging set-up would stop with a traceback).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

from scrapy.commands.crawl import Command as ScrapyCrawlCommand
from scrapy.exceptions import UsageError

from viewworld.outcome import BAD_ARGUMENTS, OUTPUT_FAILED, SITE_LOCKED, exit_code
from viewworld.state import SiteLocked, StateStore

if TYPE_CHECKING:
    import argparse


class Command(ScrapyCrawlCommand):
    def process_options(self, args: list[str], opts: argparse.Namespace) -> None:
        super().process_options(args, opts)
        assert self.settings is not None
        if log_file := self.settings.get("LOG_FILE"):
            directory = Path(log_file).parent
            try:
                directory.mkdir(parents=True, exist_ok=True)
            except OSError as error:
                self.log_file_failed(log_file, f"{directory} is no directory and cannot be made ({error.strerror})")
            try:
                with open(log_file, "a", encoding=self.settings.get("LOG_ENCODING") or "utf-8"):
                    pass
            except OSError as error:
                self.log_file_failed(log_file, str(error.strerror or error))

    @staticmethod
    def log_file_failed(log_file: str, reason: str) -> NoReturn:
        print(f"scrapy crawl: LOG_FILE={log_file} cannot be written: {reason}", file=sys.stderr)
        sys.exit(OUTPUT_FAILED)

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
        if settings.get("JOBDIR"):
            print(f"{spider_class.name}: JOBDIR={settings['JOBDIR']} ignored: STATE_DIR's state and the recovery "
                  "of a dead run's .part file make the next run complete", file=sys.stderr)
            settings.set("JOBDIR", None, priority="cmdline")
        crawler = self._create_crawler(spider_class)
        self.crawler_process.crawl(crawler, **opts.spargs)
        self.crawler_process.start()
        if self.crawler_process.bootstrap_failed:
            self.exitcode = 1
            return
        assert crawler.stats is not None
        self.exitcode = exit_code(crawler.stats.get_stats())

