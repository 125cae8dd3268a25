"""Where an address led, read back from a real archive (ArchiveMiddleware.led_to): the
Location of each hop's latest redirect, even after the address stopped redirecting, and
nothing made up for a loop, a missing Location or an unreadable record."""

from __future__ import annotations

import zlib
from datetime import UTC, datetime
from pathlib import Path

import pytest
from scrapy.downloadermiddlewares.redirect import RedirectMiddleware
from scrapy.http import Headers, Request, Response
from scrapy.utils.test import get_crawler

from crawler.clock import Clock
from crawler.middlewares import ArchiveMiddleware
from indexer.archive import Fetched
from indexer.archive.reader import ArchiveError, read_http_head, read_raw

AT = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
SITE = "http://photos.example"


def answer(mw: ArchiveMiddleware, path: str, status: int, location: str = "") -> None:
    headers = [("Location", location)] if location else []
    mw.writer.write(Fetched(url=SITE + path, status=status, headers=headers,
                            body=location.encode(), fetched_at=AT))


def middleware(tmp_path: Path) -> ArchiveMiddleware:
    return ArchiveMiddleware(str(tmp_path / "archive"), Clock(AT), 1 << 20)


def test_the_trail_follows_each_hop_and_outlives_later_answers(tmp_path: Path) -> None:
    mw = middleware(tmp_path)
    answer(mw, "/go.png", 302, "/hop%20one.png")
    answer(mw, "/hop%20one.png", 301, "moved.png")  # relative to the hop
    answer(mw, "/moved.png", 200)
    answer(mw, "/go.png", 503)  # a later answer that is no redirect
    assert mw.led_to(SITE + "/go.png") == (SITE + "/hop%20one.png", SITE + "/moved.png")
    assert mw.led_to(SITE + "/moved.png") == ()
    answer(mw, "/go.png", 302, "https://cdn.example/x y.png")  # the latest redirect wins
    assert mw.led_to(SITE + "/go.png") == ("https://cdn.example/x%20y.png",)
    mw.writer.close()
    reopened = middleware(tmp_path)  # the next crawl reads the trail from the index
    assert reopened.led_to(SITE + "/go.png") == ("https://cdn.example/x%20y.png",)
    reopened.writer.close()


def test_a_loop_a_missing_location_or_a_damaged_record_ends_the_trail(tmp_path: Path) -> None:
    mw = middleware(tmp_path)
    answer(mw, "/a.png", 302, "/b.png")
    answer(mw, "/b.png", 302, "/a.png")
    assert mw.led_to(SITE + "/a.png") == (SITE + "/b.png",)
    answer(mw, "/c.png", 302, "/d.png")
    answer(mw, "/d.png", 307)  # a redirect that says not where
    assert mw.led_to(SITE + "/c.png") == (SITE + "/d.png",)
    answer(mw, "/f.png", 302, "/g.png")
    answer(mw, "/g.png", 302, "/h.png")
    assert mw.led_to(SITE + "/f.png") == (SITE + "/g.png", SITE + "/h.png")
    entry = mw.writer.index.last_redirect(SITE + "/g.png")
    assert entry is not None
    mw.writer.close()
    warc = tmp_path / "archive" / entry.file
    data = bytearray(warc.read_bytes())
    data[entry.offset:entry.offset + 8] = b"\0" * 8  # the second hop's record is damaged
    warc.write_bytes(bytes(data))
    reopened = middleware(tmp_path)
    assert reopened.led_to(SITE + "/f.png") == (SITE + "/g.png",)  # known up to the damage
    reopened.writer.close()


def test_a_location_that_is_no_address_ends_the_trail(tmp_path: Path) -> None:
    """A redirect to a broken IPv6 host or a port that is no number is archived as sent
    (Scrapy then fails on it): the trail stops before it, and never raises."""
    mw = middleware(tmp_path)
    answer(mw, "/a.png", 302, "/b.png")
    answer(mw, "/b.png", 302, "http://[x/c.png")
    answer(mw, "/d.png", 301, "http://photos.example:1:2/e.png")
    assert mw.led_to(SITE + "/a.png") == (SITE + "/b.png",)
    assert mw.led_to(SITE + "/d.png") == ()
    mw.writer.close()


def test_header_bytes_are_archived_as_received(tmp_path: Path) -> None:
    """Headers come off the wire as latin-1 text (a character per byte): the record
    holds those bytes, not warcio's %-encoding of them, in an original and in a
    revisit; a UTF-8 Location reads back as the address it names."""
    mw = middleware(tmp_path)
    wire = "/img/café.png".encode().decode("latin-1")  # the UTF-8 bytes, as received
    odd = b"x\xe9y".decode("latin-1")  # a byte that is no UTF-8
    for _ in range(2):  # the second answer, unchanged, is a revisit record
        mw.writer.write(Fetched(url=SITE + "/go.png", status=302, body=b"",
                                headers=[("Location", wire), ("X-Note", odd)], fetched_at=AT))
    assert mw.led_to(SITE + "/go.png") == (SITE + "/img/caf%C3%A9.png",)
    mw.writer.close()
    entries = [e for e in mw.writer.index.entries() if e.url == SITE + "/go.png"]
    assert len(entries) == 2
    for entry in entries:
        with open(tmp_path / "archive" / entry.file, "rb") as fh:
            fh.seek(entry.offset)
            block = zlib.decompressobj(31).decompress(fh.read())
        assert b"\r\nLocation: /img/caf\xc3\xa9.png\r\nX-Note: x\xe9y\r\n" in block
        record = read_raw(tmp_path / "archive", entry.file, entry.offset)
        assert ("Location", "/img/café.png") in record.headers
        head = read_http_head(tmp_path / "archive", entry.file, entry.offset)
        assert head.startswith(b"HTTP/1.1 302 ") and head.endswith(b"\r\nX-Note: x\xe9y")
    assert [read_raw(tmp_path / "archive", e.file, e.offset).type for e in entries] == [
        "response", "revisit"]


