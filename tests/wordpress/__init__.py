"""A real WordPress, served by PHP with a private MariaDB, seeded with known content for integration tests."""

from __future__ import annotations

from .harness import DEFAULT_POSTS, extra_site, running_sites, unavailable_reason
from .mariadb import MariaDB
from .processes import HarnessError
from .site import PERMALINK_STRUCTURES, Permalinks, WordPressSite

__all__ = [
    "DEFAULT_POSTS",
    "PERMALINK_STRUCTURES",
    "HarnessError",
    "MariaDB",
    "Permalinks",
    "WordPressSite",
    "extra_site",
    "running_sites",
    "unavailable_reason",
]
