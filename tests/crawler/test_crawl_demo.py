"""A real crawl of the demo world into a real SQLite store over three simulated days.

Checked against the world's ground truth: every live ad captured, a new version exactly
where the content changed, removed ads marked removed, and every WARC record verifies.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import UTC, datetime, time
from pathlib import Path

import pytest

from crawler.register import load_sources
from crawler.run import crawl
from crawler.source import Source
from demosite.server import DemoServer
from demosite.world import World
from indexer.archive import archive_verify, read_capture
from indexer.model import ad_id_for
from indexer.store import open_store

REPO = Path(__file__).resolve().parents[2]
SITE_OF = {"demo-velvet": "velvet", "demo-board": "board"}
DAYS = 3


@pytest.fixture
def demo() -> Iterator[tuple[World, DemoServer, list[Source]]]:
    world = World(seed=7, n_ads=40, days=DAYS)
    server = DemoServer(world, per_page=8).start()
    sources = [dataclasses.replace(s, base_url=f"{server.url}/{SITE_OF[s.id]}/")
               for s in load_sources(REPO / "sources") if s.id in SITE_OF]
    yield world, server, sources
    server.stop()


@pytest.mark.slow
def test_three_days_of_crawling_match_the_ground_truth(demo, tmp_path: Path) -> None:
    world, server, sources = demo
    store_path, archive = str(tmp_path / "adtrace.sqlite3"), tmp_path / "archive"
    seen_live: set[tuple[str, str]] = set()
    totals = {"removed": 0, "new_versions": 0}
    for day in range(DAYS):
        server.set_day(day)
        clock = datetime.combine(world.date_of(day), time(9, 0), tzinfo=UTC)
        stats = crawl(sources, store_path, archive, clock=clock, progress=False,
                      settings={"DOWNLOAD_TIMEOUT": 15}, timeout=300)
        assert stats.total("errors") == 0 and "errors=0" in stats.summary(), stats.lines()
        for key in totals:
            totals[key] += stats.total(key)
        store = open_store(store_path)
        try:
            for source in sources:
                site = SITE_OF[source.id]
                live = [world.ad(i) for i in world.live_ads(site, day)]
                for ad in live:
                    seen_live.add((source.id, ad.site_ad_id))
                    rec = store.get_ad(ad_id_for(source.id, ad.site_ad_id))
                    assert rec is not None, f"day {day}: {site} ad {ad.site_ad_id} not captured"
                    assert rec.removed_at is None, f"day {day}: live ad {ad.site_ad_id} removed"
                    assert rec.last_seen.date() == world.date_of(day)
                    assert len(rec.versions) == world.version_count_until(ad, day), \
                        f"day {day}: ad {ad.site_ad_id} versions"
                    cap = rec.versions[-1].captures[-1]
                    assert read_capture(archive, cap).url == cap.url
                live_ids = {ad.site_ad_id for ad in live}
                for sid, ad_site_id in seen_live:
                    if sid != source.id or ad_site_id in live_ids:
                        continue
                    rec = store.get_ad(ad_id_for(sid, ad_site_id))
                    assert rec is not None and rec.removed_at is not None, \
                        f"day {day}: {site} ad {ad_site_id} gone from the site but not removed"
                    assert rec.removed_at.date() <= world.date_of(day)
            if day == 0:
                assert stats.total("new_ads") == sum(
                    len(world.live_ads(SITE_OF[s.id], 0)) for s in sources)
        finally:
            store.close()
    assert stats.total("unchanged") > 0  # day 3 saw ads whose content had not changed
    # the world changed and removed ads in these days, and the crawl saw both
    assert totals["removed"] > 0 and totals["new_versions"] > 0, totals
    store = open_store(store_path)
    try:
        report = archive_verify(archive, store)
    finally:
        store.close()
    assert report.ok and report.records > 0 and report.images > 0, report.problems
    # three days of versions and revisits, every one where the store and the index say
    assert report.store_captures > 0 and report.store_images > 0 and report.index_entries > 0
