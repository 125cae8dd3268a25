"""The crawl benchmark's site (benchmarks/bench_site.py): a static snapshot of the demo
world that answers as the demo server does, holds every page and photo a crawl of the
day asks for, and runs in a process of its own."""

from __future__ import annotations

import http.client
import socket
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest

from benchmarks.bench_site import SiteProcess, StaticSite
from demosite.server import DemoServer, route
from demosite.truth import ad_path, image_path
from demosite.world import World

START = ["/", "/robots.txt"]  # where the benchmark's site starts its snapshot


@pytest.fixture(scope="module")
def snapshot() -> Iterator[tuple[World, DemoServer, StaticSite]]:
    world = World(seed=3, n_ads=120, days=1)
    demo = DemoServer(world, per_page=7)  # short pages: pagination is followed
    site = StaticSite(demo)
    site.snapshot(START)
    yield world, demo, site
    demo.stop()


def _exchange(site: StaticSite, *parts: bytes) -> bytes:
    """Send ``parts`` (each its own write) on one connection; all that comes back until
    the server closes it."""
    url = urlsplit(site.url)
    with socket.create_connection((url.hostname, url.port), timeout=10) as sock:
        for part in parts:
            sock.sendall(part)
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
    return received


def _get(conn: http.client.HTTPConnection, path: str) -> tuple[int, str, bytes]:
    conn.request("GET", path)
    answer = conn.getresponse()
    return answer.status, answer.getheader("Content-Type") or "", answer.read()


def test_the_snapshot_holds_every_live_ad_and_photo_of_the_day(
        snapshot: tuple[World, DemoServer, StaticSite]) -> None:
    world, _demo, site = snapshot
    wanted = set()
    for name in ("velvet", "board"):
        for i in world.live_ads(name, 0):
            version = world.version_on(i, 0)
            assert version is not None
            wanted.add(ad_path(name, world.ad(i), version))
            wanted.update(image_path(name, photo) for photo in version.photos)
    assert len(wanted) > 200  # ads and photos of both sites
    late = site.rendered_late
    for path in sorted(wanted):
        site.answer(path)
    assert site.rendered_late == late  # none of them had to be rendered on request


def test_it_answers_as_the_demo_server_over_one_kept_connection(
        snapshot: tuple[World, DemoServer, StaticSite]) -> None:
    world, demo, site = snapshot
    velvet_ad = next(iter(world.live_ads("velvet", 0)))
    version = world.version_on(velvet_ad, 0)
    assert version is not None and version.photos
    paths = ["/robots.txt", "/velvet/", ad_path("velvet", world.ad(velvet_ad), version),
             image_path("velvet", version.photos[0]), "/board/list?region=gent",
             "/no/such/page"]
    late = site.rendered_late
    with site:
        parts = urlsplit(site.url)
        conn = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=10)
        try:
            first = None
            for path in paths:
                status, ctype, body = _get(conn, path)
                assert (status, ctype, body) == route(demo, path), path
                first = first or conn.sock
                assert conn.sock is first  # keep-alive: one connection for all
        finally:
            conn.close()
    assert site.rendered_late == late + 1  # the unknown page, rendered (a 404) when asked


def test_pipelined_requests_are_answered_in_order_and_a_post_is_refused(
        snapshot: tuple[World, DemoServer, StaticSite]) -> None:
    _world, demo, site = snapshot
    with site:  # the server closes the connection after the refusal
        received = _exchange(
            site, b"GET /robots.txt HTTP/1.1\r\nHost: x\r\n\r\n"
            b"HEAD /velvet/ HTTP/1.1\r\nHost: x\r\n\r\n"
            b"POST /velvet/ HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nhi")
    robots = route(demo, "/robots.txt")[2]
    first, rest = received.split(b"\r\n\r\n", 1)
    assert first.startswith(b"HTTP/1.1 200 OK") and rest.startswith(robots)
    rest = rest[len(robots):]
    assert rest.startswith(b"HTTP/1.1 200 OK")  # HEAD: the head alone, Content-Length kept
    head, rest = rest.split(b"\r\n\r\n", 1)
    assert f"Content-Length: {len(route(demo, '/velvet/')[2])}".encode() in head
    assert rest.startswith(b"HTTP/1.1 405 Method Not Allowed")


@pytest.mark.parametrize("closing", [
    b"GET /robots.txt HTTP/1.1\r\nHost: x\r\nConnection: keep-alive, close\r\n\r\n",
    b"GET /robots.txt HTTP/1.0\r\n\r\n"])
def test_a_request_split_across_writes_is_answered_and_close_is_obeyed(
        snapshot: tuple[World, DemoServer, StaticSite], closing: bytes) -> None:
    """A head that arrives in pieces (split inside its blank line) is one request; a
    request that asks to close (or speaks HTTP/1.0) gets its answer, then the close."""
    _world, demo, site = snapshot
    robots = route(demo, "/robots.txt")[2]
    with site:
        received = _exchange(site, closing[:9], closing[9:-3], closing[-3:])
    assert received.startswith(b"HTTP/1.1 200 OK") and received.endswith(robots)
    assert received.count(b"HTTP/1.1 ") == 1


def test_a_malformed_or_oversized_request_is_refused(
        snapshot: tuple[World, DemoServer, StaticSite]) -> None:
    _world, _demo, site = snapshot
    with site:
        assert _exchange(site, b"GET /robots.txt\r\n\r\n").startswith(
            b"HTTP/1.1 400 Bad Request")
        huge = b"GET / HTTP/1.1\r\nX-Pad: " + b"a" * 20_000 + b"\r\n\r\n"
        assert _exchange(site, huge).startswith(b"HTTP/1.1 431 ")


def test_the_site_process_serves_reports_its_cpu_and_stops() -> None:
    world = World(seed=3, n_ads=60, days=1)
    site = SiteProcess(60, seed=3, per_page=7)
    try:
        assert site.prepared.startswith("answers rendered before the timed runs: ")
        assert site.live_ads == sum(len(world.live_ads(s, 0)) for s in ("velvet", "board"))
        before = site.cpu_seconds()
        parts = urlsplit(site.url)
        conn = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=10)
        try:
            answers = [_get(conn, "/robots.txt") for _ in range(50)]
        finally:
            conn.close()
        assert all(status == 200 and body.startswith(b"User-agent")
                   for status, _ctype, body in answers)
        assert site.cpu_seconds() > before  # read afresh from the child, which did the work
    finally:
        late = site.stop()
    assert late == 0  # robots.txt was in the snapshot
    with pytest.raises(OSError):
        socket.create_connection((parts.hostname, parts.port), timeout=2).close()
