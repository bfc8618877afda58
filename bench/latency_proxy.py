"""A reverse proxy on 127.0.0.1 that adds latency to every response, as a site across the internet would.

    python bench/latency_proxy.py --upstream http://127.0.0.1:8080 --delay 0.1

prints one JSON line, `{"url": "http://127.0.0.1:PORT", "pid": PID}`, once it listens, and serves until SIGTERM.
WordPress writes its own address into `_links`, `Link` headers and HTML, so the proxy rewrites the upstream's
`host:port` to its own in headers and bodies: everything a client follows comes back through the proxy. Each
response is held for `--delay` seconds before it is sent (concurrent responses wait concurrently), and the
client keeps its connection (HTTP/1.1 keep-alive) as it would with a real server. Upstream connections are one
per request, as PHP's built-in server closes them anyway. It counts requests; `GET /__proxy_stats` answers the
count as JSON without going upstream.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import sys
from urllib.parse import urlsplit

HOP_BY_HOP = {b"connection", b"keep-alive", b"transfer-encoding", b"content-length", b"proxy-connection",
              b"accept-encoding", b"te", b"upgrade"}


class Proxy:
    def __init__(self, upstream: str, delay: float) -> None:
        parts = urlsplit(upstream)
        self.upstream_host = parts.hostname or "127.0.0.1"
        self.upstream_port = parts.port or 80
        self.upstream_authority = f"{self.upstream_host}:{self.upstream_port}".encode()
        self.delay = delay
        self.authority = b""
        self.requests = 0

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await read_head(reader)
                if head is None:
                    break
                request_line, headers = head
                length = int(header(headers, b"content-length") or 0)
                body = await reader.readexactly(length) if length else b""
                keep_alive = (header(headers, b"connection") or b"").lower() != b"close"
                if request_line.split(b" ")[1] == b"/__proxy_stats":
                    response = build_response(b"HTTP/1.1 200 OK", [(b"Content-Type", b"application/json")],
                                              json.dumps({"requests": self.requests}).encode(), keep_alive)
                else:
                    self.requests += 1
                    response = await self.forward(request_line, headers, body, keep_alive)
                    if self.delay:
                        await asyncio.sleep(self.delay)
                writer.write(response)
                await writer.drain()
                if not keep_alive:
                    break
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()

    async def forward(self, request_line: bytes, headers: list[tuple[bytes, bytes]], body: bytes,
                      keep_alive: bool) -> bytes:
        sent = [(name, value) for name, value in headers if name.lower() not in HOP_BY_HOP | {b"host"}]
        sent = [(b"Host", self.upstream_authority), *sent, (b"Connection", b"close")]
        if body:
            sent.append((b"Content-Length", str(len(body)).encode()))
        up_reader, up_writer = await asyncio.open_connection(self.upstream_host, self.upstream_port)
        try:
            up_writer.write(request_line + b"\r\n" + b"".join(n + b": " + v + b"\r\n" for n, v in sent) + b"\r\n" + body)
            await up_writer.drain()
            head = await read_head(up_reader)
            if head is None:
                raise ConnectionError("upstream closed without answering")
            status_line, response_headers = head
            if (header(response_headers, b"transfer-encoding") or b"").lower() == b"chunked":
                response_body = await read_chunked(up_reader)
            elif (length := header(response_headers, b"content-length")) is not None:
                response_body = await up_reader.readexactly(int(length))
            else:
                response_body = await up_reader.read()
        finally:
            up_writer.close()
        rewritten = [(name, value.replace(self.upstream_authority, self.authority))
                     for name, value in response_headers if name.lower() not in HOP_BY_HOP]
        return build_response(status_line, rewritten,
                               response_body.replace(self.upstream_authority, self.authority), keep_alive)


async def read_head(reader: asyncio.StreamReader) -> tuple[bytes, list[tuple[bytes, bytes]]] | None:
    try:
        raw = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError:
        return None
    lines = raw[:-4].split(b"\r\n")
    headers = []
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        headers.append((name.strip(), value.strip()))
    return lines[0], headers


async def read_chunked(reader: asyncio.StreamReader) -> bytes:
    chunks = []
    while True:
        size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
        if size == 0:
            await reader.readuntil(b"\r\n")
            return b"".join(chunks)
        chunks.append(await reader.readexactly(size))
        await reader.readexactly(2)


def header(headers: list[tuple[bytes, bytes]], name: bytes) -> bytes | None:
    for key, value in headers:
        if key.lower() == name:
            return value
    return None


def build_response(status_line: bytes, headers: list[tuple[bytes, bytes]], body: bytes, keep_alive: bool) -> bytes:
    if status_line.startswith(b"HTTP/1.0"):
        status_line = b"HTTP/1.1" + status_line[8:]
    headers = [*headers, (b"Content-Length", str(len(body)).encode()),
               (b"Connection", b"keep-alive" if keep_alive else b"close")]
    return status_line + b"\r\n" + b"".join(n + b": " + v + b"\r\n" for n, v in headers) + b"\r\n" + body


async def serve(upstream: str, delay: float, port: int) -> None:
    proxy = Proxy(upstream, delay)
    server = await asyncio.start_server(proxy.handle, "127.0.0.1", port, backlog=256)
    bound = server.sockets[0].getsockname()[1]
    proxy.authority = f"127.0.0.1:{bound}".encode()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    print(json.dumps({"url": f"http://127.0.0.1:{bound}", "pid": os.getpid()}), flush=True)
    async with server:
        await stop.wait()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--upstream", required=True, help="the server's URL, http://127.0.0.1:PORT")
    parser.add_argument("--delay", type=float, default=0.1, help="seconds added to every response (default 0.1)")
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1; 0 picks a free one")
    arguments = parser.parse_args(argv)
    asyncio.run(serve(arguments.upstream, arguments.delay, arguments.port))


if __name__ == "__main__":
    sys.exit(main())
