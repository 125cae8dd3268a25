"""A custom spider (crawler.spiders.board_api): the demo board read through its JSON
feed, not its HTML, with the same pipeline. Real crawls of the demo world into a real
SQLite store, checked against the world's ground truth; a feed that changed shape is
said and removes nothing."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

import pytest
from fixture_site import FixtureSite

from crawler.register import load_source
from crawler.run import crawl
from crawler.source import Source
from demosite.server import DemoServer
from demosite.world import World
from indexer.model import ad_id_for
from indexer.store import open_store

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "sources" / "examples" / "demo-board-api.yaml"
DAYS = 3


@pytest.fixture
def demo() -> Iterator[tuple[World, DemoServer, Source]]:
    world = World(seed=11, n_ads=40, days=DAYS)
    server = DemoServer(world, per_page=4).start()  # small pages: the feed's "next" is used
    source = dataclasses.replace(load_source(EXAMPLE), base_url=f"{server.url}/board/")
    yield world, server, source
    server.stop()


def test_the_feed_spider_captures_what_the_board_shows_day_by_day(demo, tmp_path: Path) -> None:
    world, server, source = demo
    assert source.spider == "demo-board-api" and source.selectors.ad_links == ""
    store_path = str(tmp_path / "s.sqlite3")
    ever_live: set[str] = set()
    for day in range(DAYS):
        server.set_day(day)
        clock = datetime.combine(world.date_of(day), time(9, 0), tzinfo=UTC)
        stats = crawl([source], store_path, tmp_path / "archive", clock=clock, progress=False,
                      settings={"DOWNLOAD_TIMEOUT": 15}, timeout=300)
        assert stats.total("errors") == 0, stats.lines()
        live = {world.ad(i).site_ad_id: world.ad(i) for i in world.live_ads("board", day)}
        ever_live |= set(live)
        store = open_store(store_path, create=False)
        try:
            run = store.crawl_runs(source.id, limit=1)[0]
            assert run.listings_complete, run
            assert all(r.ended for r in store.crawl_runs(source.id))  # begun, then ended
            stored_live = {a.site_ad_id for a in store.live_ads(source.id)}
            assert stored_live == set(live), f"day {day}"
            for site_ad_id, ad in live.items():
                rec = store.get_ad(ad_id_for(source.id, site_ad_id))
                assert rec is not None and len(rec.versions) == world.version_count_until(
                    ad, day), f"day {day}: ad {site_ad_id} versions"
                assert rec.versions[-1].fields.images, f"ad {site_ad_id}: photos archived"
            for gone in ever_live - set(live):
                rec = store.get_ad(ad_id_for(source.id, gone))
                assert rec is not None and rec.removed_at is not None, f"day {day}: {gone}"
        finally:
            store.close()
    assert len(ever_live) > len(live)  # the world removed ads in these days, and they were


@pytest.mark.parametrize(("body", "reason"), [
    (b"<html>Maintenance</html>", "JSONDecodeError"),
    (b'{"ads": "none", "next": null}', "not what the board sends"),
    (b'{"ads": [{"url": "/ad/1"}], "next": null}', "listing could not be read: ValueError("
                                                   "'feed item has no"),
    # a soft block: an empty list, but not the board's word that the region has none
    (b'{"ads": [], "next": null, "total": 3}', "listing shows no ads"),
])
def test_a_feed_that_changed_shape_is_said_and_removes_nothing(
        site: FixtureSite, source: Source, tmp_path: Path, body: bytes, reason: str) -> None:
    store_path = str(tmp_path / "s.sqlite3")
    day0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
    feed = dataclasses.replace(source, spider="demo-board-api", missing_runs_before_removed=1)
    site.pages["/api/list"] = (200, "application/json", b'{"ads": [{"href": "/ad/1"}, '
                               b'{"href": "/ad/2"}], "next": "list?offset=2"}')
    site.pages["/api/list?offset=2"] = (200, "application/json",
                                        b'{"ads": [{"href": "/ad/3#top"}, {"href": "/ad/3"}, '
                                        b'{"href": "javascript:x()"}], "next": "list?offset=4#more"}')
    site.pages["/api/list?offset=4"] = (200, "application/json",
                                        b'{"ads": [], "next": null, "total": 0}')
    feed = dataclasses.replace(feed, sections=(dataclasses.replace(
        feed.sections[0], url="api/list"),))
    settings = {"DOWNLOAD_TIMEOUT": 5, "RETRY_TIMES": 0}
    crawl([feed], store_path, tmp_path / "archive", clock=day0, progress=False,
          settings=settings, timeout=120)
    site.pages["/api/list?offset=2"] = (200, "application/json", body)
    crawl([feed], store_path, tmp_path / "archive", clock=day0 + timedelta(days=2),
          progress=False, settings=settings, timeout=120)
    store = open_store(store_path, create=False)
    try:
        first, second = reversed(store.crawl_runs(feed.id, limit=2))
        live = sorted(a.site_ad_id for a in store.live_ads(feed.id))
    finally:
        store.close()
    assert first.listings_complete and first.errors == 0 and first.new_ads == 3
    assert not second.listings_complete and second.removed == 0 and live == ["1", "2", "3"]
    assert any(e.url.endswith("/api/list?offset=2") and reason in e.reason
               for e in second.error_samples), second.error_samples
