"""A photo whose download fails makes no version the page never had: over real crawls
into a real store, an unchanged ad whose photo answered 503 keeps the photo its stored
version had; a photo the site says is gone (404) is a real change."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from fixture_site import FixtureSite, page, png

from crawler.run import crawl
from crawler.source import Source
from indexer.model import ad_id_for
from indexer.store import open_store

DAY0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def test_a_failed_photo_download_makes_no_version(site: FixtureSite, source: Source,
                                                  tmp_path: Path) -> None:
    store_path, archive = str(tmp_path / "s.sqlite3"), tmp_path / "archive"

    def go(day: int):  # noqa: ANN202
        stats = crawl([source], store_path, archive, clock=DAY0 + timedelta(days=day),
                      progress=False, settings={"DOWNLOAD_TIMEOUT": 5, "RETRY_TIMES": 0},
                      timeout=120)
        return stats.sources[source.id]

    def photos() -> list[list[str]]:
        """The file names of ad 1's photos, per version, oldest first."""
        store = open_store(store_path)
        try:
            ad = store.get_ad(ad_id_for(source.id, "1"))
            assert ad is not None
            return [[i.source_url.rsplit("/", 1)[-1] for i in v.fields.images]
                    for v in ad.versions]
        finally:
            store.close()

    assert go(0).new_ads == 3
    assert photos() == [["1.png", "big.png"]]  # ad 1: data-src, then srcset's widest
    site.pages["/img/1.png"] = (503, "text/html", b"busy")  # its first photo, this run
    day1 = go(1)
    assert (day1.new_versions, day1.unchanged) == (0, 3)
    assert photos() == [["1.png", "big.png"]]  # in its place, as the page shows it
    site.pages["/img/1.png"] = (200, "image/png", png(1))
    assert go(2).new_versions == 0
    assert photos() == [["1.png", "big.png"]]
    site.pages["/img/1.png"] = (404, "text/html", b"gone")  # the site took it down
    assert go(3).new_versions == 1
    assert photos() == [["1.png", "big.png"], ["big.png"]]
    site.html("/ad/1", page("ad1.html").replace(b"/img/1.png", b"/img/3.png"))
    site.pages["/img/3.png"] = (503, "text/html", b"busy")  # a new photo that fails
    assert go(4).new_versions == 0  # nothing stored for it yet: as last stored
    assert photos() == [["1.png", "big.png"], ["big.png"]]
    # a block page sent with 200 for a photo: archived, not taken for the photo
    site.pages["/img/big.png"] = (200, "text/html; charset=utf-8", b"<p>Too many requests</p>")
    assert go(5).new_versions == 0
    assert photos() == [["1.png", "big.png"], ["big.png"]]
    store = open_store(store_path)
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
    store_path, archive = str(tmp_path / "s.sqlite3"), tmp_path / "archive"
    gallery = (b'<div class="gallery"><img src="/img/a photo.png"><img src="/img/1.png">'
               b'<img src="/img/copy-of-1.png"><img src="/img/plain.png"></div>')
    site.html("/ad/1", page("ad1.html").replace(b'<div class="gallery">', gallery + b"<div>"))
    site.pages["/img/a%20photo.png"] = (200, "image/png", png(5))
    site.pages["/img/copy-of-1.png"] = (200, "image/png", png(1))
    site.pages["/img/plain.png"] = (200, "text/plain", png(6))

    def go(day: int):  # noqa: ANN202
        stats = crawl([source], store_path, archive, clock=DAY0 + timedelta(days=day),
                      progress=False, settings={"DOWNLOAD_TIMEOUT": 5, "RETRY_TIMES": 0},
                      timeout=120)
        return stats.sources[source.id]

    def versions() -> list[list[str]]:
        store = open_store(store_path)
        try:
            ad = store.get_ad(ad_id_for(source.id, "1"))
            assert ad is not None
            return [[i.source_url.rsplit("/", 1)[-1] for i in v.fields.images]
                    for v in ad.versions]
        finally:
            store.close()

    go(0)
    first = versions()
    assert first[0][:4] == ["a%20photo.png", "1.png", "copy-of-1.png", "plain.png"]
    site.pages["/img/a%20photo.png"] = (503, "text/html", b"busy")
    site.pages["/img/copy-of-1.png"] = (503, "text/html", b"busy")
    assert go(1).new_versions == 0
    assert versions() == first
