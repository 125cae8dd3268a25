"""The site a crawl benchmark crawls: the demo world, served from a process of its own.

    .venv/bin/python benchmarks/bench_site.py --ads N [--seed S] [--per-page P]
                                              [--live] [--live-photos]

A real ad site runs on other machines, so its CPU is not the crawl machine's. Here it
shares the benchmark's 2 cores, so it is made to cost them as little as it can: by
default the world is served as a static site (``StaticSite``), every answer of the day
rendered before the timed runs, by following every link (``href``, ``src``,
``data-src`` and ``srcset``, resolved as the crawler resolves them) from the index page
and robots.txt, then served from memory by a small asyncio HTTP/1.1 server. The demo's
own server (``--live``) renders each page with Python on request, from a thread per
connection: it takes CPU from the crawl it serves, and more from the end-to-end crawl
(which uses both cores) than from the bare spider (which uses one, while the server runs
on the other).

An answer the snapshot lacks is rendered when first asked for and counted
(``rendered_late``): the benchmark prints that count, so a snapshot that missed part of
the world shows, instead of quietly moving its rendering into a timed run.

The site runs in its own process (``SiteProcess``), for two reasons: its CPU is read
apart from the crawls' (it answers ``cpu`` on its stdin with its CPU seconds), and the
memory it holds stays out of the crawl processes' figures (Linux carries a process's
peak RSS, ``ru_maxrss``, over into the children it starts: a benchmark that held the
site's answers would have lent that peak to every crawl process it started).
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import json
import subprocess
import sys
import threading
from collections import deque
from collections.abc import Iterable
from http import HTTPStatus
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

if __name__ == "__main__":  # run as a file: the project's packages from its root
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from demosite.server import DemoServer, route  # noqa: E402 - after the path above

MAX_HEAD = 16 * 1024  # a request head longer than this is refused (and the connection closed)
Answer = tuple[bytes, bytes]  # (status line and headers, body)


class StaticSite:
    """Serve ``demo``'s answers for its current day from memory on ``host``, port 0."""

    def __init__(self, demo: DemoServer, host: str = "127.0.0.1") -> None:
        self._demo, self._host = demo, host
        self._answers: dict[str, Answer] = {}
        self.rendered_late = 0  # answers rendered on request: the snapshot lacked them
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: asyncio.base_events.Server | None = None
        self._thread: threading.Thread | None = None
        self.url = ""

    def snapshot(self, start: Iterable[str]) -> int:
        """Render every answer reachable from the paths in ``start``; return how many
        answers the snapshot holds."""
        queue = deque(p for p in start if p not in self._answers)
        while queue:
            path = queue.popleft()
            if path in self._answers:
                continue
            head, body = self._answers[path] = self._render(path)
            if b"text/html" in head:
                queue.extend(p for p in _links(path, body) if p not in self._answers)
        return len(self._answers)

    def answer(self, target: str) -> Answer:
        """The answer to a GET of ``target`` (path and query, as sent)."""
        found = self._answers.get(target)
        if found is None:
            self.rendered_late += 1
            found = self._answers[target] = self._render(target)
        return found

    def _render(self, target: str) -> Answer:
        status, ctype, body = route(self._demo, target)
        head = (f"HTTP/1.1 {status} {HTTPStatus(status).phrase}\r\nServer: adtrace-static\r\n"
                f"Content-Type: {ctype}\r\nContent-Length: {len(body)}\r\n\r\n")
        return head.encode("latin-1"), body

    def start(self) -> StaticSite:
        """Serve from a thread of its own, whose loop also opens the listening socket (the
        caller's thread may be running an event loop of its own, as a test's may)."""
        loop = self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=loop.run_forever, name="static-site",
                                        daemon=True)
        self._thread.start()
        opening = loop.create_server(lambda: _Connection(self), self._host, 0, backlog=128)
        self._server = asyncio.run_coroutine_threadsafe(opening, loop).result(timeout=30)
        port = self._server.sockets[0].getsockname()[1]
        self.url = f"http://{self._host}:{port}"
        return self

    def stop(self) -> None:
        """Stop serving and free the port; safe on a site that was never started."""
        loop = self._loop
        if loop is None or self._thread is None or self._server is None:
            return
        server = self._server
        loop.call_soon_threadsafe(server.close)
        loop.call_soon_threadsafe(loop.stop)
        self._thread.join()
        loop.close()
        self._loop = self._thread = self._server = None

    def __enter__(self) -> StaticSite:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _links(page: str, body: bytes) -> Iterable[str]:
    """The targets on this site that ``body`` links to (``href``, ``src``, ``data-src``
    and every ``srcset`` candidate), resolved as the crawler resolves them
    (crawler.extract.http_url), as path and query."""
    from parsel import Selector

    from crawler.extract import http_url, links

    base = f"http://site{page}"
    sel = Selector(text=body.decode("utf-8", "replace"))
    found = links(sel, "[href]::attr(href), [src]::attr(src), [data-src]::attr(data-src)",
                  base)
    for srcset in sel.css("[srcset]::attr(srcset)").getall():
        found += [http_url(base, part.split()[0]) for part in srcset.split(",") if part.split()]
    for url in found:
        parts = urlsplit(url)
        if parts.netloc == "site":
            yield parts.path + (f"?{parts.query}" if parts.query else "")


