"""A reverse proxy on 127.0.0.1 that adds latency to every answer, as a site across the internet would.

    python bench/latency_proxy.py --upstream http://127.0.0.1:8080 --delay 0.1

prints one JSON line, `{"url": "http://127.0.0.1:PORT", "pid": PID}`, once it listens, and serves until SIGTERM.
It is the tests' fault proxy (tests/faults.py: it rewrites the upstream's `host:port` to its own in headers and
bodies, so that everything a client follows comes back through it, and keeps clients' connections alive) with
one rule for every request: `delay`, which holds each request `--delay` seconds before it goes upstream.
Concurrent requests wait concurrently, and the server is not kept busy while they wait.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests.faults import FaultProxy, delay  # noqa: E402


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--upstream", required=True, help="the server's URL, http://127.0.0.1:PORT")
    parser.add_argument("--delay", type=float, default=0.1, help="seconds added to every request (default 0.1)")
    arguments = parser.parse_args(argv)
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    with FaultProxy(arguments.upstream) as proxy:
        if arguments.delay:
            proxy.inject("", delay(arguments.delay), name="latency")
        print(json.dumps({"url": proxy.url, "pid": os.getpid()}), flush=True)
        stop.wait()


if __name__ == "__main__":
    sys.exit(main())
