"""``scrapy crawl`` with exit codes: the same command as Scrapy's, but

- bad arguments, and settings given with ``-s`` that are not what they must be (a number, true or false, a
  JSON object), exit 2 with one line saying what was wrong;
- a ``STATE_DIR`` that cannot be written exits 5 with one line, before anything is crawled;
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
from scrapy.settings import SETTINGS_PRIORITIES, BaseSettings, default_settings

from viewworld.outcome import BAD_ARGUMENTS, OUTPUT_FAILED, SITE_LOCKED, exit_code
from viewworld.state import SiteLocked, StateStore

if TYPE_CHECKING:
    import argparse


class Command(ScrapyCrawlCommand):
    def process_options(self, args: list[str], opts: argparse.Namespace) -> None:
        assert self.settings is not None
        try:
            super().process_options(args, opts)
        except (ValueError, TypeError):  # a -s of a dict setting (Scrapy reads its JSON at once) that is none
            for pair in opts.set:
                name, _, value = pair.partition("=")
                try:
                    self.settings.copy().set(name, value, priority="cmdline")
                except (ValueError, TypeError):
                    print(f"scrapy crawl: -s {pair}: the setting is a JSON object, not {value!r}", file=sys.stderr)
                    sys.exit(BAD_ARGUMENTS)
            raise
        if (malformed := malformed_setting(self.settings)) is not None:
            print(f"scrapy crawl: {malformed}", file=sys.stderr)
            sys.exit(BAD_ARGUMENTS)
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
        except OSError as error:
            print(f"scrapy crawl: STATE_DIR={store.directory} cannot be written: {error.strerror or error}",
                  file=sys.stderr)
            self.exitcode = OUTPUT_FAILED
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



# How a setting is read, by the type of its default. An integer's is read as a number: Scrapy reads some
# settings with an integer default as floats (DOWNLOAD_TIMEOUT, CLOSESPIDER_TIMEOUT). A dict's JSON is read
# when it is set (process_options).
_READERS: dict[type, tuple[str, str]] = {bool: ("getbool", "true or false"), int: ("getfloat", "a number"),
                                         float: ("getfloat", "a number")}


def malformed_setting(settings: BaseSettings) -> str | None:
    """What is wrong with the first setting given on the command line (``-s``, as Scrapyd gives them too) that
    cannot be read as its default is (a number, true or false); None when every one can.
    Scrapy would read it only when a component asks, and stop there with a traceback.

    >>> from scrapy.settings import Settings
    >>> settings = Settings({"DOWNLOAD_DELAY": 0.25, "ROBOTSTXT_OBEY": True})
    >>> settings.set("DOWNLOAD_DELAY", "fast", priority="cmdline")
    >>> malformed_setting(settings)
    "-s DOWNLOAD_DELAY=fast: the setting is a number, not 'fast'"
    >>> settings.set("DOWNLOAD_DELAY", "0.5", priority="cmdline")
    >>> settings.set("ROBOTSTXT_OBEY", "False", priority="cmdline")
    >>> malformed_setting(settings) is None
    True
    """
    from viewworld import settings as project_settings

    given = SETTINGS_PRIORITIES["cmdline"]
    for name in settings:
        if settings.getpriority(name) != given:
            continue
        default = getattr(project_settings, name, getattr(default_settings, name, None))
        reader = _READERS.get(type(default))
        if reader is None:
            continue
        method, kind = reader
        try:
            getattr(settings, method)(name)
        except (ValueError, TypeError):
            return f"-s {name}={settings[name]}: the setting is {kind}, not {settings[name]!r}"
    return None
