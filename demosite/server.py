"""The demo HTTP server: both sites of a ``World`` on 127.0.0.1, one day at a time.

The day is server state, set from Python (``set_day``) or over HTTP
(``POST /__demo__/day/<n>``) so a crawl in another process can step through days.
"""

from __future__ import annotations

import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from demosite import images, pages_board, pages_velvet
from demosite.world import MAX_PHOTOS_PER_PERSON, World

ROBOTS = "User-agent: *\nDisallow: /__demo__/\nDisallow: /velvet/account/\n"
INDEX = (
    '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>adtrace demo sites'
    "</title></head>\n<body><h1>adtrace demo ad world</h1>\n<p>Synthetic ads for training"
    " and tests. Nothing here is real.</p>\n<ul>\n"
    '<li><a href="/velvet/">Velvet Nights</a> (NL, city listings)</li>\n'
    '<li><a href="/board/">Prikbord</a> (BE, regional board)</li>\n</ul></body></html>\n'
)


class DemoServer:
    """Serve ``world`` on ``host:port`` (port 0 picks a free one) in a background thread."""

    def __init__(self, world: World, host: str = "127.0.0.1", port: int = 0, day: int = 0,
                 per_page: int = 20) -> None:
        self.world, self.per_page = world, per_page
        self._check_day(day)
        self.day = day
        self._httpd = _Server((host, port), _Handler)
        self._httpd.demo = self  # type: ignore[attr-defined]
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    def _check_day(self, day: int) -> None:
        if not 0 <= day < self.world.days:
            raise ValueError(f"day {day} outside 0..{self.world.days - 1}")

    def set_day(self, day: int) -> None:
        self._check_day(day)
        self.day = day

    def state(self) -> dict[str, object]:
        w = self.world
        return {"day": self.day, "date": w.date_of(self.day).isoformat(), "seed": w.seed,
                "n_ads": w.n_ads, "days": w.days, "start": w.start.isoformat(),
                "per_page": self.per_page}

    def start(self) -> DemoServer:
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="demo-site",
                                        daemon=True)
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        self._httpd.serve_forever()

    def stop(self) -> None:
        """Stop serving and free the port; safe on a server that was never started."""
        if self._thread is not None:  # shutdown() would wait forever on an idle loop
            self._httpd.shutdown()
            self._thread.join()
            self._thread = None
        self._httpd.server_close()

    def __enter__(self) -> DemoServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class _Server(ThreadingHTTPServer):
    """A crawl opens up to its concurrency in connections at once: with http.server's
    listen backlog of 5, a busy machine drops connection attempts and each one stalls
    its request for a one-second SYN retry (slow benchmarks, timeouts in tests)."""

    daemon_threads = True
    request_queue_size = 128


Response = tuple[int, str, bytes]
HTML = "text/html; charset=utf-8"


class _Handler(BaseHTTPRequestHandler):
    server_version = "demo-httpd/1.0"
    # keep-alive, as real sites answer: a new connection per request cost the crawlers
    # more CPU than some of their work (every answer carries its Content-Length)
    protocol_version = "HTTP/1.1"
    # the status line, headers and body go out in one write, as real servers send a small
    # answer (http.server writes the headers and the body apart, unbuffered): a client
    # then reads each answer once instead of twice (handle_one_request flushes per answer)
    wbufsize = 1 << 16
    # TCP_NODELAY, as real servers set on keep-alive connections (nginx: tcp_nodelay on):
    # an answer written in several parts (one larger than the buffer above) would
    # otherwise wait for the client's delayed ACK of the first, 40 ms on Linux (every
    # answer took 44 ms on 127.0.0.1 when headers and body were written apart)
    disable_nagle_algorithm = True

    def handle_expect_100(self) -> bool:
        """The "100 Continue" goes out at once: the client waits for it to send the body
        (the buffer above is flushed only after each answer)."""
        ok = super().handle_expect_100()
        self.wfile.flush()
        return ok

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        """Quiet: crawls make thousands of requests."""

    @property
    def demo(self) -> DemoServer:
        return self.server.demo  # type: ignore[attr-defined,no-any-return]

    def _send(self, resp: Response, body: bool = True) -> None:
        status, ctype, data = resp
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if body:
            self.wfile.write(data)

    def do_GET(self) -> None:
        self._send(route(self.demo, self.path))

    def do_HEAD(self) -> None:
        self._send(route(self.demo, self.path), body=False)

    def do_POST(self) -> None:
        length = self.headers.get("Content-Length", "0").strip()
        if length.isdigit() and int(length) <= 1 << 20:
            self.rfile.read(int(length))  # unused, but must not be read as the next request
        else:
            self.close_connection = True
        m = re.fullmatch(r"/__demo__/day/(\d+)", urlsplit(self.path).path)
        if not m:
            self._send(_text(404, "not found\n"))
            return
        try:
            self.demo.set_day(int(m.group(1)))
        except ValueError as exc:
            self._send(_text(400, f"{exc}\n"))
            return
        self._send(_json(self.demo.state()))


