"""The real server over HTTP: listings, ad pages, removal, images, the day switch."""

from __future__ import annotations

import hashlib
import io
import json
import re
import subprocess
import sys
from urllib.parse import urljoin

from parsel import Selector
from PIL import Image

from demosite.server import DemoServer, route
from demosite.truth import ad_path
from demosite.world import World

from .conftest import ROOT, fetch, load_source


def crawl_section(start: str, links: str, nxt: str) -> list[str]:
    """Follow a section's pagination; every ad link in page order."""
    url, out, pages = start, [], 0
    while url:
        status, ctype, body = fetch(url)
        assert status == 200 and ctype.startswith("text/html"), (url, status)
        sel = Selector(text=body.decode("utf-8"))
        out += [urljoin(url, h) for h in sel.css(links).getall()]
        nexts = sel.css(nxt).getall()
        url, pages = (urljoin(url, nexts[0]) if nexts else ""), pages + 1
        assert pages < 500
    return out


def section_urls(server: DemoServer, source: str) -> dict[str, str]:
    src = load_source(source)
    base = server.url + "/" + src["base_url"].split("/", 3)[3]
    return {s["url"]: urljoin(base, s["url"]) for s in src["sections"]}


def test_listings_link_every_live_ad_of_a_section_exactly_once(world, server):
    for day in (0, world.days - 1):
        server.set_day(day)
        for site, source in (("velvet", "demo-velvet"), ("board", "demo-board")):
            sel = load_source(source)["selectors"]
            for town, start in zip(_towns(site), section_urls(server, source).values(),
                                   strict=True):
                got = crawl_section(start, sel["ad_links"], sel["next_page"])
                want = [server.url + ad_path(site, world.ad(i), world.version_on(i, day))
                        for i in world.live_ads(site, day, town)]
                assert got == want, (site, town, day)
    server.set_day(0)


def test_the_boards_json_feed_lists_what_its_html_listing_does(world, server):
    """The feed the custom spider reads (crawler.spiders.board_api): same ads, same order,
    paged by its "next"; clear JSON errors for a bad region or offset."""
    for day in (0, world.days - 1):
        server.set_day(day)
        for town in _towns("board"):
            url, got = f"{server.url}/board/api/list?region={town}", []
            while url:
                status, ctype, body = fetch(url)
                assert (status, ctype) == (200, "application/json"), url
                feed = json.loads(body)
                got += [urljoin(url, ad["href"]) for ad in feed["ads"]]
                url = urljoin(url, feed["next"]) if feed["next"] else ""
            want = [server.url + ad_path("board", world.ad(i), world.version_on(i, day))
                    for i in world.live_ads("board", day, town)]
            assert got == want and feed["total"] == len(want), (town, day)
    server.set_day(0)
    for query, status in (("region=nowhere", 404), ("region=gent&offset=x", 400)):
        got_status, ctype, body = fetch(f"{server.url}/board/api/list?{query}")
        assert (got_status, ctype) == (status, "application/json") and json.loads(body)["error"]


def _towns(site: str) -> tuple[str, ...]:
    from demosite.data import SITE_TOWNS

    return SITE_TOWNS[site]


def test_removed_ads_answer_as_each_site_does(world, server):
    day = world.days - 1
    server.set_day(day)
    removed = [i for i in range(world.n_ads)
               if world.ad(i).first_day <= day and not world.ad(i).live_on(day)]
    sites = {world.ad(i).site for i in removed}
    assert sites == {"velvet", "board"}
    for i in removed:
        ad = world.ad(i)
        status, _, body = fetch(server.url + ad_path(ad.site, ad, world.last_version(ad, day)))
        if ad.site == "velvet":
            assert status == 404
        else:
            assert status == 200
            assert Selector(text=body.decode()).css("div.notice.removed")
    future = [i for i in range(world.n_ads) if world.ad(i).first_day > 0]
    server.set_day(0)
    ad = world.ad(future[0])
    v = world.last_version(ad, world.days - 1)
    assert fetch(server.url + ad_path(ad.site, ad, v))[0] == 404  # not online yet


def test_a_crawl_once_a_day_sees_the_truths_version_counts(world, server):
    """Fetch every ad page every day, as a crawler would; count distinct contents."""
    contents: dict[str, list[str]] = {}
    for day in range(world.days):
        server.set_day(day)
        for i in range(world.n_ads):
            ad = world.ad(i)
            v = world.last_version(ad, world.days - 1)
            status, _, body = fetch(server.url + ad_path(ad.site, ad, v))
            if status == 200 and b"notice removed" not in body:
                main = re.search(rb"<(article|section) class=.*</\1>", body, re.S)
                digest = hashlib.sha256(re.sub(rb"(Geplaatst op|Online sinds) \S+", b"",
                                               main.group(0))).hexdigest()
                seen = contents.setdefault(ad.site_ad_id, [])
                if not seen or seen[-1] != digest:
                    seen.append(digest)
    server.set_day(0)
    for i in range(world.n_ads):
        ad = world.ad(i)
        assert len(contents.get(ad.site_ad_id, [])) == world.version_count_until(
            ad, world.days - 1), i


