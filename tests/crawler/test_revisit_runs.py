"""Revisits by interval and removal by absence, over real crawls into a real store.

A simulated clock moves through days; the fixture site changes between crawls.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from crawl_helpers import crawl_day
from fixture_site import FixtureSite, page

from crawler.revisits import section_names
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


def _listed_in(store_path: str, source_id: str) -> dict[str, list[str]]:
    """Each live ad's sections, by name."""
    store = open_store(store_path)
    try:
        return {a.site_ad_id: section_names(a.listed_in) for a in store.live_ads(source_id)}
    finally:
        store.close()


def test_an_ad_a_section_taken_off_the_register_listed_is_not_removed(
        site: FixtureSite, source: Source, tmp_path: Path,
        capfd: pytest.CaptureFixture[str]) -> None:
    """Ad 6 is listed only in Utrecht, ad 3 moves from Amsterdam to Utrecht. Utrecht then
    leaves the register: both are absent from every later run's listings without being
    gone, and neither is removed by absence (both are still revisited when due); ad 2,
    gone from Amsterdam's listings, is removed."""
    store_path = str(tmp_path / "s.sqlite3")
    with_utrecht = replace(source, sections=(*source.sections,
                                             Section("Utrecht", "city/utrecht/")))

    def utrecht(*ads: int) -> None:
        links = "".join(f'<li><a class="ad-link" href="/ad/{i}">ad {i}</a></li>' for i in ads)
        site.html("/city/utrecht/", f"<html><body><ul>{links}</ul></body></html>".encode())

    utrecht(6, 1)
    site.html("/ad/6", page("ad3.html").replace(b"Eva", b"Mia"))
    assert crawl_day(with_utrecht, tmp_path, 0).new_ads == 4
    assert _listed_in(store_path, source.id) == {
        "1": ["Amsterdam", "Utrecht"], "2": ["Amsterdam"], "3": ["Amsterdam"], "6": ["Utrecht"]}
    site.html("/city/amsterdam/?page=2", LISTING2_WITHOUT_3)  # ad 3 moves to Utrecht
    utrecht(6, 1, 3)
    assert crawl_day(with_utrecht, tmp_path, 1).removed == 0
    site.html("/city/amsterdam/", page("listing1.html").replace(b"../../ad/2#top", b"/nowhere"))
    site.pages["/nowhere"] = (404, "text/html", b"")
    capfd.readouterr()
    days = [crawl_day(source, tmp_path, d, progress=True) for d in (2, 3, 4)]  # no Utrecht
    assert [d.removed for d in days] == [0, 1, 0]  # ad 2, after two runs; ads 3 and 6 never
    said = "fixture-site: 2 ad(s) not in this run's listings were listed in sections no " \
        "longer in the register (Utrecht): not counted as missing, so not removed by absence"
    assert capfd.readouterr().err.count(said) == 3  # the crawl processes' log, each run
    assert sorted(_listed_in(store_path, source.id)) == ["1", "3", "6"]
    assert site.requests.count("/ad/6") == 5  # revisited each day all the same
    store = open_store(store_path)
    try:
        runs = store.crawl_runs(source.id)
        assert [r.missing for r in runs[:3]] == [(), ("2",), ("2",)]
        assert all(r.listings_complete for r in runs)
    finally:
        store.close()


@pytest.mark.parametrize("section", [Section("Amsterdam (centrum)", "city/amsterdam/"),
                                     Section("Amsterdam", "/city/amsterdam/")],
                         ids=["renamed", "url-written-anew"])
def test_a_section_renamed_or_given_another_url_is_still_the_same_section(
        site: FixtureSite, source: Source, tmp_path: Path, section: Section) -> None:
    """A section is known by its name or its URL: change one, and an ad gone from its
    listings is removed by absence as before."""
    crawl_day(source, tmp_path, 0)
    changed = replace(source, sections=(section,))
    site.html("/city/amsterdam/?page=2", LISTING2_WITHOUT_3)
    assert [crawl_day(changed, tmp_path, d).removed for d in (1, 2)] == [0, 1]
    assert _listed_in(str(tmp_path / "s.sqlite3"), source.id)["1"] == sorted(
        {"Amsterdam", section.name})


def test_a_listed_link_that_leads_to_another_ad_gives_that_ad_none_of_its_sections(
        site: FixtureSite, source: Source, tmp_path: Path) -> None:
    """Utrecht lists /ad/6, which redirects to ad 2's page: ad 2 is read, as that ad, but
    Utrecht did not list it (a link naming another ad does not count as listing it)."""
    site.html("/city/utrecht/", b'<html><body><a class="ad-link" href="/ad/6">6</a></body></html>')
    site.pages["/ad/6"] = (301, "", b"/ad/2")
    with_utrecht = replace(source, sections=(*source.sections,
                                             Section("Utrecht", "city/utrecht/")))
    crawl_day(with_utrecht, tmp_path, 0)
    assert _listed_in(str(tmp_path / "s.sqlite3"), source.id)["2"] == ["Amsterdam"]
