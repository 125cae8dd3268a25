"""Ad pages a crawl archived but had not read when it was killed (crawler.journal ``page``
lines): the next crawl reads them from the archive, so the version they showed reaches
the store even after the page changed.

A crawl at full speed holds a few dozen archived pages waiting their turn for the spider
at any moment; before the page lines, a kill left each of them in the WARC only.
"""

from __future__ import annotations

import dataclasses
import gzip
import os
import signal
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from crawl_helpers import DAY0, crawl_day, journal_records, start_crawl_child, titles_of
from fixture_site import FixtureSite, page

from crawler.journal import Journal, journal_path
from crawler.journal_replay import Archived, read_left, sent_on
from crawler.run import crawl, crawl_job
from crawler.source import Source
from indexer.archive.writer import Fetched, WarcWriter
from indexer.model import Capture, ad_id_for, capture_from_dict
from indexer.store import open_store

T0 = datetime(2026, 11, 3, 9, 0, tzinfo=UTC)
HELD_SPIDER = "tests.crawler.held_spider:HeldSpider"
LATIN1_NAME = b"Ren\xe9e"  # ad 2's title, "María & Renée", in ISO-8859-1


def wait_for_page_line(archive: Path, suffix: str, proc: Any, timeout: float = 60.0
                       ) -> dict[str, Any]:
    """The ``page`` line of the ad page at ``suffix``, once the crawl has written it."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for record in journal_records(archive):
            if "page" in record and record["page"]["url"].endswith(suffix):
                return dict(record["page"])
        assert proc.poll() is None, "the crawl ended before it archived the page"
        time.sleep(0.05)
    raise AssertionError(f"no page line for {suffix} within {timeout} s")


def kill_while_held(source: Source, store_path: Path, archive: Path, suffix: str = "/ad/2"
                    ) -> dict[str, Any]:
    """Crawl ``source`` on day 1 with a spider that never reads ad 2's pages, and SIGKILL
    the crawl once the page at ``suffix`` is archived and journaled; its page line."""
    held = dataclasses.replace(source, spider=HELD_SPIDER)
    job = crawl_job([held], str(store_path), archive, clock=DAY0 + timedelta(days=1),
                    progress=False, settings={"DOWNLOAD_TIMEOUT": 5, "RETRY_TIMES": 0})
    proc = start_crawl_child(job)
    try:
        return wait_for_page_line(archive, suffix, proc)
    finally:
        os.kill(proc.pid, signal.SIGKILL)  # held, it never ends by itself
        proc.wait(timeout=30)


def crawl_again(source: Source, store_path: Path, archive: Path) -> Any:
    """The next crawl, five minutes after the killed one; its stats."""
    return crawl([source], str(store_path), archive, clock=DAY0 + timedelta(days=1, minutes=5),
                 progress=False, settings={"DOWNLOAD_TIMEOUT": 5, "RETRY_TIMES": 0},
                 timeout=120)


def ad2(version: str) -> bytes:
    """Ad 2's page (ISO-8859-1), its title ending in ``version``."""
    return page("ad2_latin1.html").replace(LATIN1_NAME, LATIN1_NAME + version.encode())


def test_an_ad_page_archived_but_not_read_before_the_kill_reaches_the_store(
        site: FixtureSite, source: Source, tmp_path: Path) -> None:
    store_path, archive = tmp_path / "s.sqlite3", tmp_path / "archive"
    assert crawl_day(source, tmp_path, 0).new_ads == 3  # version A of ad 2
    # day 1: ad 2 changed (version B), served under a charset its bytes do not fit; the
    # crawl's spider never reads it (held), so it waits archived, unread, as the kill comes
    site.html("/ad/2", ad2(" B"), charset="utf-8")
    line = kill_while_held(source, store_path, archive)
    assert line["site_ad_id"] == "2" and line["capture"]["fetched_at"].startswith("2026-11-03")
    assert not any("ad" in r and r["ad"]["url"].endswith("/ad/2")
                   for r in journal_records(archive))  # never read: in the WARC only
    assert titles_of(store_path, source, "2") == ["María & Renée"]

    # started again a little later; the site changed ad 2 once more (version C)
    site.html("/ad/2", ad2(" C"), charset="iso-8859-1")
    stats = crawl_again(source, store_path, archive)
    assert stats.total("new_versions") >= 2, stats.lines()
    # B read from the archive as the spider reads a page (the charset that fits its
    # bytes), in its place between A and C, with the capture the killed run made
    assert titles_of(store_path, source, "2") == [
        "María & Renée", "María & Renée B", "María & Renée C"]
    store = open_store(str(store_path))
    try:
        ad = store.get_ad(ad_id_for(source.id, "2"))
        assert ad is not None
        assert [c.id for c in ad.versions[1].captures] == [
            capture_from_dict(line["capture"]).id]
    finally:
        store.close()
    assert not list((archive / "crawling").glob("*.journal.jsonl"))  # replayed, written


