"""Real WordPress sites for integration tests: one MariaDB, one seeded site per permalink mode.

tests/conftest.py's session fixture ``wordpress_sites`` starts them once per test run (and fails, never
skips, when ``unavailable_reason()`` says the Debian packages are missing).
"""

from __future__ import annotations

import os
import shutil
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from typing import TYPE_CHECKING

from .mariadb import MariaDB
from .site import WORDPRESS_SOURCE, WordPressSite

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence
    from pathlib import Path

    from .site import Permalinks

# Debian installs mariadbd in /usr/sbin, which a user's PATH (not root's) leaves out.
os.environ["PATH"] = os.pathsep.join(dict.fromkeys([*os.environ.get("PATH", "").split(os.pathsep), "/usr/sbin", "/sbin"]))

DEFAULT_POSTS = 230
REQUIRED_PROGRAMS = ("php", "mariadbd", "mariadb-install-db", "mariadb", "mariadb-admin")


def unavailable_reason() -> str | None:
    """Why real WordPress sites cannot run here, or None; see scripts/install-system-packages.sh."""
    missing = [program for program in REQUIRED_PROGRAMS if shutil.which(program) is None]
    if not (WORDPRESS_SOURCE / "wp-settings.php").is_file():
        missing.append(f"{WORDPRESS_SOURCE} (Debian package wordpress)")
    if not missing:
        return None
    return f"real WordPress unavailable, missing: {', '.join(missing)} (run scripts/install-system-packages.sh)"


@contextmanager
def running_sites(base_dir: Path, permalinks: Sequence[Permalinks] = ("plain", "pretty"),
                  posts: int = DEFAULT_POSTS, media: int = 0) -> Iterator[dict[str, WordPressSite]]:
    """Start one MariaDB and one installed, seeded site per permalink mode; stop them all on exit.

    Cost on 2 cores: about 7 s for two sites of 230 posts (seeded in parallel); 60 s for one of 5,000.
    Every site gets the same content and the same ids.
    """
    with ExitStack() as stack:
        database = stack.enter_context(MariaDB(base_dir / "mariadb"))
        # Servers start in this thread: they are tied to the thread that starts them (see BackgroundProcess).
        sites: dict[str, WordPressSite] = {}
        for mode in permalinks:
            sites[mode] = stack.enter_context(WordPressSite(base_dir / f"site-{mode}", database, mode))
        install_all(list(sites.values()), posts, media)
        yield sites


@contextmanager
def extra_site(database: MariaDB, directory: Path, posts: int,
               media: int = 0) -> Iterator[tuple[WordPressSite, dict[str, int]]]:
    """One more installed and seeded site (pretty permalinks) in a running MariaDB, with its seed counts;
    the directory's name names its database. Stopped on exit."""
    with WordPressSite(directory, database, "pretty") as site:
        yield site, site.install(posts, media)


def install_all(sites: list[WordPressSite], posts: int, media: int = 0) -> None:
    """Install and seed the sites in parallel: seeding is PHP and MariaDB work, a core each."""
    if len(sites) == 1:
        # In this thread, an interruption (Ctrl-C, SIGTERM in the CLI) also stops the PHP script.
        sites[0].install(posts, media)
        return
    with ThreadPoolExecutor(max_workers=len(sites)) as pool:
        for _counts in pool.map(lambda site: site.install(posts, media), sites):
            pass
