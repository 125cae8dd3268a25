"""Faults are counted per source, recorded with URL and reason, and never stop a crawl.

One real crawl meets a redirect loop, an endless redirect chain, a page over the size
cap, a page with no charset, a page with a wrong charset, a timeout, a 5xx and a page
that is not an ad; every good ad is still stored.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from fixture_site import FixtureSite, page
from warcio.archiveiterator import ArchiveIterator

from crawler.run import crawl
from crawler.source import Source
from indexer.archive import archive_verify
from indexer.archive.index import CaptureIndex
from indexer.model import ad_id_for
from indexer.store import open_store

T = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
AD = '<html><body><h1 class="title">{}</h1><div class="description">{}</div></body></html>'


def test_a_crawl_full_of_faults_finishes_and_says_what_went_wrong(
        site: FixtureSite, source: Source, tmp_path: Path) -> None:
    faults = {
        "/ad/10": (302, "", b"/ad/11"), "/ad/11": (302, "", b"/ad/10"),  # a loop
        **{f"/ad/{n}": (302, "", f"/ad/{n + 1}".encode()) for n in range(20, 40)},  # endless
        "/ad/12": (200, "text/html; charset=utf-8",
                   AD.format("Huge", "x" * 300_000).encode()),
        "/ad/13": (200, "text/html", AD.format("Zoë", "geen charset: café").encode("latin-1")),
        "/ad/14": (200, "text/html; charset=utf-8", AD.format("Zoë", "fout: café").encode(
            "latin-1")),
        "/ad/15": (200, "text/html", page("ad3.html")),  # slow: times out
        "/ad/16": (503, "text/html", b"busy"),
        "/ad/17": (200, "text/html; charset=utf-8", b"\x00\xff\xfe<<<not html at all"),
    }
    site.pages.update(faults)
    site.slow.add("/ad/15")
    links = "".join(f'<a class="ad-link" href="/ad/{n}">x</a>' for n in (10, 12, 13, 14, 15,
                                                                          16, 17, 20))
    site.html("/city/amsterdam/?page=2", page("listing2.html").replace(
        b"</ul>", links.encode() + b"</ul>"))
    store_path, archive = str(tmp_path / "s.sqlite3"), tmp_path / "archive"
    stats = crawl([source], store_path, archive, clock=T, progress=False, timeout=120,
                  settings={"DOWNLOAD_TIMEOUT": 1, "RETRY_TIMES": 0, "REDIRECT_MAX_TIMES": 5,
                            "ADTRACE_MAX_PAGE_BYTES": 100_000})
    site.release.set()
    got = stats.sources[source.id]
    assert got.finish_reason == "finished"
    store = open_store(store_path)
    try:
        run = store.crawl_runs(source.id)[0]
        reasons = {e.url.rsplit("/", 1)[-1]: e.reason for e in run.error_samples}
        for n in (1, 2, 3, 13, 14):  # good ads, charset trouble or not, are all stored
            assert store.get_ad(ad_id_for(source.id, str(n))) is not None, n
        assert store.get_ad(ad_id_for(source.id, "13")).versions[0].fields.title == "Zoë"
        assert store.get_ad(ad_id_for(source.id, "12")) is None  # truncated: not read
    finally:
        store.close()
    assert "larger than the page size cap" in reasons["12"]
    assert "TimeoutError" in reasons["15"] or "took longer" in reasons["15"], reasons
    assert reasons["4"] == "http 500" and reasons["16"] == "http 503"
    assert "no ad fields" in reasons["17"]
    assert reasons["25"] == "IgnoreRequest: max redirections reached"  # 20 → 25, cut
    assert "max redirections" in reasons.get("10", reasons.get("11", "")), reasons  # the loop
    assert run.errors == len(run.error_samples) == got.errors, reasons
    assert run.listings_complete
    # the oversized page is archived as far as it was fetched, and the record says so
    entry = CaptureIndex(archive).latest(f"{site.url}ad/12")
    assert entry is not None and entry.status == 200
    with open(archive / entry.file, "rb") as fh:
        fh.seek(entry.offset)
        record = next(iter(ArchiveIterator(fh)))
        assert record.rec_headers.get_header("WARC-Truncated") == "length"
        assert 100_000 <= len(record.content_stream().read()) < 300_000
    assert archive_verify(archive).ok


def test_a_retry_of_a_page_cut_at_the_size_cap_counts_its_bytes_anew(
        site: FixtureSite, source: Source, tmp_path: Path) -> None:
    """Ad 1 first answers 503 with a body over the cap (cut, archived as truncated), then,
    retried, its page: the retry is a copy of the request, and starts from zero bytes
    and no truncation, so the page is read and stored whole."""
    site.first_answers["/ad/1"] = [(503, "text/html", b"busy " * 40_000)]
    store_path, archive = str(tmp_path / "s.sqlite3"), tmp_path / "archive"
    stats = crawl([source], store_path, archive, clock=T, progress=False, timeout=120,
                  settings={"DOWNLOAD_TIMEOUT": 5, "RETRY_TIMES": 1,
                            "ADTRACE_MAX_PAGE_BYTES": 100_000})
    assert site.requests.count("/ad/1") == 2 and stats.sources[source.id].errors == 1  # ad 4
    store = open_store(store_path)
    try:
        ad = store.get_ad(ad_id_for(source.id, "1"))
    finally:
        store.close()
    assert ad is not None and ad.versions[0].fields.title == "Lisa, new in town"
    with open(archive / ad.versions[0].captures[0].warc_file, "rb") as fh:
        fh.seek(ad.versions[0].captures[0].warc_offset)
        record = next(iter(ArchiveIterator(fh)))
        assert record.rec_headers.get_header("WARC-Truncated") is None
