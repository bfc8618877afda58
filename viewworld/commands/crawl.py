"""``scrapy crawl`` with exit codes: the same command as Scrapy's, but bad arguments exit 2 with one
line saying what was wrong, and the exit status says how the crawl went (see ``viewworld.outcome``)."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from scrapy.commands.crawl import Command as ScrapyCrawlCommand
from scrapy.exceptions import UsageError

from viewworld.outcome import BAD_ARGUMENTS, exit_code

if TYPE_CHECKING:
    import argparse


class Command(ScrapyCrawlCommand):
    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        if len(args) != 1:
            raise UsageError("run one spider: scrapy crawl wpposts [-a name=value ...]")
        assert self.crawler_process is not None
        spider_class = self.crawler_process.spider_loader.load(args[0])
        check_arguments = getattr(spider_class, "check_arguments", None)
        if check_arguments is not None:
            try:
                check_arguments(opts.spargs)
            except ValueError as error:
                print(f"{spider_class.name}: {error}", file=sys.stderr)
                self.exitcode = BAD_ARGUMENTS
                return
        crawler = self._create_crawler(spider_class)
        self.crawler_process.crawl(crawler, **opts.spargs)
        self.crawler_process.start()
        if self.crawler_process.bootstrap_failed:
            self.exitcode = 1
            return
        assert crawler.stats is not None
        self.exitcode = exit_code(crawler.stats.get_stats())