def test_a_killed_run_s_page_sent_brotli_compressed_is_read_back(
        site: FixtureSite, source: Source, tmp_path: Path) -> None:
    """Scrapy asks for br (and zstd): the page is read back through the crawl's own
    decompression, as it was read live (gzip and deflate alone were undone before)."""
    import brotli

    store_path, archive = tmp_path / "s.sqlite3", tmp_path / "archive"
    assert crawl_day(source, tmp_path, 0).new_ads == 3
    site.pages["/ad/2"] = (200, "text/html; charset=iso-8859-1", brotli.compress(ad2(" B")))
    site.headers["/ad/2"] = {"Content-Encoding": "br"}
    kill_while_held(source, store_path, archive)
    site.headers.pop("/ad/2")
    site.html("/ad/2", ad2(" C"), charset="iso-8859-1")
    stats = crawl_again(source, store_path, archive)
    assert titles_of(store_path, source, "2") == [
        "María & Renée", "María & Renée B", "María & Renée C"], stats.lines()
    assert stats.sources[source.id].errors == 1, stats.lines()  # ad 4's answer 500 alone


def test_a_killed_run_s_page_that_gives_nothing_is_said_not_counted(
        site: FixtureSite, source: Source, tmp_path: Path) -> None:
    """Its run (killed) would have counted it; the run that reads it back did not fetch
    it, and says it instead of counting it among its own errors."""
    store_path, archive = tmp_path / "s.sqlite3", tmp_path / "archive"
    assert crawl_day(source, tmp_path, 0).new_ads == 3
    site.html("/ad/2", b"<html><body><p>nothing here</p></body></html>")
    kill_while_held(source, store_path, archive)
    site.html("/ad/2", ad2(" C"), charset="iso-8859-1")
    stats = crawl_again(source, store_path, archive)
    assert stats.sources[source.id].errors == 1, stats.lines()  # ad 4's answer 500 alone
    assert titles_of(store_path, source, "2") == ["María & Renée", "María & Renée C"]
    assert not list((archive / "crawling").glob("*.journal.jsonl"))


def test_a_killed_run_s_page_that_refreshed_to_another_is_left_to_the_crawl(
        site: FixtureSite, source: Source, tmp_path: Path) -> None:
    """Ad 2's address answers an old copy of the ad that refreshes to its new address: the
    killed run archived both and read neither. The page the refresh led to is a version;
    the one it left is not (the crawl never handed it to the spider)."""
    store_path, archive = tmp_path / "s.sqlite3", tmp_path / "archive"
    assert crawl_day(source, tmp_path, 0).new_ads == 3
    old_copy = ad2(" X").replace(b"<html>", b'<html><head><meta http-equiv="refresh" '
                                           b'content="0; url=/ad/2?v=b"></head>', 1)
    site.html("/ad/2", old_copy, charset="iso-8859-1")
    site.html("/ad/2?v=b", ad2(" B"), charset="iso-8859-1")
    kill_while_held(source, store_path, archive, "/ad/2?v=b")  # the refresh's follow-up
    lines = [r["page"]["url"] for r in journal_records(archive) if "page" in r]
    assert [u.rsplit("/", 1)[-1] for u in lines if "/ad/2" in u] == ["2", "2?v=b"]
    site.html("/ad/2", ad2(" C"), charset="iso-8859-1")
    stats = crawl_again(source, store_path, archive)
    assert titles_of(store_path, source, "2") == [
        "María & Renée", "María & Renée B", "María & Renée C"], stats.lines()