class _Connection(asyncio.Protocol):
    """One keep-alive connection: GET and HEAD, answered in order, pipelining allowed."""

    def __init__(self, site: StaticSite) -> None:
        self._site, self._buffer = site, b""
        self._transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport

    def data_received(self, data: bytes) -> None:
        assert self._transport is not None
        self._buffer += data
        out: list[bytes] = []
        close = False
        while not close:
            end = self._buffer.find(b"\r\n\r\n")
            if end < 0:
                close = len(self._buffer) > MAX_HEAD
                if close:
                    out.append(_refusal(HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE))
                break
            head, self._buffer = self._buffer[:end], self._buffer[end + 4:]
            if len(head) > MAX_HEAD:
                out.append(_refusal(HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE))
                close = True
            else:
                close = self._answer(head, out)
        if out:
            self._transport.writelines(out)
        if close:
            self._transport.close()

    def _answer(self, head: bytes, out: list[bytes]) -> bool:
        """Append the answer to the request ``head``; True when the connection closes."""
        lines = head.split(b"\r\n")
        request = lines[0].split(b" ")
        headers = {k.strip().lower(): v.strip() for k, _, v in
                   (line.partition(b":") for line in lines[1:])}
        if len(request) != 3 or not request[2].startswith(b"HTTP/"):
            out.append(_refusal(HTTPStatus.BAD_REQUEST))
            return True
        if request[0] not in (b"GET", b"HEAD"):
            out.append(_refusal(HTTPStatus.METHOD_NOT_ALLOWED))
            return True
        if headers.get(b"content-length", b"0") != b"0" or b"transfer-encoding" in headers:
            out.append(_refusal(HTTPStatus.BAD_REQUEST))  # no request bodies here
            return True
        answer_head, body = self._site.answer(request[1].decode("latin-1"))
        out.append(answer_head)
        if request[0] == b"GET":
            out.append(body)
        tokens = {t.strip() for t in headers.get(b"connection", b"").lower().split(b",")}
        return b"close" in tokens or request[2] != b"HTTP/1.1"


def _refusal(status: HTTPStatus) -> bytes:
    return (f"HTTP/1.1 {status.value} {status.phrase}\r\nContent-Length: 0\r\n"
            "Connection: close\r\n\r\n").encode("latin-1")


