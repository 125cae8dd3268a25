"""The demo source files read the demo pages right: every selector gives the truth."""

from __future__ import annotations

import re

import pytest
from parsel import Selector

from crawler.extract import image_urls
from demosite.data import SITE_TOWNS
from demosite.truth import ad_path, image_path

from .conftest import ROOT, fetch, load_source

SOURCES = {"velvet": "demo-velvet", "board": "demo-board"}


def select(sel: Selector, query: str) -> list[str]:
    if query.startswith("xpath:"):
        return sel.xpath(query[len("xpath:"):]).getall()
    return sel.css(query).getall()


@pytest.mark.parametrize("site", ["velvet", "board"])
def test_source_files_load_with_the_register_loader(site):
    """The crawler's own loader rejects unknown keys, so this catches typos too."""
    from crawler.register import load_source as load_register_file

    src = load_register_file(ROOT / "sources" / f"{SOURCES[site]}.yaml")
    assert src.id == SOURCES[site] and src.theme == "trafficking"
    assert src.reason and src.approved_by and src.approved_on == "2026-11-22"
    assert src.base_url == f"http://127.0.0.1:8700/{site}/"
    assert [s.url.split("=")[-1].strip("/").split("/")[-1] for s in src.sections] == list(
        SITE_TOWNS[site])
    assert src.selectors.ad_id_from_url and src.selectors.images


@pytest.mark.parametrize("site", ["velvet", "board"])
def test_every_field_selector_returns_the_truth(world, server, site):
    raw = load_source(SOURCES[site])
    sel_cfg = raw["selectors"]
    checked = set()
    for day in range(world.days):
        server.set_day(day)
        for i in world.live_ads(site, day):
            ad, v = world.ad(i), world.version_on(i, day)
            url = server.url + ad_path(site, ad, v)
            status, _, body = fetch(url)
            assert status == 200
            page = Selector(text=body.decode("utf-8"))
            truth = v.fields()
            for name, query in sel_cfg["fields"].items():
                got = "".join(select(page, query))
                assert got == truth.get(name, ""), (site, i, day, name)
                checked.add(name) if got else None
            assert re.search(sel_cfg["ad_id"]["from_url"], url).group(1) == ad.site_ad_id
            got_images = image_urls(page, sel_cfg["images"], url)  # as the crawler reads them
            assert got_images == [server.url + image_path(site, p) for p in v.photos]
            marker = sel_cfg["removed_marker"]
            assert not marker or not page.css(marker)
    server.set_day(0)
    assert checked == set(sel_cfg["fields"])  # email and handle occur too


def test_board_removed_marker_finds_removed_ads(world, server):
    marker = load_source("demo-board")["selectors"]["removed_marker"]
    day = world.days - 1
    server.set_day(day)
    gone = [i for i in range(world.n_ads) if world.ad(i).site == "board"
            and world.ad(i).first_day <= day and not world.ad(i).live_on(day)]
    assert gone
    for i in gone:
        ad = world.ad(i)
        body = fetch(server.url + ad_path("board", ad, world.last_version(ad, day)))[2]
        assert Selector(text=body.decode()).css(marker)
    server.set_day(0)
