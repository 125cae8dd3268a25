"""A run's listings count as complete (ads they did not show may be taken for removed)
only when every listing page was read whole and every ad they showed is known by its id:
never after a run stopped early, a page the selectors could not read, or a listed link
whose id only its page could tell and that page was not read. A listing that says it has
no ads is complete. Real crawls of the fixture site into a real store; a simulated clock
moves the days."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from crawl_helpers import photo_names
from fixture_site import FixtureSite, page

from crawler.run import crawl
from crawler.source import Source
from crawler.spiders.generic import UNIDENTIFIED
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


def ids_from_pages(source: Source) -> Source:
    """The id is read from the page (``ad_id: css``): a link alone does not say which ad."""
    return dataclasses.replace(source, selectors=dataclasses.replace(
        source.selectors, ad_id_from_url="", ad_id_css="h1.title::text"))


def relink(site: FixtureSite) -> None:
    """The listings link the ads with a tracking parameter, and no longer show the ad
    that fails and the one robots.txt forbids."""
    for n, name in ((1, "listing1.html"), (2, "listing2.html")):
        html = page(name).replace(b'/ad/1"', b'/ad/1?ref=list"').replace(
            b'ad/2#top"', b'ad/2?ref=list"').replace(b'/ad/3"', b'/ad/3?ref=list"')
        html = html.replace(b'href="/ad/4"', b'').replace(b'href="/private/ad/99"', b'')
        site.html("/city/amsterdam/" + ("" if n == 1 else "?page=2"), html)
    site.html("/ad/1?ref=list", page("ad1.html"))
    site.html("/ad/2?ref=list", page("ad2_latin1.html"), charset="iso-8859-1")
    site.html("/ad/3?ref=list", page("ad3.html"))


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
    """The listing's links changed (a tracking parameter): only the fetched page can tell
    the ad was listed."""
    source = eager(ids_from_pages(source))
    go(source, tmp_path, DAY0)
    _, before = last_run_and_live(source, tmp_path)
    assert len(before) == 3
    relink(site)
    go(source, tmp_path, DAY0 + timedelta(days=2))
    run, live = last_run_and_live(source, tmp_path)
    assert run.listings_complete and run.missing == () and run.removed == 0
    assert live == before


@pytest.mark.parametrize("failure", ["server error", "robots", "not text", "no id on page"])
def test_a_listed_link_whose_page_could_not_be_read_may_be_a_known_ad(
        site: FixtureSite, source: Source, tmp_path: Path, failure: str) -> None:
    """Ad 3's link changed and its page fails: it may be ad 3 (it is), so ad 3 is not
    taken for an ad the listings stopped showing, in this run or the next (a page that
    names no id is not stored under its URL, where it would pass for a known ad)."""
    source = eager(ids_from_pages(source))
    go(source, tmp_path, DAY0)
    _, before = last_run_and_live(source, tmp_path)
    relink(site)
    if failure == "server error":
        site.html("/ad/3?ref=list", b"<h1>Internal error</h1>", status=503)
    elif failure == "robots":
        site.pages["/robots.txt"] = (200, "text/plain", b"User-agent: *\nDisallow: /ad/3\n")
    elif failure == "not text":
        site.pages["/ad/3?ref=list"] = (200, "application/octet-stream", b"\0" * 64)
    else:  # the page reads, but its title (the id) is gone: a new layout
        site.html("/ad/3?ref=list", page("ad3.html").replace(b'class="title"', b'class="t"'))
    for days in (2, 4):
        go(source, tmp_path, DAY0 + timedelta(days=days))
        run, live = last_run_and_live(source, tmp_path)
        assert not run.listings_complete and run.missing == () and run.removed == 0
        assert live == before and len(before) == 3
        assert [e.url.rsplit("/", 2)[-1] for e in run.error_samples
                if e.reason.endswith(UNIDENTIFIED)] == ["3?ref=list"], run.error_samples


def test_the_link_the_listing_showed_decides_not_where_it_redirects(
        site: FixtureSite, source: Source, tmp_path: Path) -> None:
    """Ids from pages, and from URLs where they have one. A link with no id that
    redirects to ad 3's URL, which fails, may have been ad 3: not complete. A new ad's
    link (its id in its URL) that redirects to a login wall naming no id costs nothing."""
    source = eager(dataclasses.replace(source, selectors=dataclasses.replace(
        source.selectors, ad_id_css="h1.title::text")))
    go(source, tmp_path, DAY0)
    _, before = last_run_and_live(source, tmp_path)
    listing2 = page("listing2.html").replace(b'href="/ad/4"', b"").replace(
        b'href="/private/ad/99"', b"")
    site.html("/members/login", b"<html><body><form>Log in</form></body></html>")
    site.pages["/ad/77"] = (302, "text/html", b"/members/login")
    site.html("/city/amsterdam/?page=2", listing2.replace(
        b'href="/ad/3"', b'href="/go/eva"').replace(b"</ul>", b'<li><a class="ad-link" '
                                                            b'href="/ad/77">New</a></ul>'))
    site.pages["/go/eva"] = (302, "text/html", b"/ad/3")
    site.html("/ad/3", b"<h1>Internal error</h1>", status=503)
    go(source, tmp_path, DAY0 + timedelta(days=2))
    run, live = last_run_and_live(source, tmp_path)
    assert not run.listings_complete and run.removed == 0 and live == before
    site.html("/ad/3", page("ad3.html"))  # back: the link names no id, and leads to ad 3
    go(source, tmp_path, DAY0 + timedelta(days=4))
    run, live = last_run_and_live(source, tmp_path)
    assert run.listings_complete and run.missing == () and live == before
    assert [e.url.rsplit("/", 1)[-1] for e in run.error_samples] == ["login"]


def test_an_ad_reached_only_through_a_redirect_from_another_listed_link_is_not_listed(
        site: FixtureSite, source: Source, tmp_path: Path) -> None:
    """The listings no longer show ad 3; ad 2's link now leads to ad 3's page. Ad 3 was
    not listed, and is taken for removed (``missing_runs_before_removed: 1``); ad 2,
    whose page now sends to another ad's, is removed for that (tests/crawler/
    test_redirected_ads.py)."""
    source = eager(source)
    go(source, tmp_path, DAY0)
    site.html("/city/amsterdam/?page=2", page("listing2.html").replace(b'href="/ad/3"', b""))
    site.pages["/ad/2"] = (302, "text/html", b"/ad/3")
    go(source, tmp_path, DAY0 + timedelta(days=2))
    run, live = last_run_and_live(source, tmp_path)
    assert run.listings_complete and run.missing == ("3",) and run.removed == 2
    assert live == ["1"]


def test_a_listing_that_says_it_has_no_ads_is_complete_and_its_ads_removed(
        site: FixtureSite, source: Source, tmp_path: Path) -> None:
    source = eager(dataclasses.replace(source, selectors=dataclasses.replace(
        source.selectors, empty_listing="p.no-ads")))
    go(source, tmp_path, DAY0)
    site.html("/city/amsterdam/", b"<html><body><p class='no-ads'>No ads in Amsterdam</p>"
                                  b"</body></html>")
    go(source, tmp_path, DAY0 + timedelta(days=2))
    run, live = last_run_and_live(source, tmp_path)
    assert run.listings_complete and run.missing == ("1", "2", "3") and run.removed == 3
    assert live == [] and run.errors == 0


def test_links_to_another_site_are_not_followed(site: FixtureSite, source: Source,
                                                tmp_path: Path) -> None:
    """The listing links an ad on another host (here: the same server as ``localhost``,
    so a fetch would be seen): not the approved site (127.0.0.1), not fetched. Its next
    page on the other host is not followed either, and the ads of the pages it may lead
    to go unread: the run's listings are incomplete, with the page named."""
    other = site.url.replace("127.0.0.1", "localhost")
    site.html("/ad/77", page("ad3.html").replace(b"Eva", b"Elsewhere"))
    site.html("/city/amsterdam/?page=2", page("listing2.html").replace(
        b"</ul>", f'<li><a class="ad-link" href="{other}ad/77">Elsewhere</a></ul>'.encode()
    ).replace(b'href="/city/amsterdam/"', f'href="{other}city/amsterdam/"'.encode()))
    go(source, tmp_path, DAY0)
    run, live = last_run_and_live(source, tmp_path)
    assert live == ["1", "2", "3"] and not run.listings_complete
    assert "/ad/77" not in site.arrived and "/ad/3" in site.arrived
    assert [(e.url, e.reason) for e in run.error_samples if "another site" in e.reason] == [
        (f"{other}city/amsterdam/", f"next listing page of {site.url}city/amsterdam/?page=2 "
                                     "is on another site; not followed")]