def _text(status: int, text: str, ctype: str = "text/plain; charset=utf-8") -> Response:
    return status, ctype, text.encode("utf-8")


def _json(data: object) -> Response:
    return 200, "application/json", json.dumps(data).encode("utf-8")


def _json_error(status: int, message: str) -> Response:
    return status, "application/json", json.dumps({"error": message}).encode("utf-8")


def route(demo: DemoServer, raw_path: str) -> Response:
    """Answer one GET: pure over (server state, path), so tests can call it directly."""
    parts = urlsplit(raw_path)
    path, query = parts.path, parse_qs(parts.query)
    if path == "/":
        return _text(200, INDEX, HTML)
    if path == "/robots.txt":
        return _text(200, ROBOTS)
    if path == "/__demo__/state":
        return _json(demo.state())
    if path.startswith("/velvet/"):
        return _velvet(demo, path)
    if path.startswith("/board/"):
        return _board(demo, path, query)
    return _text(404, "not found\n")


def _photo(demo: DemoServer, photo: str, fmt: str) -> Response:
    parsed = images.parse_photo_id(photo)
    if parsed is None or parsed[0] >= demo.world.n_contacts or parsed[1] >= MAX_PHOTOS_PER_PERSON:
        return _text(404, "no such image\n")
    ctype = "image/png" if fmt == "PNG" else "image/jpeg"
    return 200, ctype, images.photo_bytes(demo.world.seed, parsed[0], parsed[1], fmt)


def _velvet(demo: DemoServer, path: str) -> Response:
    w, day = demo.world, demo.day
    missing = _text(404, pages_velvet.not_found(), HTML)
    if path == "/velvet/":
        return _text(200, pages_velvet.home(w, day), HTML)
    if m := re.fullmatch(r"/velvet/city/([a-z-]+)/(?:page/(\d{1,6})/)?", path):
        page = pages_velvet.listing(w, day, m.group(1), int(m.group(2) or 1), demo.per_page)
        return missing if page is None else _text(200, page, HTML)
    if m := re.fullmatch(r"/velvet/ad/(\d+)-[a-z-]+\.html", path):
        i = w.find("velvet", m.group(1))
        v = None if i is None else w.version_on(i, day)
        if i is None or v is None:  # never existed, not yet online, or removed
            return missing
        return _text(200, pages_velvet.ad_page(w, day, w.ad(i), v), HTML)
    if m := re.fullmatch(r"/velvet/img/(p\d+-\d+)\.png", path):
        return _photo(demo, m.group(1), "PNG")
    return missing


def _board(demo: DemoServer, path: str, query: dict[str, list[str]]) -> Response:
    w, day = demo.world, demo.day
    missing = _text(404, pages_board.not_found(), HTML)
    if path == "/board/":
        return _text(200, pages_board.home(w, day), HTML)
    if path in ("/board/list", "/board/api/list"):
        offset_text, region = query.get("offset", ["0"])[0], query.get("region", [""])[0]
        if path == "/board/api/list":
            if not offset_text.isdigit():
                return _json_error(400, f"offset {offset_text!r} is not a number")
            feed = pages_board.listing_api(w, day, region, int(offset_text), demo.per_page)
            return _json_error(404, "no such region") if feed is None else _json(feed)
        if not offset_text.isdigit():
            return _text(400, f"offset {offset_text!r} is not a number\n")
        page = pages_board.listing(w, day, region, int(offset_text), demo.per_page)
        return missing if page is None else _text(200, page, HTML)
    if path == "/board/view":
        i = w.find("board", query.get("adid", [""])[0])
        if i is None or w.ad(i).first_day > day:
            return missing
        ad = w.ad(i)
        v = w.version_on(ad, day)
        page = pages_board.removed_page(ad) if v is None else pages_board.ad_page(w, day, ad, v)
        return _text(200, page, HTML)
    if m := re.fullmatch(r"/board/media/(p\d+-\d+)\.jpg", path):
        return _photo(demo, m.group(1), "JPEG")
    return missing