def test_a_custom_spider_s_own_start_comes_after_the_replay(
        site: FixtureSite, source: Source, tmp_path: Path) -> None:
    """A custom spider whose ``start()`` does not call ``replay`` replays all the same."""
    store_path, archive = tmp_path / "s.sqlite3", tmp_path / "archive"
    assert crawl_day(source, tmp_path, 0).new_ads == 3
    site.html("/ad/2", ad2(" B"), charset="iso-8859-1")
    kill_while_held(source, store_path, archive)
    site.html("/ad/2", ad2(" C"), charset="iso-8859-1")
    own = dataclasses.replace(source, spider="tests.crawler.own_start_spider:OwnStartSpider")
    stats = crawl_again(own, store_path, archive)
    assert titles_of(store_path, source, "2") == [
        "María & Renée", "María & Renée B", "María & Renée C"], stats.lines()
    assert not list((archive / "crawling").glob("*.journal.jsonl"))


def cap(n: int, url: str = "") -> Capture:
    return Capture(url=url or f"http://x/ad/{n}", fetched_at=T0 + timedelta(seconds=n),
                   status=200, sha256=f"{n:02d}" * 32, warc_file="warcs/a.warc.gz",
                   warc_offset=100 * n)


def test_a_page_line_is_replayed_only_while_no_line_read_it(tmp_path: Path) -> None:
    path = journal_path(tmp_path, "src", T0, 42)
    journal = Journal(path, "src", T0)
    for n in range(1, 7):
        journal.page(cap(n).url, cap(n), "", True, [], False)
    journal.ad("1", cap(1).url, cap(1), "one", "", {}, [])  # read, as an ad
    journal.removal("2", cap(2).url, cap(2).fetched_at, "http 404", cap(2).id)  # a removal
    journal.done([cap(3).id])  # read, nothing in it to store (or a chain that failed)
    journal.removal("4", cap(4).url, cap(4).fetched_at, "http 410")  # names no page
    journal.close()
    left = read_left(path)
    assert [(next(iter(r)), r[next(iter(r))]["url"]) for r in left.items] == [
        ("page", cap(4).url), ("page", cap(5).url), ("page", cap(6).url),
        ("ad", cap(1).url), ("removal", cap(2).url), ("removal", cap(4).url)]
    assert left.done == 0
    Journal(path).done([cap(1).id])
    assert [next(iter(r)) for r in read_left(path).items] == [
        "page", "page", "page", "removal", "removal"]  # the ad stored; its page stays read
    assert read_left(path).done == 1


def test_a_killed_run_s_page_is_read_back_as_the_spider_had_it(tmp_path: Path) -> None:
    """Sent gzip-encoded under a charset its bytes do not fit, reached through a
    redirect: the body decoded by the crawl's decompression, read in the charset that
    fits, the request's meta restored."""
    from scrapy.downloadermiddlewares.httpcompression import HttpCompressionMiddleware
    from scrapy.utils.test import get_crawler

    body = "<html><h1 class=title>Café crème</h1></html>".encode("cp1252")
    writer = WarcWriter(tmp_path)
    capture = writer.write(Fetched(
        url="http://x/ad/7/", status=200, fetched_at=T0, body=gzip.compress(body),
        headers=[("Content-Type", "text/html; charset=utf-8"), ("Content-Encoding", "gzip")]))
    writer.close()
    line = {"url": "http://x/ad/7/", "site_ad_id": "7", "from_listing": True,
            "redirect_urls": ["http://x/ad/7"], "truncated": False}
    compression = HttpCompressionMiddleware.from_crawler(get_crawler())
    response = Archived(tmp_path, "2026-11-03T08:00:00Z").response(capture, line, "NL",
                                                                    compression)
    assert response.url == "http://x/ad/7/" and response.status == 200
    assert response.body == body and b"gzip" not in response.headers.get("Content-Encoding", b"")
    assert response.css("h1::text").get() == "Café crème"
    assert response.meta["site_ad_id"] == "7" and response.meta["from_listing"] is True
    assert response.meta["redirect_urls"] == ["http://x/ad/7"]
    assert response.meta["adtrace_capture"] == capture
    assert sorted(response.meta["handle_httpstatus_list"]) == [404, 410]