def test_images_are_valid_png_and_jpeg_and_the_same_photo_is_the_same_bytes(world, server):
    v = next(world.version_on(i, 0) for i in range(world.n_ads) if world.version_on(i, 0))
    photo = v.photos[0]
    png = fetch(f"{server.url}/velvet/img/{photo}.png")
    jpg = fetch(f"{server.url}/board/media/{photo}.jpg")
    assert png[:2] == (200, "image/png") and jpg[:2] == (200, "image/jpeg")
    assert Image.open(io.BytesIO(png[2])).format == "PNG"
    assert Image.open(io.BytesIO(jpg[2])).format == "JPEG"
    assert fetch(f"{server.url}/velvet/img/{photo}.png")[2] == png[2]
    assert fetch(f"{server.url}/velvet/img/p99999-0.png")[0] == 404


def test_set_day_over_http_and_state(world, server):
    status, ctype, body = fetch(server.url + "/__demo__/day/3", data=b"")
    assert status == 200 and json.loads(body)["day"] == 3
    assert json.loads(fetch(server.url + "/__demo__/state")[2])["day"] == 3
    assert server.day == 3
    status, _, body = fetch(server.url + f"/__demo__/day/{world.days}", data=b"")
    assert status == 400 and str(world.days).encode() in body
    assert server.day == 3
    fetch(server.url + "/__demo__/day/0", data=b"")


def test_index_robots_and_unknown_paths(server):
    assert b'href="/velvet/"' in fetch(server.url + "/")[2]
    status, _, robots = fetch(server.url + "/robots.txt")
    assert status == 200 and b"Disallow: /__demo__/" in robots
    assert fetch(server.url + "/velvet/city/nowhere/")[0] == 404
    assert fetch(server.url + "/velvet/city/amsterdam/page/999/")[0] == 404
    assert fetch(server.url + "/board/list?region=gent&offset=x")[0] == 400
    assert fetch(server.url + "/board/view?adid=%3Cscript%3E")[0] == 404
    assert fetch(server.url + "/nope")[0] == 404


def test_hostile_content_is_served_escaped():
    """The payload is text on the page (to be copied), never markup that would run."""
    from demosite.text import HOSTILE_PAYLOADS

    world = World(seed=7, n_ads=80, days=1, hostile_share=1.0)
    with DemoServer(world) as server:
        hostile = [i for i in range(world.n_ads) if world.version_on(i, 0)]
        assert {world.version_on(i, 0).hostile for i in hostile} == set(HOSTILE_PAYLOADS)
        _assert_served_as_text(world, server, hostile, HOSTILE_PAYLOADS)


def _assert_served_as_text(world, server, hostile, payloads):
    for i in hostile:
        ad, v = world.ad(i), world.version_on(i, 0)
        sel = Selector(text=fetch(server.url + ad_path(ad.site, ad, v))[2].decode())
        assert not sel.xpath("//*[@onerror] | //a[starts-with(@href, 'javascript:')]")
        scripts = sel.xpath("//script")
        assert all(s.attrib.get("type") == "application/ld+json" for s in scripts)
        text = "".join(sel.css("div.description ::text, #ad-body ::text").getall())
        assert payloads[v.hostile] in text
        for s in scripts:
            assert json.loads(s.xpath("text()").get())["description"] == v.text


def test_same_seed_same_pages_byte_for_byte():
    a, b = DemoServer(World(seed=9, n_ads=120, days=4)), DemoServer(World(seed=9, n_ads=120, days=4))
    try:
        for srv in (a, b):
            srv.set_day(2)
        paths = ["/", "/velvet/", "/velvet/city/amsterdam/", "/board/list?region=antwerpen"]
        w = a.world
        paths += [ad_path(w.ad(i).site, w.ad(i), w.last_version(i, 3)) for i in range(0, 120, 7)
                  if w.last_version(i, 3)]
        for p in paths:
            assert route(a, p) == route(b, p), p
        code = ("import sys,hashlib; from demosite.world import World; "
                "from demosite.server import DemoServer, route; s=DemoServer(World(seed=9, "
                "n_ads=120, days=4), day=2); [print(hashlib.sha256(route(s, p)[2]).hexdigest()) "
                "for p in sys.argv[1:]]")
        out = subprocess.run([sys.executable, "-c", code, *paths], cwd=ROOT, check=True,
                             capture_output=True, text=True).stdout.split()
        assert out == [hashlib.sha256(route(a, p)[2]).hexdigest() for p in paths]
    finally:
        a.stop()
        b.stop()
