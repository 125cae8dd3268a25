"""Revisits by interval and removal by absence, over real crawls into a real store.

A simulated clock moves through days; the fixture site changes between crawls.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from crawl_helpers import crawl_day
from fixture_site import FixtureSite, page

from crawler.run import crawl
from crawler.source import Section, Source
from indexer.model import ad_id_for
from indexer.store import open_store

DAY0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
LISTING2_WITHOUT_3 = b'<html><body><a class="ad-link" href="/ad/4">Broken</a></body></html>'


def test_revisit_interval_and_removal_by_absence(site: FixtureSite, source: Source,
                                                 tmp_path: Path) -> None:
    store_path, archive = str(tmp_path / "s.sqlite3"), tmp_path / "archive"

    def go(at: datetime):  # noqa: ANN202
        stats = crawl([source], store_path, archive, clock=at, progress=False,
                      settings={"DOWNLOAD_TIMEOUT": 5, "RETRY_TIMES": 0}, timeout=120)
        return stats.sources[source.id]

    first = go(DAY0)
    assert (first.new_ads, first.errors) == (3, 1)  # ad 4 answers 500

    # six hours later: known ads are not due; a new ad on the listing is still found
    site.html("/ad/5", page("ad3.html").replace(b"Eva", b"Zoe"))
    site.html("/city/amsterdam/", page("listing1.html").replace(
        b"</ul>", b'<li><a class="ad-link" href="/ad/5">Zoe</a></li></ul>'))
    later = go(DAY0 + timedelta(hours=6))
    assert (later.not_due, later.new_ads, later.ads_seen) == (3, 1, 1)
    assert site.requests.count("/ad/1") == 1 and site.requests.count("/ad/5") == 1

    # next day: ad 3 leaves the listings (its page still answers); ads 1-3 are due, ad 5
    # (first seen 18 hours ago) is not
    site.html("/city/amsterdam/?page=2", LISTING2_WITHOUT_3)
    day1 = go(DAY0 + timedelta(days=1))
    assert (day1.not_due, day1.ads_seen, day1.removed) == (1, 3, 0)
    assert site.requests.count("/ad/1") == 2 and site.requests.count("/ad/5") == 1
    # a run whose listings failed does not count towards removal
    site.pages["/city/amsterdam/?page=2"] = (503, "text/html", b"busy")
    flaky = go(DAY0 + timedelta(days=1, hours=3))
    assert flaky.removed == 0
    site.html("/city/amsterdam/?page=2", LISTING2_WITHOUT_3)
    day2 = go(DAY0 + timedelta(days=2))
    assert day2.removed == 1

    store = open_store(store_path)
    try:
        three = store.get_ad(ad_id_for(source.id, "3"))
        assert three is not None and three.removed_at is not None
        assert three.removed_reason == "missing from complete listings in 2 consecutive run(s)"
        assert DAY0 + timedelta(days=2) <= three.removed_at < DAY0 + timedelta(days=2, hours=1)
        runs = store.crawl_runs(source.id)
        assert [r.listings_complete for r in runs] == [True, False, True, True, True]
        assert runs[0].missing == ("3",) and runs[2].missing == ("3",)
        assert runs[-1].new_ads == 3
        assert DAY0 <= runs[-1].started < runs[-1].finished < DAY0 + timedelta(minutes=5)
        assert [(e.url.rsplit("/", 2)[-2:], e.reason) for e in runs[-1].error_samples] == [
            (["ad", "4"], "http 500")]
        assert [e.reason for e in runs[1].error_samples if e.url.endswith("?page=2")] == [
            "http 503"]
        versions_before = len(three.versions)
    finally:
        store.close()

    # it comes back: live again, history intact
    site.html("/city/amsterdam/?page=2", page("listing2.html"))
    day3 = go(DAY0 + timedelta(days=3))
    assert day3.removed == 0
    store = open_store(store_path)
    try:
        three = store.get_ad(ad_id_for(source.id, "3"))
        assert three is not None and three.removed_at is None
        assert len(three.versions) == versions_before
        assert len(three.versions[-1].captures) >= 3
    finally:
        store.close()


def test_an_ad_listed_by_an_incomplete_run_starts_its_absence_anew(
        site: FixtureSite, source: Source, tmp_path: Path) -> None:
    """Ad 3 is missing on day 1, listed on day 2 by a run whose other listing page
    failed, and missing again on day 3: missing from two complete runs, not in a row
    (``missing_runs_before_removed: 2``); day 4 makes the row."""
    def go(day: int):  # noqa: ANN202
        return crawl_day(source, tmp_path, day)

    go(0)
    site.html("/city/amsterdam/?page=2", LISTING2_WITHOUT_3)
    assert go(1).removed == 0
    # ad 3 listed again, by a run whose third listing page fails
    site.html("/city/amsterdam/?page=2", page("listing2.html").replace(
        b"</body>", b'<a rel="next" href="/city/amsterdam/?page=3">3</a></body>'))
    site.pages["/city/amsterdam/?page=3"] = (503, "text/html", b"busy")
    assert go(2).removed == 0
    site.html("/city/amsterdam/?page=2", LISTING2_WITHOUT_3)
    assert go(3).removed == 0
    assert go(4).removed == 1
    store = open_store(str(tmp_path / "s.sqlite3"))
    try:
        runs = store.crawl_runs(source.id)
        assert [r.listings_complete for r in runs] == [True, True, False, True, True]
        assert runs[2].missing == ()  # the incomplete run listed ad 3
    finally:
        store.close()


def test_an_ad_only_a_section_taken_off_the_register_listed_is_not_removed(
        site: FixtureSite, source: Source, tmp_path: Path) -> None:
    """Ad 6 is listed only in Utrecht. Utrecht leaves the register: ad 6 is then absent
    from every run's listings without being gone, and is not removed by absence (it is
    still revisited when due); ad 3, gone from Amsterdam's listings, is removed."""
    store_path, archive = str(tmp_path / "s.sqlite3"), tmp_path / "archive"
    with_utrecht = replace(source, sections=(*source.sections,
                                             Section("Utrecht", "city/utrecht/")))
    site.html("/city/utrecht/", b'<html><body><ul><li><a class="ad-link" href="/ad/6">Mia'
                                b'</a></li><li><a class="ad-link" href="/ad/1">Anna</a></li>'
                                b'</ul></body></html>')  # ad 1: in both sections
    site.html("/ad/6", page("ad3.html").replace(b"Eva", b"Mia"))

    def go(src: Source, at: datetime):  # noqa: ANN202
        stats = crawl([src], store_path, archive, clock=at, progress=False,
                      settings={"DOWNLOAD_TIMEOUT": 5, "RETRY_TIMES": 0}, timeout=120)
        return stats.sources[src.id]

    def live() -> dict[str, tuple[str, ...]]:
        store = open_store(store_path)
        try:
            return {a.site_ad_id: a.listed_in for a in store.live_ads(source.id)}
        finally:
            store.close()

    assert go(with_utrecht, DAY0).new_ads == 4
    assert live() == {"1": ("Amsterdam", "Utrecht"), "2": ("Amsterdam",),
                      "3": ("Amsterdam",), "6": ("Utrecht",)}
    site.html("/city/amsterdam/?page=2", LISTING2_WITHOUT_3)
    days = [go(source, DAY0 + timedelta(days=d)) for d in (1, 2, 3)]
    assert [d.removed for d in days] == [0, 1, 0]  # ad 3 after two runs; ad 6 never
    assert live() == {"1": ("Amsterdam", "Utrecht"), "2": ("Amsterdam",), "6": ("Utrecht",)}
    assert site.requests.count("/ad/6") == 4  # revisited each day all the same
    store = open_store(store_path)
    try:
        runs = store.crawl_runs(source.id)
        assert [r.missing for r in runs[:3]] == [(), ("3",), ("3",)]
        assert all(r.listings_complete for r in runs)
    finally:
        store.close()
