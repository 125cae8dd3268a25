"""A photo whose download fails makes no version the page never had: over real crawls
into a real store, an unchanged ad whose photo answered 503 keeps the photo its stored
version had; a photo the site says is gone (404) is a real change."""

from __future__ import annotations

from pathlib import Path

from crawl_helpers import crawl_day, photo_names
from fixture_site import FixtureSite, page, png

from crawler.source import Source
from indexer.store import open_store


def test_a_failed_photo_download_makes_no_version(site: FixtureSite, source: Source,
                                                  tmp_path: Path) -> None:
    def photos() -> list[list[str]]:
        return photo_names(source, tmp_path, "1")

    assert crawl_day(source, tmp_path, 0).new_ads == 3
    assert photos() == [["1.png", "big.png"]]  # ad 1: data-src, then srcset's widest
    site.pages["/img/1.png"] = (503, "text/html", b"busy")  # its first photo, this run
    day1 = crawl_day(source, tmp_path, 1)
    assert (day1.new_versions, day1.unchanged) == (0, 3)
    assert photos() == [["1.png", "big.png"]]  # in its place, as the page shows it
    site.pages["/img/1.png"] = (200, "image/png", png(1))
    assert crawl_day(source, tmp_path, 2).new_versions == 0
    assert photos() == [["1.png", "big.png"]]
    site.pages["/img/1.png"] = (404, "text/html", b"gone")  # the site took it down
    assert crawl_day(source, tmp_path, 3).new_versions == 1
    assert photos() == [["1.png", "big.png"], ["big.png"]]
    site.html("/ad/1", page("ad1.html").replace(b"/img/1.png", b"/img/3.png"))
    site.pages["/img/3.png"] = (503, "text/html", b"busy")  # a new photo that fails
    assert crawl_day(source, tmp_path, 4).new_versions == 0  # nothing stored for it yet
    assert photos() == [["1.png", "big.png"], ["big.png"]]
    # a block page sent with 200 for a photo: archived, not taken for the photo
    site.pages["/img/big.png"] = (200, "text/html; charset=utf-8", b"<p>Too many requests</p>")
    assert crawl_day(source, tmp_path, 5).new_versions == 0
    assert photos() == [["1.png", "big.png"], ["big.png"]]
    store = open_store(str(tmp_path / "s.sqlite3"))
    try:
        reasons = [e.reason for e in store.crawl_runs(source.id)[0].error_samples]
    finally:
        store.close()
    assert "image failed: the answer is a page (text/html), not a picture" in reasons


def test_photos_kept_by_the_address_they_were_fetched_from(site: FixtureSite, source: Source,
                                                          tmp_path: Path) -> None:
    """An address with a space (fetched escaped), and one photo shown under two
    addresses: either failing keeps the stored photo. A photo a server sends as
    text/plain is still a photo."""
    gallery = (b'<div class="gallery"><img src="/img/a photo.png"><img src="/img/1.png">'
               b'<img src="/img/copy-of-1.png"><img src="/img/plain.png"></div>')
    site.html("/ad/1", page("ad1.html").replace(b'<div class="gallery">', gallery + b"<div>"))
    site.pages["/img/a%20photo.png"] = (200, "image/png", png(5))
    site.pages["/img/copy-of-1.png"] = (200, "image/png", png(1))
    site.pages["/img/plain.png"] = (200, "text/plain", png(6))
    crawl_day(source, tmp_path, 0)
    first = photo_names(source, tmp_path, "1")
    assert first[0][:4] == ["a%20photo.png", "1.png", "copy-of-1.png", "plain.png"]
    site.pages["/img/a%20photo.png"] = (503, "text/html", b"busy")
    site.pages["/img/copy-of-1.png"] = (503, "text/html", b"busy")
    assert crawl_day(source, tmp_path, 1).new_versions == 0
    assert photo_names(source, tmp_path, "1") == first


def test_a_photo_whose_address_redirects_is_kept_when_it_fails(
        site: FixtureSite, source: Source, tmp_path: Path) -> None:
    """The page shows /img/go.png, which leads (302, then 301) to /img/moved.png: the
    stored photo is named by where it was fetched from. Whether the last hop fails, the
    address itself fails (no redirect this run), or a middle hop fails, the stored photo
    is kept, as the archive still says where the address led; a photo the site says is
    gone at the end of the trail is a real change."""
    gallery = b'<div class="gallery"><img src="/img/go.png"><img src="/img/1.png">'
    site.html("/ad/1", page("ad1.html").replace(b'<div class="gallery">', gallery + b"<div>"))
    site.pages["/img/go.png"] = (302, "", b"/img/hop.png")
    site.pages["/img/hop.png"] = (301, "", b"moved.png")  # relative, as sites send them
    site.pages["/img/moved.png"] = (200, "image/png", png(7))
    assert crawl_day(source, tmp_path, 0).new_ads == 3
    first = photo_names(source, tmp_path, "1")
    assert first[0][:2] == ["moved.png", "1.png"]
    site.pages["/img/moved.png"] = (503, "text/html", b"busy")  # the trail's end fails
    assert crawl_day(source, tmp_path, 1).new_versions == 0
    site.pages["/img/go.png"] = (503, "text/html", b"busy")  # the address itself fails
    site.pages["/img/moved.png"] = (200, "image/png", png(7))
    assert crawl_day(source, tmp_path, 2).new_versions == 0
    site.pages["/img/go.png"] = (302, "", b"/img/hop.png")
    site.pages["/img/hop.png"] = (503, "text/html", b"busy")  # a hop on the way fails
    assert crawl_day(source, tmp_path, 3).new_versions == 0
    assert photo_names(source, tmp_path, "1") == first
    site.pages["/img/hop.png"] = (301, "", b"moved.png")
    assert crawl_day(source, tmp_path, 4).new_versions == 0  # all well again: unchanged
    site.pages["/img/moved.png"] = (404, "text/html", b"gone")  # the site took it down
    assert crawl_day(source, tmp_path, 5).new_versions == 1
    assert photo_names(source, tmp_path, "1") == [first[0], first[0][1:]]


def test_a_photo_redirected_to_an_address_in_utf8_is_kept_when_it_fails(
        site: FixtureSite, source: Source, tmp_path: Path) -> None:
    """A Location in UTF-8 (``/img/café.png``): Scrapy fetches it %-escaped, the archive
    keeps the header as the site sent it, and the trail read back from it leads to the
    address the photo was stored under, so a failure there keeps the stored photo."""
    gallery = b'<div class="gallery"><img src="/img/go.png"><img src="/img/1.png">'
    site.html("/ad/1", page("ad1.html").replace(b'<div class="gallery">', gallery + b"<div>"))
    site.pages["/img/go.png"] = (302, "", "/img/café.png".encode())
    site.pages["/img/caf%C3%A9.png"] = (200, "image/png", png(7))
    assert crawl_day(source, tmp_path, 0).new_ads == 3
    first = photo_names(source, tmp_path, "1")
    assert first[0][:2] == ["caf%C3%A9.png", "1.png"]
    site.pages["/img/caf%C3%A9.png"] = (503, "text/html", b"busy")
    assert crawl_day(source, tmp_path, 1).new_versions == 0
    assert photo_names(source, tmp_path, "1") == first
