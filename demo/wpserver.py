"""Serve a WordPress-shaped site on 127.0.0.1: `python demo/wpserver.py --site-dir demo/site --port 0`.

Prints one JSON line, `{"url": "http://127.0.0.1:PORT", "pid": PID}`, once it listens, and stops on SIGTERM or
SIGINT. The HTTP plumbing here only moves bytes: every answer comes from a `handle(method, path_and_query,
headers) -> Response` function (demo.wpapi.WordPressApp.handle), which a fault layer can wrap.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Callable, NoReturn

if __package__ in (None, ""):
    # Run as a script: make the `demo` package importable from the repository root.
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from demo.wpapi import Response, WordPressApp
from demo.wpsite import Site, load_site

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

RequestHandler = Callable[[str, str, "Mapping[str, str]"], Response]
DEFAULT_SITE_DIR = Path(__file__).resolve().parent / "site"


class WordPressRequestHandler(BaseHTTPRequestHandler):
    # HTTP/1.1 keeps connections open between requests, as a crawler's connection pool expects.
    protocol_version = "HTTP/1.1"
    server: WordPressHTTPServer

    def version_string(self) -> str:
        return "Apache"

    def answer(self) -> None:
        response = self.server.respond(self.command, self.path, dict(self.headers.items()))
        self.send_response(response.status)
        for name, value in response.headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(response.body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(response.body)

    do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = answer

    def log_message(self, format: str, *args: object) -> None:
        if self.server.verbose:
            super().log_message(format, *args)


class WordPressHTTPServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, port: int, verbose: bool = False) -> None:
        super().__init__(("127.0.0.1", port), WordPressRequestHandler)
        self.verbose = verbose
        self.respond: RequestHandler = not_ready

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


def not_ready(method: str, path_and_query: str, headers: Mapping[str, str]) -> Response:
    return Response(503, [("Content-Type", "text/plain")], b"starting\n")


def build_site(args: argparse.Namespace) -> Site:
    if args.synthetic is not None:
        from demo.synthetic import synthetic_site

        return synthetic_site(args.synthetic)
    return load_site(Path(args.site_dir))


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--site-dir", default=str(DEFAULT_SITE_DIR), help="recorded site to serve (default: %(default)s)")
    source.add_argument("--synthetic", type=int, metavar="N", help="serve N generated posts instead of a recorded site")
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1; 0 picks a free one (default)")
    parser.add_argument("--permalinks", choices=("plain", "pretty"), default="plain", help="URL form (default: plain)")
    parser.add_argument("--verbose", action="store_true", help="log every request on stderr")
    return parser.parse_args(argv)


def stop(signum: int, frame: object) -> NoReturn:
    raise KeyboardInterrupt


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    site = build_site(args)
    server = WordPressHTTPServer(args.port, args.verbose)
    server.respond = WordPressApp(site, server.url, args.permalinks).handle
    signal.signal(signal.SIGTERM, stop)
    print(json.dumps({"url": server.url, "pid": os.getpid()}), flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