def scrapy_follows(url: str, headers: list[tuple[bytes, bytes]]) -> tuple[str, ...]:
    """Where Scrapy's own RedirectMiddleware sends a 302 with these header bytes (the
    crawl's download handler gives it the site's bytes): the oracle for led_to."""
    mw = RedirectMiddleware.from_crawler(get_crawler())
    try:
        got = mw.process_response(Request(url), Response(url, status=302,
                                                         headers=Headers(headers)))
    except ValueError:  # a Location its Request refuses: nothing was followed
        return ()
    return (got.url,) if isinstance(got, Request) else ()


def test_the_trail_goes_where_scrapy_went_from_the_location_s_bytes(tmp_path: Path) -> None:
    """The archived Location's bytes are resolved as Scrapy resolved them when it
    followed the redirect: a Latin-1 é is %E9 and a UTF-8 one %C3%A9 (warcio's text
    of the head reads both as é), ``//`` and ``///`` take the scheme, a query byte, a
    fragment carried over, the last of two Locations, a control byte before ``///``
    kept; a scheme Scrapy does not follow, or an address its Request refuses, ends the
    trail."""
    mw = middleware(tmp_path)
    secure = SITE.replace("http:", "https:")
    cases = {
        SITE + "/latin1.png": [(b"Location", b"/img/caf\xe9.png")],
        SITE + "/utf8.png": [(b"Location", b"/img/caf\xc3\xa9.png")],
        SITE + "/scheme.png": [(b"Location", b"//cdn.example/a b.png")],
        SITE + "/slashes.png": [(b"Location", b"///cdn.example/c.png")],
        SITE + "/control.png": [(b"Location", b"\x0b///cdn.example/c.png")],
        SITE + "/query.png": [(b"Location", b"d.png?n=\xe9 1")],
        SITE + "/frag.png#top": [(b"Location", b"/e.png")],
        SITE + "/two.png": [(b"Location", b"/first.png"), (b"Location", b"/second.png")],
        SITE + "/ftp.png": [(b"Location", b"ftp://files.example/f.png")],
        secure + "/no-scheme.png": [(b"Location", b"http:x.png")],
    }
    expected = {}
    for url, headers in cases.items():
        mw.writer.write(Fetched(url=url, status=302, body=b"", fetched_at=AT,
                                headers=[(k.decode(), v.decode("latin-1")) for k, v in headers]))
        expected[url] = scrapy_follows(url, headers)
    assert expected[SITE + "/latin1.png"] == (SITE + "/img/caf%E9.png",)  # told apart
    assert expected[SITE + "/utf8.png"] == (SITE + "/img/caf%C3%A9.png",)
    assert expected[SITE + "/ftp.png"] == expected[secure + "/no-scheme.png"] == ()
    assert {url: mw.led_to(url) for url in cases} == expected
    mw.writer.close()


def test_only_the_answers_scrapy_follows_make_a_trail(tmp_path: Path) -> None:
    """A 300 (choices) or 304 with a Location was not followed by Scrapy: the trail
    keeps the latest redirect it did follow."""
    mw = middleware(tmp_path)
    answer(mw, "/a.png", 302, "/b.png")
    answer(mw, "/a.png", 300, "/choice.png")
    answer(mw, "/c.png", 304, "/d.png")
    assert mw.led_to(SITE + "/a.png") == (SITE + "/b.png",)
    assert mw.led_to(SITE + "/c.png") == ()
    mw.writer.close()


def test_a_head_cut_short_is_an_archive_error(tmp_path: Path) -> None:
    """A record whose head has no end (its block cut inside the head) is damaged: an
    ArchiveError, and the trail ends, rather than an address made of half a header."""
    mw = middleware(tmp_path)
    answer(mw, "/a.png", 302, "/img/" + "a-rather-long-name" * 4 + ".png")
    entry = mw.writer.index.last_redirect(SITE + "/a.png")
    assert entry is not None
    mw.writer.close()
    warc = tmp_path / "archive" / entry.file
    member = zlib.decompressobj(31).decompress(warc.read_bytes()[entry.offset:])
    head_at = member.index(b"HTTP/1.1 302")
    cut = member[:head_at + 40]  # within the Location line, its Content-Length kept
    packed = zlib.compressobj(9, zlib.DEFLATED, 31)
    warc.write_bytes(warc.read_bytes()[:entry.offset] + packed.compress(cut) + packed.flush())
    with pytest.raises(ArchiveError, match="no end of the HTTP head"):
        read_http_head(tmp_path / "archive", entry.file, entry.offset)
    reopened = middleware(tmp_path)
    assert reopened.led_to(SITE + "/a.png") == ()
    reopened.writer.close()
