"""Serve a seeded WordPress for benchmarks and manual checks.

    python -m tests.wordpress serve --permalinks plain --posts 5000

prints one JSON line (url, api_root, username, app_password, ...) on stdout once the site answers,
then serves until SIGINT or SIGTERM and stops MariaDB and PHP by their PIDs.
"""

from __future__ import annotations

import argparse
import json
import logging
import shutil
import signal
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

from .harness import DEFAULT_POSTS, running_sites, unavailable_reason
from .site import PERMALINK_STRUCTURES

if TYPE_CHECKING:
    from types import FrameType


class Stop(Exception):
    """SIGTERM or SIGINT arrived: leave the `with` blocks so every process is stopped."""


def _raise_stop(signum: int, frame: FrameType | None) -> NoReturn:
    raise Stop(signal.Signals(signum).name)


def parse_arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m tests.wordpress", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="start a seeded site and serve it until interrupted")
    serve.add_argument("--permalinks", choices=sorted(PERMALINK_STRUCTURES), default="plain")
    serve.add_argument("--posts", type=int, default=DEFAULT_POSTS, help="published posts to seed")
    serve.add_argument("--media", type=int, default=0,
                       help="a media library of this many more images, featured images going round it (a news "
                            "site's shape: about one distinct image per featured post)")
    serve.add_argument("--base-dir", type=Path,
                       help="where MariaDB and the site live (default: a temporary directory, removed at exit)")
    serve.add_argument("--truth", type=Path, help="also write the site's ground truth (JSON) to this file")
    return parser.parse_args(argv)


def serve(arguments: argparse.Namespace) -> None:
    base_dir = arguments.base_dir or Path(tempfile.mkdtemp(prefix="viewworld-wordpress-"))
    started = time.monotonic()
    try:
        with running_sites(base_dir, permalinks=(arguments.permalinks,), posts=arguments.posts,
                           media=arguments.media) as sites:
            site = sites[arguments.permalinks]
            if arguments.truth:
                arguments.truth.write_text(json.dumps(site.truth(), ensure_ascii=False), encoding="utf-8")
            print(json.dumps({
                "url": site.url, "api_root": site.api_root, "permalinks": site.permalinks,
                "username": site.username, "app_password": site.app_password, "posts": arguments.posts,
                "base_dir": str(base_dir), "seconds_to_start": round(time.monotonic() - started, 1),
            }), flush=True)
            while True:
                signal.pause()
    except Stop as stop:
        logging.info("%s: stopping", stop)
    finally:
        if arguments.base_dir is None:
            shutil.rmtree(base_dir, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(asctime)s %(message)s")
    arguments = parse_arguments(argv)
    if reason := unavailable_reason():
        print(reason, file=sys.stderr)
        return 1
    signal.signal(signal.SIGTERM, _raise_stop)
    signal.signal(signal.SIGINT, _raise_stop)
    serve(arguments)
    return 0


if __name__ == "__main__":
    sys.exit(main())
