"""A tiny ad site on 127.0.0.1 (port 0) whose pages a test can change between crawls.

Pages are kept in ``site.pages`` (path → (status, content type, body)); anything else
is a 404; ``site.first_answers`` gives a path other answers first, once each. A 3xx
page's body is its Location, sent as those bytes; an empty content type sends none; ``site.headers`` adds
headers to a path's answer; ``keep_alive`` answers over HTTP/1.1 and keeps each
connection open for more requests. Every request is recorded in
``site.requests`` so tests can check politeness (robots.txt) and that images came
through the crawler.
"""

from __future__ import annotations

import datetime as dt
import io
import ssl
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from PIL import Image

PAGES_DIR = Path(__file__).parent / "pages"
SOURCE_YAML = """\
id: fixture-site
name: Fixture site
theme: trafficking
country: NL
base_url: {base}
reason: Test fixture.
approved_by: tests
approved_on: 2026-11-22
sections:
  - {{name: Amsterdam, url: city/amsterdam/}}
politeness: {{download_delay: 0, concurrency: 4, autothrottle: false}}
selectors:
  ad_links: "a.ad-link::attr(href)"
  next_page: "xpath://a[@rel='next']/@href"
  ad_id: {{from_url: "/ad/(\\\\d+)"}}
  fields:
    title: "h1.title::text"
    text: "div.description ::text"
    city: "span.city::text"
    age: "xpath://dl/dt[.='Age']/following-sibling::dd[1]//text()"
  images: "div.gallery img"
  removed_marker: "div.ad-removed"
"""


def png(seed: int) -> bytes:
    img = Image.new("RGB", (40, 30), (seed * 40 % 256, 90, 200))
    for x in range(0, 40, 5):
        img.putpixel((x, seed % 30), (255, 255, 255))
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


def page(name: str) -> bytes:
    return (PAGES_DIR / name).read_bytes()


class _Server(ThreadingHTTPServer):
    """A listen backlog above the crawl's concurrency: http.server's default of 5 lets a
    loaded machine drop connection attempts, and a dropped SYN is retried only after a
    second, longer than the short download timeouts some tests use."""

    daemon_threads = True
    request_queue_size = 128


class FixtureSite:
    def __init__(self, keep_alive: bool = False) -> None:
        self.pages: dict[str, tuple[int, str, bytes]] = {}
        # path → answers given once each, in order, before ``pages`` answers for it
        self.first_answers: dict[str, list[tuple[int, str, bytes]]] = {}
        self.requests: list[str] = []
        self.referers: dict[str, str] = {}  # path → the Referer header of its last request
        self.headers: dict[str, dict[str, str]] = {}  # path → more headers its answer sends
        self.lock = threading.Lock()
        self.slow: set[str] = set()  # paths that answer only after ``release`` is set
        self.release = threading.Event()
        # path → another path: the answer waits until that other path has been asked for
        # (orders a crawl's steps without sleeps); ``arrived`` holds every path asked for
        self.hold_until: dict[str, str] = {}
        self.arrived: set[str] = set()
        self.holds_timed_out: list[str] = []  # held paths answered without their cue
        self.connections = 0  # TCP connections accepted (keep_alive: several requests each)
        self._arrival = threading.Condition()
        site = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1" if keep_alive else "HTTP/1.0"

            def setup(self) -> None:
                super().setup()
                with site.lock:
                    site.connections += 1

            def do_GET(self) -> None:  # noqa: N802 - http.server API
                site._arrive(self.path)
                if self.path in site.slow:
                    site.release.wait(timeout=30)
                with site.lock:
                    site.requests.append(self.path)
                    site.referers[self.path] = self.headers.get("Referer", "")
                    once = site.first_answers.get(self.path)
                    status, ctype, body = once.pop(0) if once else site.pages.get(
                        self.path, (404, "text/html", b"gone"))
                    more = dict(site.headers.get(self.path, {}))
                self.send_response(status)
                for name, value in more.items():
                    self.send_header(name, value)
                if 300 <= status < 400:  # a redirect: the body is its Location
                    self.send_header("Location", body.decode("latin-1"))  # bytes as given
                    body = b""
                if ctype:
                    self.send_header("Content-Type", ctype)
                if "Transfer-Encoding" not in more:  # chunked: the body is sent as given
                    self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.server = _Server(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def _arrive(self, path: str) -> None:
        """Note that ``path`` was asked for, then wait for the path it is held until, if
        any (30 s at most: a hold that ran out is noted in ``holds_timed_out``)."""
        with self._arrival:
            self.arrived.add(path)
            self._arrival.notify_all()
            after = self.hold_until.get(path)
            if after is not None and not self._arrival.wait_for(
                    lambda: after in self.arrived, timeout=30):
                self.holds_timed_out.append(path)

    def wait_for_arrival(self, path: str, timeout: float = 60.0) -> bool:
        """Whether ``path`` was asked for within ``timeout`` seconds (returns at once when
        it is: no polling)."""
        with self._arrival:
            return self._arrival.wait_for(lambda: path in self.arrived, timeout=timeout)

    def use_tls(self, cert: Path, key: Path) -> None:
        """Answer over TLS with this certificate (before ``start``)."""
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
        self.server.socket = context.wrap_socket(self.server.socket, server_side=True)

    def start(self) -> FixtureSite:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()

    def html(self, path: str, body: bytes, charset: str = "utf-8", status: int = 200) -> None:
        self.pages[path] = (status, f"text/html; charset={charset}", body)

    def load_day_one(self) -> None:
        """Two listing pages, four ads (one with a server error), three images."""
        self.pages["/robots.txt"] = (200, "text/plain",
                                     b"User-agent: *\nDisallow: /private/\n")
        self.html("/city/amsterdam/", page("listing1.html"))
        self.html("/city/amsterdam/?page=2", page("listing2.html"))
        self.html("/ad/1", page("ad1.html"))
        self.html("/ad/2", page("ad2_latin1.html"), charset="iso-8859-1")
        self.html("/ad/3", page("ad3.html"))
        self.pages["/ad/4"] = (500, "text/html", b"<h1>Internal error</h1>")
        self.html("/private/ad/99", page("ad3.html"))
        for i in (1, 2, 3):
            self.pages[f"/img/{i}.png"] = (200, "image/png", png(i))
        self.pages["/img/big.png"] = (200, "image/png", png(7))


@pytest.fixture
def site() -> Iterator[FixtureSite]:
    """The site serving day one, for a test; conftests import this one fixture."""
    s = FixtureSite().start()
    s.load_day_one()
    yield s
    s.stop()


def self_signed_cert(folder: Path, name: str) -> tuple[Path, Path]:
    """A certificate for ``name`` signed by its own key, valid a day either side of now;
    returns the paths of its PEM files (certificate, key)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.now(UTC)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path

