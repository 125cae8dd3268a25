"""A run's listings count as complete (ads they did not show may be taken for removed)
only when every listing page was read whole: never after a run stopped early, a page the
selectors could not read, or an ad the listing showed under a link that names no id.
Real crawls of the fixture site into a real store; a simulated clock moves the days."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from pathlib import Path

from fixture_site import FixtureSite, page

from crawler.run import crawl
from crawler.source import Source
from indexer.store import open_store

DAY0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def go(source: Source, tmp_path: Path, at: datetime, **settings: object) -> None:
    crawl([source], str(tmp_path / "s.sqlite3"), tmp_path / "archive", clock=at,
          progress=False, settings={"DOWNLOAD_TIMEOUT": 5, "RETRY_TIMES": 0, **settings},
          timeout=120)


def last_run_and_live(source: Source, tmp_path: Path) -> tuple[object, list[str]]:
    store = open_store(str(tmp_path / "s.sqlite3"), create=False)
    try:
        run = store.crawl_runs(source.id, limit=1)[0]
        return run, sorted(a.site_ad_id for a in store.live_ads(source.id))
    finally:
        store.close()


def eager(source: Source) -> Source:
    """One incomplete-looking run is enough to remove: the bugs show at once."""
    return dataclasses.replace(source, missing_runs_before_removed=1)


def test_a_run_stopped_early_is_not_a_complete_listing(site: FixtureSite, source: Source,
                                                       tmp_path: Path) -> None:
    source = eager(source)
    go(source, tmp_path, DAY0)
    _, live = last_run_and_live(source, tmp_path)
    assert live == ["1", "2", "3"]
    # stopped after its first page (what a signal or a close-spider limit does): the
    # second listing page, with ad 3, is never read
    go(source, tmp_path, DAY0 + timedelta(days=2), CLOSESPIDER_PAGECOUNT=1,
       CONCURRENT_REQUESTS=1)
    run, live = last_run_and_live(source, tmp_path)
    assert run.finish_reason == "closespider_pagecount"
    assert not run.listings_complete and run.missing == () and run.removed == 0
    assert live == ["1", "2", "3"]


def test_a_listing_the_selectors_cannot_read_is_not_complete(
        site: FixtureSite, source: Source, tmp_path: Path) -> None:
    source = eager(source)
    go(source, tmp_path, DAY0)
    broken = dataclasses.replace(source, selectors=dataclasses.replace(
        source.selectors, ad_links="a.ad-link[[[::attr(href)"))  # past the register's check
    go(broken, tmp_path, DAY0 + timedelta(days=2))
    run, live = last_run_and_live(source, tmp_path)
    assert not run.listings_complete and run.removed == 0 and live == ["1", "2", "3"]
    assert any("listing could not be read" in e.reason for e in run.error_samples)


def test_a_known_ad_listed_under_another_link_is_listed_by_the_id_on_its_page(
        site: FixtureSite, source: Source, tmp_path: Path) -> None:
    """The id is read from the page (``ad_id: css``) and the listing's links changed (a
    tracking parameter): only the fetched page can tell the ad was listed."""
    source = eager(dataclasses.replace(source, selectors=dataclasses.replace(
        source.selectors, ad_id_from_url="", ad_id_css="h1.title::text")))
    go(source, tmp_path, DAY0)
    _, before = last_run_and_live(source, tmp_path)
    assert len(before) == 3
    for n, name in ((1, "listing1.html"), (2, "listing2.html")):
        html = page(name).replace(b'/ad/1"', b'/ad/1?ref=list"').replace(
            b'ad/2#top"', b'ad/2?ref=list"').replace(b'/ad/3"', b'/ad/3?ref=list"')
        site.html("/city/amsterdam/" + ("" if n == 1 else "?page=2"), html)
    site.html("/ad/1?ref=list", page("ad1.html"))
    site.html("/ad/2?ref=list", page("ad2_latin1.html"), charset="iso-8859-1")
    site.html("/ad/3?ref=list", page("ad3.html"))
    go(source, tmp_path, DAY0 + timedelta(days=2))
    run, live = last_run_and_live(source, tmp_path)
    assert run.listings_complete and run.missing == () and run.removed == 0
    assert live == before