def ad3_sent_elsewhere(site: FixtureSite, source: Source, tmp_path: Path,
                       move: Callable[[str], None]) -> list[str]:
    """Crawl, then let ``move`` make ad 3's page send the crawler to ``<other host>/
    elsewhere/3`` and crawl again: the target is not fetched (it would be seen: the other
    host is this server as ``localhost``), the run names both URLs, and ad 3 keeps its
    history (listed, so not removed). Returns the ads live before."""
    go(source, tmp_path, DAY0)
    _, before = last_run_and_live(source, tmp_path)
    other = site.url.replace("127.0.0.1", "localhost")
    site.html("/elsewhere/3", page("ad3.html").replace(b"Eva", b"Elsewhere"))
    move(f"{other}elsewhere/3")
    site.arrived.clear()
    go(source, tmp_path, DAY0 + timedelta(days=2))
    run, live = last_run_and_live(source, tmp_path)
    assert "/ad/3" in site.arrived and "/elsewhere/3" not in site.arrived
    assert run.listings_complete and live == before and run.new_versions == 0
    assert [e.reason for e in run.error_samples if "approved" in e.reason] == [
        f"IgnoreRequest: redirected off the approved site 127.0.0.1: {site.url}ad/3 "
        f"redirected to {other}elsewhere/3"]
    return before


