"""Ads that show the same image share one fetch: while it is under way, and after it is
done while the ad that asked still waits for its other images; every ad that takes it
carries its bytes, and one ad giving up its wait (its parse cancelled) does not cancel
the fetch another ad waits for. The crawl-level case (one request for an image two ads
wait for) runs against a live site in test_spider.py; these need downloads that answer
when the test says, so the engine's download is a stand-in."""

from __future__ import annotations

import asyncio
import concurrent.futures
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import yaml
from fixture_site import SOURCE_YAML
from scrapy.http import Request, Response
from scrapy.settings import Settings
from scrapy.statscollectors import StatsCollector

from crawler.middlewares import IMAGE_PENDING_KEY
from crawler.register import parse_source
from crawler.spiders.generic import GenericSpider, _AdInProgress
from indexer.model import Capture, ImageRef

BASE = "http://x.test/"


class _Site:
    """Downloads that answer when ``answer(url)`` is called; every request is kept."""

    def __init__(self) -> None:
        self.requested: list[str] = []
        self.failing: set[str] = set()  # URLs answered with a 503
        self._answers: dict[str, asyncio.Event] = {}

    def _event(self, url: str) -> asyncio.Event:
        return self._answers.setdefault(url, asyncio.Event())

    def answer(self, url: str) -> None:
        self._event(url).set()

    async def download(self, request: Request) -> Response:
        self.requested.append(request.url)
        await self._event(request.url).wait()
        name = request.url.rsplit("/", 1)[1]
        if request.url in self.failing:
            return Response(request.url, status=503, request=request)
        request.meta[IMAGE_PENDING_KEY] = ImageRef(name * 8, source_url=request.url)
        return Response(request.url, status=200, body=f"bytes of {name}".encode(),
                        request=request)


def _spider(site: _Site) -> GenericSpider:
    source = parse_source(yaml.safe_load(SOURCE_YAML.format(base=BASE)), "f.yaml")
    spider = GenericSpider(source)
    spider.crawler = SimpleNamespace(engine=SimpleNamespace(download_async=site.download),
                                     stats=StatsCollector(SimpleNamespace(settings=Settings())))
    return spider


def _ad(n: int, *images: str) -> _AdInProgress:
    url = f"{BASE}ad/{n}"
    capture = Capture(url, datetime(2026, 11, 1, tzinfo=UTC), 200, "0" * 64, "w.warc.gz", 0)
    return _AdInProgress(str(n), url, capture, f"Ad {n}", "text", {},
                         [f"{BASE}img/{i}" for i in images])


def _run(coro: Any) -> Any:
    """``asyncio.run`` in a thread of its own: a session fixture of the suite (the
    browser's) may keep an event loop running in the test's thread."""
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result(timeout=30)


async def _until(condition: Any) -> None:
    """Let the loop run until ``condition()`` holds (each pass runs every ready task;
    nothing here waits on time, so a few passes do, and many mean it never will)."""
    for _ in range(1000):
        if condition():
            return
        await asyncio.sleep(0)
    raise AssertionError("the crawl never got there")


def test_a_fetch_done_while_its_ad_waits_for_another_image_is_taken_not_repeated() -> None:
    async def scenario() -> tuple[list[str], Any, Any]:
        site = _Site()
        spider = _spider(site)
        first = asyncio.ensure_future(spider._with_images(_ad(1, "x", "y")))
        await _until(lambda: len(site.requested) == 2)
        fetch_x = spider._image_fetches[f"{BASE}img/x"]
        site.answer(f"{BASE}img/x")  # x is done, y is not: ad 1 still waits
        await _until(fetch_x.done)
        for _ in range(3):  # and what runs when a fetch is done has run
            await asyncio.sleep(0)
        assert not first.done()
        second = await spider._with_images(_ad(2, "x"))
        site.answer(f"{BASE}img/y")
        return site.requested, await first, second

    requested, first, second = _run(scenario())
    assert requested == [f"{BASE}img/x", f"{BASE}img/y"]  # x once
    assert [i.sha256 for i in second.fields.images] == ["x" * 8]
    assert second.image_bodies == {"x" * 8: b"bytes of x"}  # ad 2 may reach the store first
    assert first.image_bodies == {"x" * 8: b"bytes of x", "y" * 8: b"bytes of y"}


def test_a_cancelled_waiter_leaves_the_shared_fetch_to_the_other() -> None:
    async def scenario() -> tuple[list[str], Any, bool]:
        site = _Site()
        spider = _spider(site)
        url = f"{BASE}img/x"
        first = spider._shared_fetch(url, f"{BASE}ad/1")
        second = spider._shared_fetch(url, f"{BASE}ad/2")  # the same fetch
        first.cancel()
        site.answer(url)
        ref, body = await second
        return site.requested, (ref, body), first.cancelled()

    requested, (ref, body), cancelled = _run(scenario())
    assert requested == [f"{BASE}img/x"] and cancelled
    assert ref is not None and ref.sha256 == "x" * 8 and body == b"bytes of x"


def test_a_failed_fetch_is_tried_again_by_the_next_ad() -> None:
    async def scenario() -> tuple[list[str], Any, Any, list[str]]:
        site = _Site()
        spider = _spider(site)
        url = f"{BASE}img/x"
        site.failing.add(url)
        site.answer(url)
        first = await spider._with_images(_ad(1, "x"))
        site.failing.clear()
        second = await spider._with_images(_ad(2, "x"))
        return site.requested, first, second, [e.url for e in spider.error_samples]

    requested, first, second, errors = _run(scenario())
    assert requested == [f"{BASE}img/x"] * 2 and errors == [f"{BASE}img/x"]
    assert first.fields.images == () and [i.sha256 for i in second.fields.images] == ["x" * 8]