def test_a_page_the_crawl_would_have_sent_on_is_not_read_by_the_replay() -> None:
    """As the crawl's MetaRefreshMiddleware decides: a refresh it follows sends the crawl
    on; a late one, or one to an address it does not follow, leaves the page to the
    spider; a crawl with the middleware off reads every page."""
    from scrapy.downloadermiddlewares.redirect import MetaRefreshMiddleware
    from scrapy.http import HtmlResponse, Request
    from scrapy.utils.test import get_crawler

    def html(head: str) -> HtmlResponse:
        return HtmlResponse("http://x/ad/1", body=f"<html><head>{head}</head></html>".encode(),
                            request=Request("http://x/ad/1"))

    def refresh(delay: int, to: str) -> str:
        return f'<meta http-equiv="refresh" content="{delay}; url={to}">'

    middleware = MetaRefreshMiddleware.from_crawler(
        get_crawler(settings_dict={"METAREFRESH_MAXDELAY": 100}))
    assert sent_on(middleware, html(refresh(0, "/ad/1b")))
    assert not sent_on(middleware, html(refresh(500, "/ad/1b")))
    assert not sent_on(middleware, html(refresh(0, "about:blank")))
    assert not sent_on(middleware, html("<title>an ad</title>"))
    assert not sent_on(None, html(refresh(0, "/ad/1b")))


def test_a_page_cut_at_the_size_cap_is_decompressed_as_the_crawl_did(tmp_path: Path) -> None:
    """Gzip cut short: the crawl's decompression keeps what came, and so does the replay
    (strict decompression raised, and the page was said to be a broken journal line)."""
    import random

    from scrapy.downloadermiddlewares.httpcompression import HttpCompressionMiddleware
    from scrapy.utils.test import get_crawler

    words = random.Random(1)
    html = ("<html><h1 class=title>x</h1><p>"
            + "".join(words.choice("abcdefghij ") for _ in range(200_000)) + "</p></html>")
    cut = gzip.compress(html.encode())[:20_000]
    writer = WarcWriter(tmp_path)
    capture = writer.write(Fetched(
        url="http://x/ad/7", status=200, fetched_at=T0, body=cut, truncated="length",
        headers=[("Content-Type", "text/html; charset=utf-8"), ("Content-Encoding", "gzip")]))
    writer.close()
    line = {"url": "http://x/ad/7", "site_ad_id": "7", "from_listing": True,
            "redirect_urls": [], "truncated": True}
    compression = HttpCompressionMiddleware.from_crawler(get_crawler())
    replayed = Archived(tmp_path, "2026-11-03T08:00:00Z").response(capture, line, "NL",
                                                                    compression)
    assert html.startswith(replayed.text[:1000]) and len(replayed.body) > 20_000
    assert replayed.meta["adtrace_truncated"] is True


@pytest.mark.parametrize("to", ["/ad/1?v=2", "http://elsewhere.test/ad/1"])
def test_a_crawl_whose_ad_page_refreshes_elsewhere_leaves_no_journal(
        site: FixtureSite, source: Source, tmp_path: Path, to: str) -> None:
    """A page line for a page the spider never gets (it refreshes to another, which is
    read, or refused off the site) is read with its chain: a run that ends with nothing
    left does not keep its journal for the next one to replay."""
    site.html("/ad/1", f'<html><head><meta http-equiv="refresh" content="0; url={to}">'
                       f"</head><body>moved</body></html>".encode())
    site.html("/ad/1?v=2", page("ad1.html"))
    stats = crawl_day(source, tmp_path, 0)
    assert stats.new_ads == (3 if to.startswith("/") else 2), stats
    assert not list((tmp_path / "archive" / "crawling").glob("*.journal.jsonl"))


def test_a_purge_takes_page_lines_out_as_it_takes_their_pages(tmp_path: Path) -> None:
    """A page line holds an address (an ad's address may carry a name): one fetched before
    the cutoff goes, but a held ad's; one whose ad the link did not name cannot be told
    held, and goes with its page."""
    from crawler.journal import purge

    cutoff = T0 + timedelta(hours=1)
    late = cap(9, "http://x/ad/9")
    late = dataclasses.replace(late, fetched_at=cutoff + timedelta(minutes=1))
    path = journal_path(tmp_path, "src", T0, 1)
    journal = Journal(path, "src", T0)
    journal.page(cap(1).url, cap(1), "1", True, [], False)  # before: goes
    journal.page(cap(2).url, cap(2), "2", True, [], False)  # before, but held: stays
    journal.page(cap(3).url, cap(3), "", True, [], False)  # before, no id known: goes
    journal.page(late.url, late, "", True, [], False)  # after the cutoff: stays
    journal.close()
    assert purge(tmp_path, "src", cutoff, {ad_id_for("src", "2")}) == 2
    assert [r["page"]["url"] for r in read_left(path).items] == [cap(2).url, late.url]
