"""A fault-injecting reverse proxy on 127.0.0.1, in front of a real WordPress, for tests.

    with FaultProxy(site.url) as proxy:
        proxy.inject(r"wp/v2/posts.*[?&]page=2\\b", retry_after(429, "1"), times=1)
        crawl(tmp_path, f"site={proxy.url}")

Each rule matches the request target (path and query, percent-decoded, so ``/wp-json/wp/v2/posts`` and
``?rest_route=/wp/v2/posts`` read alike) with a regular expression and applies its fault to the first
``times`` matches (all of them when None). Everything else is forwarded as it is.

WordPress answers with absolute URLs of its own origin (``_links``, ``Link`` headers, HTML), so the proxy
rewrites the upstream's ``host:port`` to its own in headers and bodies: a crawler pointed at the proxy stays
on it. It runs an asyncio loop in a thread of the test process (stdlib only), is started and stopped by its
handle, and logs every request it sees (``proxy.seen``) with the fault it applied.
"""

from __future__ import annotations

import asyncio
import json
import re
import socket
import ssl
import struct
import threading
import time
import zlib
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Callable
    from pathlib import Path
    from types import TracebackType

HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "proxy-connection",
              "accept-encoding", "te", "upgrade", "host"}
REASONS = {200: "OK", 301: "Moved Permanently", 302: "Found", 400: "Bad Request", 401: "Unauthorized",
           403: "Forbidden", 404: "Not Found", 429: "Too Many Requests", 500: "Internal Server Error",
           502: "Bad Gateway", 503: "Service Unavailable", 504: "Gateway Timeout"}
JSON_TYPE = "application/json; charset=UTF-8"
HTML_TYPE = "text/html; charset=UTF-8"


@dataclass
class Request:
    method: str
    target: str
    """The path and query as sent."""
    headers: list[tuple[str, str]]
    body: bytes = b""

    @property
    def decoded_target(self) -> str:
        return unquote(self.target)

    def header(self, name: str) -> str | None:
        return _header(self.headers, name)


@dataclass
class Answer:
    status: int
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""
    reset: bool = False
    """Close the connection with a TCP reset instead of answering."""
    trickle: tuple[int, float] | None = None
    """Send the body ``bytes`` at a time, ``seconds`` apart (slow-loris)."""
    stream: Callable[[], AsyncIterator[bytes]] | None = None
    """A body produced on the fly (too big to hold), sent after ``headers``, then the connection closes."""

    def header(self, name: str) -> str | None:
        return _header(self.headers, name)

    def without_headers(self, *names: str) -> Answer:
        lowered = {name.lower() for name in names}
        return replace(self, headers=[(key, value) for key, value in self.headers if key.lower() not in lowered])

    def with_header(self, name: str, value: str) -> Answer:
        return replace(self.without_headers(name), headers=[*self.without_headers(name).headers, (name, value)])

    @property
    def is_json(self) -> bool:
        return "json" in (self.header("Content-Type") or "")


@dataclass
class Rule:
    pattern: re.Pattern[str]
    fault: Any
    name: str
    times: int | None = None
    applied: int = 0

    def takes(self, request: Request) -> bool:
        if not self.pattern.search(request.decoded_target):
            return False
        if self.times is not None and self.applied >= self.times:
            return False
        self.applied += 1
        return True


@dataclass
class Seen:
    """One request the proxy received: when, what, which fault (None: forwarded as is), the status sent."""

    at: float
    method: str
    target: str
    fault: str | None
    status: int | None = None
    authorization: str | None = None