def test_a_page_that_redirects_to_another_site_is_not_followed(site: FixtureSite,
                                                               source: Source,
                                                               tmp_path: Path) -> None:
    """Ad 3's page now redirects (302) to another host: not followed. A next-page link
    that redirects off the site leaves the listings incomplete: what that page listed is
    not known."""
    def redirect(target: str) -> None:
        site.pages["/ad/3"] = (302, "text/html", target.encode())

    before = ad3_sent_elsewhere(site, source, tmp_path, redirect)
    other = site.url.replace("127.0.0.1", "localhost")
    site.html("/elsewhere/list", page("listing2.html"))
    site.pages["/city/amsterdam/?page=2"] = (302, "text/html",
                                              f"{other}elsewhere/list".encode())
    go(source, tmp_path, DAY0 + timedelta(days=4))
    run, live = last_run_and_live(source, tmp_path)
    assert "/elsewhere/list" not in site.arrived
    assert not run.listings_complete and run.removed == 0 and live == before


def test_a_meta_refresh_to_another_site_is_not_followed(site: FixtureSite, source: Source,
                                                       tmp_path: Path) -> None:
    """Ad 3's page now answers with a page whose <meta http-equiv="refresh"> sends the
    browser to another host: Scrapy follows that as a redirect, and it is refused as one."""
    def refresh(target: str) -> None:
        site.html("/ad/3", f'<html><head><meta http-equiv="refresh" content="0; '
                  f'url={target}"></head><body>Moved</body></html>'.encode())

    ad3_sent_elsewhere(site, source, tmp_path, refresh)


def test_a_robots_txt_that_redirects_to_another_host_still_binds(site: FixtureSite,
                                                                 source: Source,
                                                                 tmp_path: Path) -> None:
    """robots.txt moved to the site's other domain (a redirect to another host) is read
    there and obeyed: refusing that redirect would read as "no robots.txt"."""
    other = site.url.replace("127.0.0.1", "localhost")
    site.pages["/robots.txt"] = (302, "text/plain", f"{other}robots2.txt".encode())
    site.pages["/robots2.txt"] = (200, "text/plain", b"User-agent: *\nDisallow: /ad/3\n")
    go(source, tmp_path, DAY0)
    run, live = last_run_and_live(source, tmp_path)
    assert "/robots2.txt" in site.arrived and "/ad/3" not in site.arrived
    assert "3" not in live and not any("approved" in e.reason for e in run.error_samples)


@pytest.mark.parametrize("target", ["/city/amsterdam/", "/"])  # page 1; the site's home
def test_a_listing_page_sent_to_another_page_already_read_or_home_is_not_read(
        site: FixtureSite, source: Source, tmp_path: Path, target: str) -> None:
    """Page 2 links page 3, which redirects to page 1 (read already, and not the page
    that linked it) or to the home (which links ads of its own): read as page 3, or lost
    in a duplicate filter, the ads page 3 stands for would count as no longer listed. Not
    read; the listings are incomplete."""
    source = eager(source)
    go(source, tmp_path, DAY0)
    site.html("/city/amsterdam/?page=2", page("listing2.html").replace(
        b'href="/city/amsterdam/"', b'href="/city/amsterdam/?page=3"'))
    site.pages["/city/amsterdam/?page=3"] = (302, "", target.encode())
    site.html("/", page("listing1.html"))
    go(source, tmp_path, DAY0 + timedelta(days=2))
    run, live = last_run_and_live(source, tmp_path)
    assert live == ["1", "2", "3"] and run.removed == 0 and not run.listings_complete
    assert dict(run.error_kinds).get("redirect") == 1
    [why] = [e.reason for e in run.error_samples if e.reason.startswith("listing ")]
    assert why.startswith(f"listing {site.url}city/amsterdam/?page=3 redirected to "
                          f"{site.url}{target.lstrip('/')}, "), why


