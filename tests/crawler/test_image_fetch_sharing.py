"""Ads that show the same image share one fetch, and one ad giving up its wait (its parse
cancelled) does not cancel the fetch another ad waits for. The crawl-level case (one
request for an image two ads wait for) runs against a live site in test_spider.py; this
one needs a download that is still under way when a waiter is cancelled, so the engine's
download is a stand-in that answers when the test says."""

from __future__ import annotations

import asyncio
import concurrent.futures
from types import SimpleNamespace
from typing import Any

import yaml
from fixture_site import SOURCE_YAML
from scrapy.http import Request, Response

from crawler.middlewares import IMAGE_REF_KEY
from crawler.register import parse_source
from crawler.spiders.generic import GenericSpider
from indexer.model import ImageRef


def _spider(download: Any) -> GenericSpider:
    source = parse_source(yaml.safe_load(SOURCE_YAML.format(base="http://x.test/")), "f.yaml")
    spider = GenericSpider(source)
    spider.crawler = SimpleNamespace(engine=SimpleNamespace(download_async=download))
    return spider


def _run(coro: Any) -> Any:
    """``asyncio.run`` in a thread of its own: a session fixture of the suite (the
    browser's) may keep an event loop running in the test's thread."""
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result(timeout=30)


def test_a_cancelled_waiter_leaves_the_shared_fetch_to_the_other() -> None:
    async def scenario() -> tuple[int, Any, bool]:
        answer = asyncio.Event()
        calls = []

        async def download(request: Request) -> Response:
            calls.append(request.url)
            await answer.wait()
            request.meta[IMAGE_REF_KEY] = ImageRef("a" * 64, phash="0" * 16,
                                                   source_url=request.url)
            return Response(request.url, status=200, request=request)

        spider = _spider(download)
        url = "http://x.test/img/1.png"
        first = spider._shared_fetch(url, "http://x.test/ad/1")
        second = spider._shared_fetch(url, "http://x.test/ad/2")  # the same fetch
        first.cancel()
        answer.set()
        ref, _body = await second
        return len(calls), ref, first.cancelled()

    fetches, ref, cancelled = _run(scenario())
    assert fetches == 1 and cancelled
    assert ref is not None and ref.sha256 == "a" * 64