class FaultProxy:
    def __init__(self, upstream: str, tls: tuple[Path, Path] | None = None) -> None:
        """``tls``: a certificate and its key, to answer over TLS (``https://``) what the upstream answers over http,
        with the upstream's URLs rewritten to the proxy's host and port but left ``http://``, as a WordPress behind a
        TLS proxy that believes it is served over http writes them."""
        self.tls = tls
        parts = urlsplit(upstream)
        self.upstream_host = parts.hostname or "127.0.0.1"
        self.upstream_port = parts.port or 80
        self.upstream_authority = f"{self.upstream_host}:{self.upstream_port}"
        self.port = 0
        self.rules: list[Rule] = []
        self.seen: list[Seen] = []
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._stopping: asyncio.Event | None = None
        self._connections: set[asyncio.StreamWriter] = set()
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def url(self) -> str:
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}"

    @property
    def authority(self) -> str:
        return f"127.0.0.1:{self.port}"

    # Rules -------------------------------------------------------------------------------------------

    def inject(self, pattern: str, fault: Any, *, times: int | None = None, name: str | None = None) -> Rule:
        """Apply ``fault`` to the requests whose decoded target matches ``pattern`` (first rule wins)."""
        rule = Rule(re.compile(pattern), fault, name or getattr(fault, "__qualname__", "fault").split(".")[0],
                    times)
        with self._lock:
            self.rules.append(rule)
        return rule

    def clear(self) -> None:
        with self._lock:
            self.rules.clear()

    def requests_to(self, pattern: str) -> list[Seen]:
        expression = re.compile(pattern)
        with self._lock:
            return [seen for seen in self.seen if expression.search(unquote(seen.target))]

    def _rule_for(self, request: Request) -> Rule | None:
        with self._lock:
            return next((rule for rule in self.rules if rule.takes(request)), None)

    # Life cycle ----------------------------------------------------------------------------------------

    def start(self) -> FaultProxy:
        ready = threading.Event()
        failure: list[BaseException] = []

        def run() -> None:
            try:
                asyncio.run(self._serve(ready))
            except BaseException as error:  # reported to start() when it happens before ready
                failure.append(error)
                ready.set()

        self._thread = threading.Thread(target=run, name=f"FaultProxy({self.upstream_authority})", daemon=True)
        self._thread.start()
        ready.wait(10)
        if failure or not self.port:
            raise RuntimeError(f"fault proxy did not start: {failure}")
        return self

    def stop(self) -> None:
        if self._loop is not None and self._stopping is not None:
            self._loop.call_soon_threadsafe(self._stopping.set)
        if self._thread is not None:
            self._thread.join(10)
            self._thread = None

    def __enter__(self) -> FaultProxy:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.stop()

    async def _serve(self, ready: threading.Event) -> None:
        self._loop = asyncio.get_running_loop()
        self._stopping = asyncio.Event()
        context = None
        if self.tls is not None:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(*self.tls)
        server = await asyncio.start_server(self._handle, "127.0.0.1", 0, backlog=256, limit=1 << 20, ssl=context)
        self.port = server.sockets[0].getsockname()[1]
        ready.set()
        async with server:
            await self._stopping.wait()
            server.close()
            for writer in list(self._connections):
                writer.transport.abort()
            for task in list(self._tasks):
                task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)
            await server.wait_closed()

    # HTTP --------------------------------------------------------------------------------------------

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._connections.add(writer)
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
        try:
            while True:
                head = await _read_head(reader)
                if head is None:
                    break
                request_line, headers = head
                method, target, _ = request_line.split(" ", 2)
                length = int(_header(headers, "content-length") or 0)
                request = Request(method, target, headers, await reader.readexactly(length) if length else b"")
                keep_alive = (_header(headers, "connection") or "").lower() != "close"
                rule = self._rule_for(request)
                seen = Seen(time.monotonic(), method, target, rule.name if rule else None,
                            authorization=request.header("Authorization"))
                with self._lock:
                    self.seen.append(seen)
                if rule is not None:
                    answer = await rule.fault(request, self._forward)
                else:
                    answer = await self._forward(request)
                seen.status = None if answer.reset else answer.status
                if not await self._send(writer, answer, keep_alive) or not keep_alive:
                    break
        except (ConnectionError, ssl.SSLError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            pass
        finally:
            self._connections.discard(writer)
            if task is not None:
                self._tasks.discard(task)
            if not writer.transport.is_closing():
                writer.close()

    async def _forward(self, request: Request) -> Answer:
        """The upstream's answer, with its ``host:port`` rewritten to the proxy's."""
        sent = [(name, value) for name, value in request.headers if name.lower() not in HOP_BY_HOP]
        sent = [("Host", self.upstream_authority), *sent, ("Connection", "close")]
        if request.body:
            sent.append(("Content-Length", str(len(request.body))))
        reader, writer = await asyncio.open_connection(self.upstream_host, self.upstream_port, limit=1 << 20)
        try:
            writer.write(_head(f"{request.method} {request.target} HTTP/1.1", sent) + request.body)
            await writer.drain()
            head = await _read_head(reader)
            if head is None:
                raise ConnectionError("upstream closed without answering")
            status_line, headers = head
            if (_header(headers, "transfer-encoding") or "").lower() == "chunked":
                body = await _read_chunked(reader)
            elif (length := _header(headers, "content-length")) is not None:
                body = await reader.readexactly(int(length))
            else:
                body = await reader.read()
        finally:
            writer.close()
        ours, theirs = self.authority, self.upstream_authority
        return Answer(int(status_line.split(" ")[1]),
                      [(name, value.replace(theirs, ours)) for name, value in headers
                       if name.lower() not in HOP_BY_HOP],
                      body.replace(theirs.encode(), ours.encode()))

    async def _send(self, writer: asyncio.StreamWriter, answer: Answer, keep_alive: bool) -> bool:
        """Sends an answer; False when the connection is done with."""
        if answer.reset:
            sock = writer.get_extra_info("socket")
            if sock is not None:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            writer.transport.abort()
            return False
        status_line = f"HTTP/1.1 {answer.status} {REASONS.get(answer.status, 'Status')}"
        headers = [(name, value) for name, value in answer.headers if name.lower() not in HOP_BY_HOP]
        if answer.stream is not None:
            length = answer.header("Content-Length")
            declared = [("Content-Length", length)] if length is not None else []
            writer.write(_head(status_line, [*headers, *declared, ("Connection", "close")]))
            async for chunk in answer.stream():
                writer.write(chunk)
                await writer.drain()
            writer.close()
            return False
        headers.append(("Content-Length", answer.header("Content-Length") or str(len(answer.body))))
        headers.append(("Connection", "keep-alive" if keep_alive else "close"))
        writer.write(_head(status_line, headers))
        if answer.trickle is None:
            writer.write(answer.body)
            await writer.drain()
        else:
            size, interval = answer.trickle
            for start in range(0, len(answer.body), size):
                writer.write(answer.body[start:start + size])
                await writer.drain()
                await asyncio.sleep(interval)
        return True


def _head(first_line: str, headers: list[tuple[str, str]]) -> bytes:
    return (first_line + "\r\n" + "".join(f"{name}: {value}\r\n" for name, value in headers) + "\r\n").encode(
        "latin-1")


async def _read_head(reader: asyncio.StreamReader) -> tuple[str, list[tuple[str, str]]] | None:
    try:
        raw = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError:
        return None
    lines = raw[:-4].decode("latin-1").split("\r\n")
    headers = []
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers.append((name.strip(), value.strip()))
    return lines[0], headers


async def _read_chunked(reader: asyncio.StreamReader) -> bytes:
    chunks = []
    while True:
        size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
        if size == 0:
            await reader.readuntil(b"\r\n")
            return b"".join(chunks)
        chunks.append(await reader.readexactly(size))
        await reader.readexactly(2)


def _header(headers: list[tuple[str, str]], name: str) -> str | None:
    name = name.lower()
    return next((value for key, value in headers if key.lower() == name), None)


# Faults: each is an async function of (request, forward) that returns the answer to send. --------------

def answer(status: int, body: bytes = b"", content_type: str = JSON_TYPE,
           headers: tuple[tuple[str, str], ...] = ()) -> Any:
    """The proxy answers by itself, as a cache, a firewall or a tired server in front of WordPress would."""
    async def fault(request: Request, forward: Any) -> Answer:
        return Answer(status, [("Content-Type", content_type), *headers], body)
    fault.__qualname__ = f"answer {status}"
    return fault


def wordpress_error(status: int, code: str, message: str) -> Any:
    """An error answer in WordPress's own JSON shape."""
    body = json.dumps({"code": code, "message": message, "data": {"status": status}}).encode()
    fault = answer(status, body)
    fault.__qualname__ = code
    return fault


def retry_after(status: int, value: str) -> Any:
    fault = answer(status, b"<html><body><h1>Slow down</h1></body></html>", HTML_TYPE,
                   (("Retry-After", value),))
    fault.__qualname__ = f"{status} Retry-After {value}"
    return fault


def reset() -> Any:
    """The connection is reset before anything is sent."""
    async def fault(request: Request, forward: Any) -> Answer:
        return Answer(0, reset=True)
    fault.__qualname__ = "connection reset"
    return fault


def delay(seconds: float) -> Any:
    """The answer comes, but only after ``seconds``: a slow server, one past the crawler's timeout, or one across
    the internet (bench/latency_proxy.py)."""
    async def fault(request: Request, forward: Any) -> Answer:
        await asyncio.sleep(seconds)
        return await forward(request)
    fault.__qualname__ = f"delay {seconds}"
    return fault


def cap_per_page(cap: int) -> Any:
    """A plugin's silent cap (``rest_post_query``): the upstream serves at most ``cap`` a page whatever was asked,
    and counts its pages (``X-WP-TotalPages``) at that size."""
    async def fault(request: Request, forward: Any) -> Answer:
        target = re.sub(r"([?&]per_page=)(\d+)", lambda asked: f"{asked[1]}{min(int(asked[2]), cap)}", request.target)
        return await forward(replace(request, target=target))
    fault.__qualname__ = f"per_page capped at {cap}"
    return fault


def trickle(size: int, interval: float) -> Any:
    """Slow-loris: the real answer, ``size`` bytes every ``interval`` seconds."""
    async def fault(request: Request, forward: Any) -> Answer:
        return replace(await forward(request), trickle=(size, interval))
    fault.__qualname__ = "slow-loris"
    return fault


def transform(change: Callable[[Answer], Answer], name: str) -> Any:
    """The real answer, changed on its way back."""
    async def fault(request: Request, forward: Any) -> Answer:
        return change(await forward(request))
    fault.__qualname__ = name
    return fault


def body(change: Callable[[bytes], bytes], name: str) -> Any:
    return transform(lambda real: replace(real, body=change(real.body)), name)


def truncate(keep: float = 0.5) -> Any:
    """A complete HTTP answer whose JSON stops half-way (a cache stored a partial body)."""
    return body(lambda data: data[:int(len(data) * keep)], "truncated JSON")


def cut_connection(keep: float = 0.5) -> Any:
    """Content-Length promises the whole body; the connection closes half-way through it."""
    async def fault(request: Request, forward: Any) -> Answer:
        real = await forward(request)
        part = real.body[:int(len(real.body) * keep)]

        async def chunks() -> AsyncIterator[bytes]:
            yield part
        return replace(real, headers=[*real.headers, ("Content-Length", str(len(real.body)))], stream=chunks)
    fault.__qualname__ = "connection cut mid-body"
    return fault


def strip_headers(*names: str) -> Any:
    return transform(lambda real: real.without_headers(*names), "headers stripped")


def set_header(name: str, value: str) -> Any:
    return transform(lambda real: real.with_header(name, value), f"{name}: {value}")


def json_body(change: Callable[[Any], Any], name: str) -> Any:
    """The real JSON answer, decoded, changed by ``change`` (which may edit in place or return anew)."""
    def rewrite(real: Answer) -> Answer:
        if not real.is_json:
            return real
        data = json.loads(real.body)
        changed = change(data)
        return replace(real, body=json.dumps(data if changed is None else changed).encode())
    return transform(rewrite, name)


def each_post(change: Callable[[dict[str, Any]], Any], name: str) -> Any:
    """``change`` applied to every post of a posts page."""
    def rewrite(data: Any) -> None:
        for post in data if isinstance(data, list) else ():
            if isinstance(post, dict):
                change(post)
    return json_body(rewrite, name)


def redirect_loop() -> Any:
    """Every answer is a redirect to the URL itself, with a counter that keeps the URLs distinct."""
    async def fault(request: Request, forward: Any) -> Answer:
        separator = "&" if "?" in request.target else "?"
        hops = re.search(r"[?&]hop=(\d+)", request.target)
        target = re.sub(r"[?&]hop=\d+", "", request.target)
        next_hop = int(hops.group(1)) + 1 if hops else 1
        return Answer(301, [("Location", f"{target}{separator}hop={next_hop}"), ("Content-Type", HTML_TYPE)])
    fault.__qualname__ = "redirect loop"
    return fault


def huge_body(size: int, declare_length: bool = True) -> Any:
    """``size`` bytes of JSON-looking filler, produced on the fly; with or without Content-Length."""
    async def fault(request: Request, forward: Any) -> Answer:
        async def chunks() -> AsyncIterator[bytes]:
            block = b" " * (1 << 20)
            yield b"["
            for _ in range(size >> 20):
                yield block
                await asyncio.sleep(0)
            yield b"]"
        headers = [("Content-Type", JSON_TYPE)]
        if declare_length:
            headers.append(("Content-Length", str(((size >> 20) << 20) + 2)))
        return Answer(200, headers, stream=chunks)
    fault.__qualname__ = f"{size >> 20} MB body"
    return fault


def gzip_bomb(size: int) -> Any:
    """A small gzip body that inflates to ``size`` bytes."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)
    block = b" " * (1 << 20)
    packed = b"".join([compressor.compress(b"[")] + [compressor.compress(block) for _ in range(size >> 20)]
                      + [compressor.compress(b"]"), compressor.flush()])
    fault = answer(200, packed, JSON_TYPE, (("Content-Encoding", "gzip"),))
    fault.__qualname__ = f"gzip bomb ({len(packed) >> 10} KB to {size >> 20} MB)"
    return fault


def run_once(action: Callable[[], Any], name: str) -> Any:
    """Forward the request, but first run ``action`` (in a thread) once; requests that arrive meanwhile
    wait for it, so every one of them sees what it changed."""
    lock = asyncio.Lock()
    done: list[bool] = []

    async def fault(request: Request, forward: Any) -> Answer:
        async with lock:
            if not done:
                await asyncio.get_running_loop().run_in_executor(None, action)
                done.append(True)
        return await forward(request)
    fault.__qualname__ = name
    return fault


def redirect_once(parameter: str = "canonical") -> Any:
    """A 301 to the same URL with ``parameter=1`` added, which is then served: a site's canonical-URL
    redirect, or a security plugin's redirect-once check."""
    async def fault(request: Request, forward: Any) -> Answer:
        if re.search(rf"[?&]{parameter}=1\b", request.target):
            return await forward(request)
        separator = "&" if "?" in request.target else "?"
        return Answer(301, [("Location", f"{request.target}{separator}{parameter}=1"), ("Content-Type", HTML_TYPE)])
    fault.__qualname__ = "redirect once"
    return fault