@pytest.mark.parametrize("back_to", ["?page=2", ""])  # the page that links it; page 1
def test_a_next_page_sent_back_to_the_page_that_linked_it_ends_the_pagination(
        site: FixtureSite, source: Source, tmp_path: Path, back_to: str) -> None:
    """The last page's "next" link leads back to that page, or page 1's to page 1 (a
    site that sends a page past the end back): where the pagination ends, not a page
    lost. The listings stay complete, and nothing is counted as an error."""
    site.html("/city/amsterdam/?page=2", page("listing2.html").replace(
        b'href="/city/amsterdam/"', b'href="/city/amsterdam/?page=3"'))
    site.pages["/city/amsterdam/?page=3"] = (302, "", f"/city/amsterdam/{back_to}".encode())
    if not back_to:  # page 1's own next link is the one sent back
        site.html("/city/amsterdam/", page("listing1.html").replace(
            b'href="?page=2"', b'href="?page=3"').replace(
            b"</ul>", b'<li><a class="ad-link" href="/ad/3">Eva</a></ul>'))
    go(source, tmp_path, DAY0)
    run, live = last_run_and_live(source, tmp_path)
    assert run.listings_complete and "redirect" not in dict(run.error_kinds), run.error_kinds
    assert live == ["1", "2", "3"]


def test_a_listing_page_under_its_query_in_another_order_is_read_once(
        site: FixtureSite, source: Source, tmp_path: Path) -> None:
    """Page 2 linked as ``?page=2&sort=d`` and, from itself, as ``?sort=d&page=2``: one
    page, asked for once (as Scrapy's duplicate filter would have it)."""
    site.html("/city/amsterdam/", page("listing1.html").replace(
        b'href="?page=2"', b'href="?page=2&amp;sort=d"'))
    page2 = page("listing2.html").replace(b'href="/city/amsterdam/"',
                                          b'href="/city/amsterdam/?sort=d&amp;page=2"')
    for path in ("/city/amsterdam/?page=2&sort=d", "/city/amsterdam/?sort=d&page=2"):
        site.html(path, page2)
    go(source, tmp_path, DAY0)
    run, live = last_run_and_live(source, tmp_path)
    assert live == ["1", "2", "3"] and run.listings_complete
    asked = [p for p in site.requests if p.startswith("/city/amsterdam/?")]
    assert asked == ["/city/amsterdam/?page=2&sort=d"], asked


def test_a_listing_redirect_loop_is_counted_and_the_listings_incomplete(
        site: FixtureSite, source: Source, tmp_path: Path) -> None:
    source = eager(source)
    go(source, tmp_path, DAY0)
    site.pages["/city/amsterdam/?page=2"] = (302, "", b"/city/amsterdam/?page=3")
    site.pages["/city/amsterdam/?page=3"] = (302, "", b"/city/amsterdam/?page=2")
    go(source, tmp_path, DAY0 + timedelta(days=2))
    run, live = last_run_and_live(source, tmp_path)
    assert live == ["1", "2", "3"] and run.removed == 0 and not run.listings_complete
    assert dict(run.error_kinds).get("redirect") == 1, run.error_kinds


def test_a_malformed_link_costs_only_itself(site: FixtureSite, source: Source,
                                           tmp_path: Path) -> None:
    """Links Scrapy cannot request (a port that is no number, a broken IPv6 host) on a
    listing and among an ad's photos: every other link of the listing is followed, its
    next page read, ad 1 stored with its photos; the listings are incomplete (the site
    shows a link to an ad that cannot be told), with the link named."""
    port = site.url.rsplit(":", 1)[1].strip("/")
    site.html("/city/amsterdam/", page("listing1.html").replace(
        b'<ul class="ads">', f'<ul class="ads"><li><a class="ad-link" '
        f'href="http://127.0.0.1:{port}:/ad/9">bad port</a>'.encode()))
    site.html("/ad/1", page("ad1.html").replace(
        b'<div class="gallery">', b'<div class="gallery"><img src="http://[x/p.png">'))
    go(source, tmp_path, DAY0)
    run, live = last_run_and_live(source, tmp_path)
    assert live == ["1", "2", "3"] and not run.listings_complete
    assert photo_names(source, tmp_path, "1") == [["1.png", "big.png"]]
    [why] = [e.reason for e in run.error_samples if "no URL can be made of" in e.reason]
    assert f"http://127.0.0.1:{port}:/ad/9" in why, why


def test_links_are_read_against_the_pages_base_href(site: FixtureSite, source: Source,
                                                    tmp_path: Path) -> None:
    """A listing whose <base href> points elsewhere than its own address: its relative
    links are where a browser would go."""
    site.html("/city/amsterdam/", b'<html><head><base href="/ad/"></head><body>'
              b'<ul class="ads"><li><a class="ad-link" href="1">Lisa</a>'
              b'<li><a class="ad-link" href="2">Maria</a></ul>'
              b'<a rel="next" href="/city/amsterdam/?page=2">next</a></body></html>')
    go(source, tmp_path, DAY0)
    run, live = last_run_and_live(source, tmp_path)
    assert live == ["1", "2", "3"] and run.listings_complete
    assert not any(p.startswith("/city/amsterdam/1") for p in site.requests)
