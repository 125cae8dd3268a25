"""An ad page that redirects elsewhere, over real crawls into a real store: a known ad
sent to the site's home page or to another ad's page is removed (with why), never given
the page it landed on as a new version; one sent to a page that says nothing of it (a
captcha) is neither removed nor given that page; a new link sent to a page that is not
an ad is not stored as an ad."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from fixture_site import FixtureSite, page

from crawler.run import crawl
from crawler.source import Source
from indexer.model import ad_id_for
from indexer.store import open_store

DAY0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
HOME = b"<html><body><h1 class='title'>Welkom</h1><div class='description'>Home</div></body></html>"


def test_ads_redirected_away_are_removed_and_their_landing_pages_not_stored(
        site: FixtureSite, source: Source, tmp_path: Path) -> None:
    store_path, archive = str(tmp_path / "s.sqlite3"), tmp_path / "archive"

    def go(at: datetime):  # noqa: ANN202
        stats = crawl([source], store_path, archive, clock=at, progress=False,
                      settings={"DOWNLOAD_TIMEOUT": 5, "RETRY_TIMES": 0}, timeout=120)
        return stats.sources[source.id]

    site.html("/ad/4", page("ad3.html").replace(b"Eva", b"Ivy"))
    assert go(DAY0).new_ads == 4
    site.html("/", HOME)
    site.html("/captcha", b"<html><body><h1 class='title'>Are you human?</h1></body></html>")
    site.pages["/ad/4"] = (302, "", b"/captcha")  # a block, not a removal
    site.pages["/ad/3"] = (302, "", b"/")  # taken down: the site sends it home
    site.pages["/ad/1"] = (301, "", b"/ad/2")  # merged into another ad
    site.pages["/ad/5"] = (302, "", b"/")  # a new link that lands on the home page
    site.html("/city/amsterdam/", page("listing1.html").replace(
        b"</ul>", b'<li><a class="ad-link" href="/ad/5">Zoe</a></li></ul>'))
    day1 = go(DAY0 + timedelta(days=1))
    assert (day1.removed, day1.new_ads, day1.new_versions, day1.errors) == (2, 0, 0, 2)

    store = open_store(store_path)
    try:
        three = store.get_ad(ad_id_for(source.id, "3"))
        assert three is not None and len(three.versions) == 1
        assert three.url == f"{site.url}ad/3" and three.versions[0].fields.title != "Welkom"
        assert three.removed_reason == f"redirected to {site.url}, the site's home or a listing"
        one = store.get_ad(ad_id_for(source.id, "1"))
        assert one is not None and len(one.versions) == 1
        assert one.removed_reason == f"redirected to the page of another ad (2: {site.url}ad/2)"
        two = store.get_ad(ad_id_for(source.id, "2"))
        assert two is not None and two.removed_at is None and len(two.versions) == 1
        four = store.get_ad(ad_id_for(source.id, "4"))
        assert four is not None and four.removed_at is None and len(four.versions) == 1
        titles = {v.fields.title for ad in store.iter_ads() for v in ad.versions}
        assert not titles & {"Welkom", "Are you human?"}  # no landing page is a version
        assert store.get_ad(ad_id_for(source.id, site.url)) is None
        run = store.crawl_runs(source.id)[0]  # newest first
        reasons = [e.reason for e in run.error_samples]
        assert (f"ad link {site.url}ad/5 redirected to {site.url}, the site's home or a "
                "listing; not read") in reasons
        assert (f"ad link {site.url}ad/4 redirected to {site.url}captcha, which names no ad "
                "id; not read") in reasons
    finally:
        store.close()

    # ad 3 comes back at its address: live again, history intact
    site.html("/ad/3", page("ad3.html"))
    go(DAY0 + timedelta(days=2))
    store = open_store(store_path)
    try:
        three = store.get_ad(ad_id_for(source.id, "3"))
        assert three is not None and three.removed_at is None and len(three.versions) == 1
    finally:
        store.close()


def test_a_known_ad_sent_to_a_section_written_otherwise_is_removed(
        site: FixtureSite, source: Source, tmp_path: Path) -> None:
    """The site sends a taken-down ad to its section's listing without the trailing slash
    the source file writes (as it may send it to the https or www. home): still the
    section, so the ad is gone, and the listing it landed on is no version of it."""
    store_path, archive = str(tmp_path / "s.sqlite3"), tmp_path / "archive"

    def go(at: datetime) -> object:
        return crawl([source], store_path, archive, clock=at, progress=False,
                     settings={"DOWNLOAD_TIMEOUT": 5, "RETRY_TIMES": 0},
                     timeout=120).sources[source.id]

    assert go(DAY0).new_ads == 3
    site.pages["/ad/3"] = (302, "", b"/city/amsterdam")
    site.html("/city/amsterdam", page("listing1.html").replace(b"Lisa", b"Lisa (featured)"))
    day1 = go(DAY0 + timedelta(days=1))
    assert (day1.removed, day1.new_versions) == (1, 0)
    store = open_store(store_path)
    try:
        three = store.get_ad(ad_id_for(source.id, "3"))
    finally:
        store.close()
    assert three is not None and len(three.versions) == 1
    assert three.removed_reason == (f"redirected to {site.url}city/amsterdam, the site's "
                                    "home or a listing")


def test_a_block_page_that_quotes_the_ads_address_is_no_version_of_it(
        site: FixtureSite, source: Source, tmp_path: Path) -> None:
    """Block, login and consent pages quote the address they were sent from, as is or
    %-escaped, in the query or the fragment (Scrapy keeps a Location's fragment in the
    page's URL): the ad's id in that quote is not the page's own. The ad stays as it was
    (not removed, no new version), and the redirect is counted, not read."""
    store_path, archive = str(tmp_path / "s.sqlite3"), tmp_path / "archive"

    def go(at: datetime):  # noqa: ANN202
        return crawl([source], store_path, archive, clock=at, progress=False,
                     settings={"DOWNLOAD_TIMEOUT": 5, "RETRY_TIMES": 0},
                     timeout=120).sources[source.id]

    site.html("/ad/4", page("ad3.html").replace(b"Eva", b"Ivy"))
    assert go(DAY0).new_ads == 4
    block = b"<html><body><h1 class='title'>Are you human?</h1></body></html>"
    site.html("/captcha?return=/ad/4&lang=nl", block)
    site.html("/login?next=http%3A%2F%2Fsite%2Fad%2F3", block.replace(b"human", b"logged in"))
    site.pages["/ad/4"] = (302, "", b"/captcha?return=/ad/4&lang=nl")
    site.pages["/ad/3"] = (302, "", b"/login?next=http%3A%2F%2Fsite%2Fad%2F3")
    site.html("/login", block.replace(b"Are you human?", b"Please log in"))
    site.pages["/ad/1"] = (302, "", b"/login#return=/ad/1")
    day1 = go(DAY0 + timedelta(days=1))
    assert (day1.removed, day1.new_ads, day1.new_versions, day1.errors) == (0, 0, 0, 3)
    store = open_store(store_path)
    try:
        for site_ad_id, title in (("4", "Ivy"), ("3", "Eva"), ("1", "Lisa")):
            ad = store.get_ad(ad_id_for(source.id, site_ad_id))
            assert ad is not None and ad.removed_at is None
            assert [v.fields.title.split(",")[0] for v in ad.versions] == [title]
        reasons = [e.reason for e in store.crawl_runs(source.id)[0].error_samples]
    finally:
        store.close()
    assert (f"ad link {site.url}ad/4 redirected to {site.url}captcha?return=/ad/4&lang=nl, "
            "which names no ad id; not read") in reasons
    assert (f"ad link {site.url}ad/1 redirected to {site.url}login#return=/ad/1, "
            "which names no ad id; not read") in reasons