def prerender_photos(world: Any, day: int = 0) -> int:
    """Draw every photo the day's live ads show, once, and let the demo server serve them
    from memory (it keeps only the last 512 it drew: on a large world it would spend more
    CPU drawing photos than the crawler spends archiving them); returns how many."""
    from demosite import images

    draw = images.photo_bytes.__wrapped__  # type: ignore[attr-defined]
    cached = functools.lru_cache(maxsize=None)(draw)
    fmt_of = {"velvet": "PNG", "board": "JPEG"}
    for site, fmt in fmt_of.items():
        for i in world.live_ads(site, day):
            version = world.version_on(i, day)
            for photo in version.photos if version else ():
                parsed = images.parse_photo_id(photo)
                if parsed:
                    cached(world.seed, parsed[0], parsed[1], fmt)
    images.photo_bytes = cached  # type: ignore[assignment] - the server looks it up per call
    return int(cached.cache_info().currsize)


class SiteProcess:
    """The benchmark's side of a site served by ``main`` in a child process."""

    def __init__(self, ads: int, *, seed: int = 1, per_page: int = 50, live: bool = False,
                 live_photos: bool = False) -> None:
        argv = [sys.executable, __file__, "--ads", str(ads), "--seed", str(seed),
                "--per-page", str(per_page), *(["--live"] if live else []),
                *(["--live-photos"] if live_photos else [])]
        self._proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                      text=True)
        ready = self._reply()
        self.url: str = ready["url"]
        self.prepared: str = ready["prepared"]
        self.live_ads: int = ready["live_ads"]  # ads online on the day served, both sites

    def _reply(self) -> dict[str, Any]:
        assert self._proc.stdout is not None
        line = self._proc.stdout.readline()
        if not line:
            code = self._proc.wait()
            raise RuntimeError(f"the benchmark's site process ended (exit code {code})")
        reply: dict[str, Any] = json.loads(line)
        return reply

    def cpu_seconds(self) -> float:
        """The CPU time the site's process has used so far."""
        assert self._proc.stdin is not None
        self._proc.stdin.write("cpu\n")
        self._proc.stdin.flush()
        return float(self._reply()["cpu"])

    def stop(self) -> int | None:
        """Stop the site; return how many answers it rendered late (None: a live site)."""
        if self._proc.poll() is not None:
            raise RuntimeError("the benchmark's site process ended before it was stopped "
                               f"(exit code {self._proc.returncode})")
        assert self._proc.stdin is not None
        self._proc.stdin.close()
        late = self._reply().get("rendered_late")
        self._proc.wait()
        return None if late is None else int(late)


def main(argv: list[str] | None = None) -> int:
    """Serve the world until stdin closes; answer ``cpu`` lines with the CPU seconds used."""
    import time

    from demosite.world import World

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--ads", type=int, required=True)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--per-page", type=int, default=50)
    parser.add_argument("--live", action="store_true")
    parser.add_argument("--live-photos", action="store_true")
    args = parser.parse_args(argv)
    world = World(seed=args.seed, n_ads=args.ads, days=1)
    demo = DemoServer(world, per_page=args.per_page)
    static: StaticSite | None = None
    if args.live:
        prepared = ("photos drawn on request" if args.live_photos else
                    f"photos drawn before the timed runs: {prerender_photos(world)}")
        url = demo.start().url
    else:
        static = StaticSite(demo)
        held = static.snapshot(["/", "/robots.txt"])
        prepared = f"answers rendered before the timed runs: {held}"
        url = static.start().url
    live_ads = sum(len(world.live_ads(site, 0)) for site in ("velvet", "board"))
    print(json.dumps({"url": url, "prepared": prepared, "live_ads": live_ads}), flush=True)
    try:
        for line in sys.stdin:
            if line.strip() == "cpu":
                print(json.dumps({"cpu": time.process_time()}), flush=True)
    finally:
        if static is not None:
            static.stop()
        demo.stop()
    print(json.dumps({"rendered_late": None if static is None else static.rendered_late}),
          flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
