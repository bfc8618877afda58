"""``scrapy crawl`` with exit codes: the same command as Scrapy's, but

- bad arguments, and settings given with ``-s`` that are not what they must be (a number, a whole number,
  true or false, a JSON object, a log level), exit 2 with one line saying what was wrong;
- a ``STATE_DIR`` that cannot be written exits 5 with one line, before anything is crawled;
- a cluster worker's ``REDIS_URL`` that is no Redis URL exits 2, one whose Redis does not answer exits 3, with
  one line (its password hidden);
- a site whose lock another run holds exits 4 at once, before anything is opened; more sites than the limit of
  open files allows locks for (the limit raised first to the most the process may have) exit 2 with one line;
- a ``JOBDIR`` is dropped, with a warning: the state and the recovery of a dead run's ``.part`` file make
  the next run complete, and a resumed request queue would replay a dead run's requests beside the
  new run's own walk (Scrapyd sets one per job when its ``jobs_dir`` is set);
- the exit status says how the crawl went (see ``viewworld.outcome``);
- a ``LOG_FILE``'s directory is made, as ``OUTPUT_DIR``'s is; a log that cannot be written exits 5 with one
  line, before anything is crawled (Scrapy's own logging set-up would stop with a traceback).
"""

from __future__ import annotations

import errno
import logging
import resource
import sys
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

from scrapy.commands.crawl import Command as ScrapyCrawlCommand
from scrapy.exceptions import UsageError
from scrapy.settings import SETTINGS_PRIORITIES, default_settings

from viewworld.credentials import credentials_configured, tls_keys_logged
from viewworld.outcome import BAD_ARGUMENTS, OUTPUT_FAILED, SITE_FAILED, SITE_LOCKED, exit_code
from viewworld.state import SiteLocked, StateStore

if TYPE_CHECKING:
    import argparse

    from scrapy.settings import BaseSettings


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
                    refuse(f"-s {pair}: the setting is a JSON object, not {value!r}", BAD_ARGUMENTS)
            raise
        if (malformed := malformed_setting(self.settings)) is not None:
            refuse(malformed, BAD_ARGUMENTS)
        if (log_file := self.settings.get("LOG_FILE")) and self.settings.getbool("LOG_ENABLED"):
            directory = Path(log_file).parent
            try:
                directory.mkdir(parents=True, exist_ok=True)
            except OSError as error:
                refuse(f"LOG_FILE={log_file} cannot be written: {unmade_directory(directory, error)}", OUTPUT_FAILED)
            try:
                with open(log_file, "a", encoding=self.settings.get("LOG_ENCODING") or "utf-8"):
                    pass
            except OSError as error:
                refuse(f"LOG_FILE={log_file} cannot be written: {error.strerror or error}", OUTPUT_FAILED)

    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        if len(args) != 1:
            raise UsageError("run one spider: scrapy crawl wpposts [-a name=value ...]")
        assert self.crawler_process is not None
        spider_class = self.crawler_process.spider_loader.load(args[0])
        run_plan = getattr(spider_class, "run_plan", None)
        locks: list[str] = []
        sites = 0
        if run_plan is not None:
            try:
                sites, locks = run_plan(opts.spargs)
            except ValueError as error:
                print(f"{spider_class.name}: {error}", file=sys.stderr)
                self.exitcode = BAD_ARGUMENTS
                return
        settings = self.crawler_process.settings
        if settings.getbool("HTTPCACHE_ENABLED") and credentials_configured():
            refuse("HTTPCACHE_ENABLED with credentials: Scrapy's HTTP cache writes each request's headers to disk, "
                   "the application password among them; crawl without the cache", BAD_ARGUMENTS)
        if (credentials_configured() and not settings.getbool("DOWNLOAD_VERIFY_CERTIFICATES")
                and settings.getpriority("DOWNLOAD_VERIFY_CERTIFICATES") >= SETTINGS_PRIORITIES["spider"]):
            refuse("DOWNLOAD_VERIFY_CERTIFICATES=False with credentials: the application password would go to whoever "
                   "answers for the site's host; crawl without credentials, or fix the site's certificate", BAD_ARGUMENTS)
        if credentials_configured() and tls_keys_logged():
            refuse("SSLKEYLOGFILE with credentials: Scrapy writes each TLS session's keys there, and with a capture of "
                   "the traffic they show the application password; unset it, or crawl without credentials",
                   BAD_ARGUMENTS)
        if settings.get("REDIS_URL"):
            # A claim carries full, sweep and per_page to whichever worker pops it; a one-off crawl's dates and
            # count would hold for this worker's claims only, and it would crawl them without a lock.
            if one_off := [name for name in ("since", "until", "max_posts") if name in opts.spargs]:
                refuse(f"argument {one_off[0]} cannot be used with REDIS_URL: a cluster's claims carry no dates or "
                       "count; crawl one-off on one machine (without REDIS_URL)", BAD_ARGUMENTS)
            # A cluster's locks and state are in Redis, taken site by site as workers claim them, a few at a time.
            locks, sites = [], 0
            from viewworld.cluster import redis_problem, shown_redis_url  # noqa: PLC0415 (only a cluster loads Redis)

            if (problem := redis_problem(settings)) is not None:
                wrong_url, reason = problem
                refuse(f"REDIS_URL={shown_redis_url(settings['REDIS_URL'])}: {reason}",
                       BAD_ARGUMENTS if wrong_url else SITE_FAILED)
        store = StateStore(Path(settings["STATE_DIR"] or "state"))
        open_files = raise_open_files_limit()
        if sites and (needed := open_files_needed(sites, len(locks), settings)) > open_files != resource.RLIM_INFINITY:
            refuse(f"{sites} sites need about {needed} open files (a lock each, unless one-off, and the files and "
                   f"connections of CONCURRENT_SITES at a time), more than this process may have (ulimit -n: "
                   f"{open_files}); give fewer sites a run, lower CONCURRENT_SITES, or raise the limit", BAD_ARGUMENTS)
        try:
            for key in locks:
                store.lock(key)
        except SiteLocked as error:
            print(f"{spider_class.name}: {error}; is another crawl of this site still running?", file=sys.stderr)
            self.exitcode = SITE_LOCKED
            return
        except OSError as error:
            if error.errno == errno.EMFILE:  # more files open than open_files_needed counts on
                store.unlock_all()
                refuse(f"{len(locks)} sites take a lock each, more open files than this process may have (ulimit -n: "
                       f"{open_files}); give fewer sites a run, or raise the limit", BAD_ARGUMENTS)
            refuse(f"STATE_DIR={store.directory} cannot be written: {unmade_directory(store.directory, error)}",
                   OUTPUT_FAILED)
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


