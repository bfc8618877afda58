"""How a crawl ended, as an exit code cron can act on (Scrapy's own crawl command exits 0 whatever
happened). The codes, from the least to the most severe:

- 0: every site crawled (optional links closed on purpose, such as ``/users``, are warnings);
- 1: the crawl ran but lost data: a page or a linked resource failed for good, an error was logged,
  the crawl was interrupted, or a site listed no post at all;
- 2: bad arguments or settings (the crawl does not start);
- 3: a site could not be crawled at all (no API found, API disabled, blocked, unreachable);
- 4: another run holds a site's lock (that site was skipped);
- 5: the output, the state or the log could not be written (a dead run's ``.part`` files included).

When several apply, the most severe wins: 5, 2, 3, 1, 4.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Mapping

OK = 0
DATA_LOST = 1
BAD_ARGUMENTS = 2
SITE_FAILED = 3
SITE_LOCKED = 4
OUTPUT_FAILED = 5


def exit_code(stats: Mapping[str, Any]) -> int:
    if any(stats.get(key) for key in ("viewworld/output_failed", "viewworld/state_unsaved",
                                      "viewworld/recovery_failed")):
        return OUTPUT_FAILED
    if stats.get("viewworld/state_damaged"):
        return BAD_ARGUMENTS
    if stats.get("viewworld/sites_failed"):
        return SITE_FAILED
    lost = ("viewworld/pages_failed", "viewworld/linked_failed", "viewworld/sites_empty", "log_count/ERROR",
            "log_count/CRITICAL")
    if any(stats.get(key) for key in lost) or stats.get("finish_reason") != "finished":
        return DATA_LOST
    if stats.get("viewworld/sites_locked"):
        return SITE_LOCKED
    return OK
