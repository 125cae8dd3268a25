"""A source that names no ad id knows its ads by address, the address each page was
fetched from. A listing link that redirects there (``/ad/1`` → ``/ad/1/``) or that is
written with a space (fetched escaped) still names the known ad: over real crawls into a
real store, it stays listed (never removed by absence) and is not fetched again before
its revisit interval has passed. A known ad whose address now leads to another known
ad's is gone, and is never given that ad's page."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from pathlib import Path

from crawl_helpers import DAY0
from fixture_site import FixtureSite, page

from crawler.run import crawl
from crawler.source import Source
from indexer.model import ad_id_for
from indexer.store import open_store


def by_address(source: Source) -> Source:
    return dataclasses.replace(source, missing_runs_before_removed=1, selectors=dataclasses.replace(
        source.selectors, ad_id_from_url="", ad_id_css=""))


def test_ads_known_by_address_stay_listed_through_redirects_and_escapes(
        site: FixtureSite, source: Source, tmp_path: Path) -> None:
    source = by_address(source)
    site.html("/city/amsterdam/", page("listing1.html").replace(
        b'<ul class="ads">', b'<ul class="ads"><li><a class="ad-link" href="/ad/a b">A B</a>'))
    site.pages["/ad/1"] = (301, "", b"/ad/1/")
    site.html("/ad/1/", page("ad1.html"))
    site.html("/ad/a%20b", page("ad3.html").replace(b"Eva", b"Anna"))

    def day(hours: float) -> tuple[int, int, list[str]]:
        stats = crawl([source], str(tmp_path / "s.sqlite3"), tmp_path / "archive",
                      clock=DAY0 + timedelta(hours=hours), progress=False,
                      settings={"DOWNLOAD_TIMEOUT": 5, "RETRY_TIMES": 0}, timeout=120)
        store = open_store(str(tmp_path / "s.sqlite3"), create=False)
        try:
            live = sorted(a.url.removeprefix(site.url) for a in store.live_ads(source.id))
        finally:
            store.close()
        s = stats.sources[source.id]
        return s.removed, s.not_due, live

    first = day(0)
    assert first == (0, 0, ["ad/1/", "ad/2", "ad/3", "ad/a%20b"])
    fetched = site.requests.count("/ad/1/"), site.requests.count("/ad/a%20b")
    removed, not_due, live = day(1)  # within the revisit interval: listed, not due
    assert (removed, live) == (0, first[2]) and not_due >= 2
    assert (site.requests.count("/ad/1/"), site.requests.count("/ad/a%20b")) == fetched
    assert day(48)[::2] == (0, first[2])  # due again: fetched, still live, never removed
    assert site.requests.count("/ad/1/") == fetched[0] + 1


def test_an_ad_sent_to_another_known_ads_address_is_removed_not_given_its_page(
        site: FixtureSite, source: Source, tmp_path: Path) -> None:
    """Ad 1 taken down and its address sent to ad 2's: ad 2's page is no version of ad 1
    (the two would share a text and an address, a false link between them); ad 1 is
    removed, saying where it led, and ad 2 stays as it was."""
    source = by_address(source)
    store_path = str(tmp_path / "s.sqlite3")

    def go(hours: float):  # noqa: ANN202
        return crawl([source], store_path, tmp_path / "archive", clock=DAY0 + timedelta(hours=hours),
                     progress=False, settings={"DOWNLOAD_TIMEOUT": 5, "RETRY_TIMES": 0},
                     timeout=120).sources[source.id]

    site.pages["/ad/4"] = (404, "text/html", b"gone")
    assert go(0).new_ads == 3
    site.pages["/ad/1"] = (301, "", b"/ad/2")
    day2 = go(48)  # all due again
    assert (day2.removed, day2.new_ads, day2.new_versions) == (1, 0, 0)
    store = open_store(store_path, create=False)
    try:
        one = store.get_ad(ad_id_for(source.id, f"{site.url}ad/1"))
        two = store.get_ad(ad_id_for(source.id, f"{site.url}ad/2"))
    finally:
        store.close()
    assert one is not None and two is not None
    assert [v.fields.title for v in one.versions] == ["Lisa, new in town"]
    assert one.url == f"{site.url}ad/1" and one.removed_at is not None
    assert one.removed_reason == (f"redirected to the page of another ad ({site.url}ad/2: "
                                  f"{site.url}ad/2)")
    assert two.removed_at is None and len(two.versions) == 1