def raise_open_files_limit() -> int:
    """Raises this process's limit of open files to the most it may have (a run holds a lock per site, and the
    files and connections of ``CONCURRENT_SITES`` at a time); the limit now."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        return soft
    # An unlimited hard limit still has a ceiling: the kernel's (Linux's nr_open), macOS's 10,240 a process.
    for wanted in (hard,) if hard != resource.RLIM_INFINITY else (1 << 20, 1 << 16, 10_240):
        if soft >= wanted:
            return soft
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
        except (ValueError, OSError):  # a container's own cap below its hard limit
            continue
        return wanted
    return soft


# Files a crawl keeps open whatever its sites: Python's and Twisted's, the log, a state file being written.
OPEN_FILES_BASE = 64


def open_files_needed(sites: int, locks: int, settings: BaseSettings) -> int:
    """About how many files a run of ``sites`` sites keeps open at most: its ``locks``, and for each site crawled at
    once (``CONCURRENT_SITES``; 0 or less: all) its connections and its output file.

    >>> from scrapy.settings import Settings
    >>> settings = Settings({"CONCURRENT_SITES": 16, "CONCURRENT_REQUESTS_PER_DOMAIN": 4})
    >>> open_files_needed(300, 300, settings), open_files_needed(300, 0, settings)  # 0 locks: a one-off run
    (444, 144)
    >>> settings.set("CONCURRENT_SITES", -1)
    >>> open_files_needed(200, 200, settings)  # all at once
    1264
    """
    at_once = min(sites, max(settings.getint("CONCURRENT_SITES"), 0) or sites)
    return OPEN_FILES_BASE + locks + at_once * (settings.getint("CONCURRENT_REQUESTS_PER_DOMAIN") + 1)


def refuse(message: str, code: int) -> NoReturn:
    """Ends the command before the crawl starts, with one line on stderr."""
    print(f"scrapy crawl: {message}", file=sys.stderr)
    sys.exit(code)


_LOG_LEVELS = "CRITICAL, ERROR, WARNING, INFO, DEBUG"  # logging's names, in upper case only
# How a setting is read, by the type of its default; a dict's JSON is read when it is set (process_options).
_READERS: dict[type, tuple[str, str]] = {bool: ("getbool", "true or false"), int: ("getint", "a whole number"),
                                         float: ("getfloat", "a number")}
# Settings whose 0 would stall the crawl for ever, deaf to SIGTERM (nothing in flight ever ends).
_AT_LEAST_ONE = frozenset({"CONCURRENT_REQUESTS", "CONCURRENT_REQUESTS_PER_DOMAIN", "CONCURRENT_ITEMS",
                           "CLUSTER_SITES_PER_WORKER"})
# Settings with a whole-number default that Scrapy and viewworld read as numbers (seconds).
_READ_AS_NUMBERS = frozenset({"DNS_TIMEOUT", "DOWNLOAD_TIMEOUT", "DOWNLOAD_DELAY", "CLOSESPIDER_TIMEOUT",
                              "INCREMENTAL_OVERLAP", "DELETION_SWEEP_INTERVAL", "RETRY_AFTER_MAX",
                              "CLUSTER_WORKER_TIMEOUT", "MAX_IDLE_TIME_BEFORE_CLOSE"})


def malformed_setting(settings: BaseSettings) -> str | None:
    """What is wrong with the first setting given on the command line (``-s``, as Scrapyd gives them too) that
    cannot be read as its default is (a number, a whole number, true or false, a log level); None when every
    one can.
    Scrapy would read it only when a component asks, and stop there with a traceback.

    >>> from scrapy.settings import Settings
    >>> settings = Settings({"DOWNLOAD_DELAY": 0.25, "ROBOTSTXT_OBEY": True, "CONCURRENT_REQUESTS": 16})
    >>> settings.set("DOWNLOAD_DELAY", "fast", priority="cmdline")
    >>> malformed_setting(settings)
    "-s DOWNLOAD_DELAY=fast: the setting is a number, not 'fast'"
    >>> settings.set("DOWNLOAD_DELAY", "0.5", priority="cmdline")
    >>> settings.set("CONCURRENT_REQUESTS", "4.5", priority="cmdline")
    >>> malformed_setting(settings)
    "-s CONCURRENT_REQUESTS=4.5: the setting is a whole number, not '4.5'"
    >>> settings.set("CONCURRENT_REQUESTS", "0", priority="cmdline")
    >>> malformed_setting(settings)
    '-s CONCURRENT_REQUESTS=0: the setting is at least 1 (0 stalls the crawl for ever)'
    >>> settings.set("CONCURRENT_REQUESTS", "4", priority="cmdline")
    >>> settings.set("ROBOTSTXT_OBEY", "False", priority="cmdline")
    >>> malformed_setting(settings) is None
    True
    """
    from viewworld import settings as project_settings

    given = SETTINGS_PRIORITIES["cmdline"]
    for name in settings:
        if settings.getpriority(name) != given:
            continue
        if name == "LOG_LEVEL" and settings[name] not in logging.getLevelNamesMapping():
            return f"-s {name}={settings[name]}: the setting is one of {_LOG_LEVELS}, not {settings[name]!r}"
        default = getattr(project_settings, name, getattr(default_settings, name, None))
        reader = _READERS.get(float if name in _READ_AS_NUMBERS else type(default))
        if reader is None:
            continue
        method, kind = reader
        try:
            value = getattr(settings, method)(name)
        except (ValueError, TypeError):
            return f"-s {name}={settings[name]}: the setting is {kind}, not {settings[name]!r}"
        if name in _AT_LEAST_ONE and value < 1:
            return f"-s {name}={settings[name]}: the setting is at least 1 (0 stalls the crawl for ever)"
    return None


def unmade_directory(directory: Path, error: OSError) -> str:
    """Why ``directory`` could not be made (or used): a file in its way, by name, else the system's reason.

    >>> unmade_directory(Path("/dev/null/logs"), NotADirectoryError(20, "Not a directory"))
    '/dev/null is a file, not a directory'
    """
    for path in (directory, *directory.parents):
        if path.exists():
            if not path.is_dir():
                return f"{path} is a file, not a directory"
            break
    return str(error.strerror or error)
