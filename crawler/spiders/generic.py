"""The generic spider: a source file says where the ads are and how to read them.

Start at each section, follow pagination and ad links, read each ad page with the
source's selectors, fetch its images through the archive (never hot-linked), and
report ads the site removed (404/410 or the removed marker). Known live ads that the
listings did not show are revisited when the listings are done, so removals are seen.
Every response the callbacks see has already been archived by ArchiveMiddleware.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin

import scrapy
from scrapy import signals
from scrapy.exceptions import DontCloseSpider, IgnoreRequest
from scrapy.http import Request, Response, TextResponse
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.python.failure import Failure

from crawler.extract import ad_id_of, fields_of, image_urls, is_removed, links, strip_scripts
from crawler.items import AdItem, RemovalItem
from crawler.middlewares import CAPTURE_KEY, IMAGE_KEY, IMAGE_REF_KEY
from crawler.source import Source
from indexer.model import AdFields, Capture, ImageRef

log = logging.getLogger(__name__)
GONE_STATUSES = (404, 410)
MAX_IMAGES_PER_AD = 20


@dataclass
class _AdInProgress:
    """An ad page read, waiting for its images to be archived."""

    site_ad_id: str
    url: str
    capture: Capture
    title: str
    text: str
    attributes: dict[str, str]
    remaining: list[str]
    images: list[ImageRef] = field(default_factory=list)


class GenericSpider(scrapy.Spider):
    name = "generic"

    def __init__(self, source: Source, known_ads: Sequence[tuple[str, str]] = (),
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.source = source
        self.known_ads = [(str(i), str(u)) for i, u in known_ads]
        self._seen_ids: set[str] = set()
        self._requested: set[str] = set()
        self._revisited = False
        self._image_cache: dict[str, ImageRef] = {}

    @classmethod
    def from_crawler(cls, crawler: Any, *args: Any, **kwargs: Any) -> GenericSpider:
        spider = super().from_crawler(crawler, *args, **kwargs)
        crawler.signals.connect(spider.on_idle, signal=signals.spider_idle)
        return spider

    @classmethod
    def for_source(cls, source: Source, settings: dict[str, Any]) -> type[GenericSpider]:
        """A subclass carrying one source's Scrapy settings (politeness, robots, …)."""
        return type(f"GenericSpider_{source.id.replace('-', '_')}", (cls,),
                    {"custom_settings": settings, "name": f"generic-{source.id}"})

    # ------------------------------------------------------------------ requests
    async def start(self) -> Any:
        for section in self.source.sections:
            url = urljoin(self.source.base_url, section.url)
            yield self._request(url, self.parse_listing, section=section.name)

    def _request(self, url: str, callback: Any, **meta: Any) -> Request:
        if self.source.proxy:
            meta["proxy"] = self.source.proxy
        return Request(url, callback=callback, errback=self.on_error, meta=meta)

    def _ad_request(self, url: str, site_ad_id: str = "") -> Request:
        self._requested.add(url)
        return self._request(url, self.parse_ad, site_ad_id=site_ad_id,
                             handle_httpstatus_list=list(GONE_STATUSES))

    # ------------------------------------------------------------------ listings
    def parse_listing(self, response: Response) -> Iterator[Request]:
        self._count("pages")
        if not isinstance(response, TextResponse):
            self._error(response.url, f"listing is not text ({response.headers.get('Content-Type')})")
            return
        sel = response.selector
        for url in links(sel, self.source.selectors.ad_links, response.url):
            yield self._ad_request(url)
        for url in links(sel, self.source.selectors.next_page, response.url):
            yield self._request(url, self.parse_listing, section=response.meta.get("section"))

    # ------------------------------------------------------------------ ad pages
    def parse_ad(self, response: Response) -> Iterator[Any]:
        self._count("pages")
        capture: Capture | None = response.meta.get(CAPTURE_KEY)
        if capture is None:
            self._error(response.url, "response was not archived; not used")
            return
        known_id = response.meta.get("site_ad_id") or ""
        if response.status in GONE_STATUSES:
            site_ad_id = known_id or ad_id_of(self.source, response.url)
            yield self._removal(site_ad_id, response.url, capture, f"http {response.status}")
            return
        if not isinstance(response, TextResponse):
            self._error(response.url, "ad page is not text")
            return
        sel = strip_scripts(response.selector)
        site_ad_id = ad_id_of(self.source, response.url, sel)
        if site_ad_id == response.url and known_id:
            site_ad_id = known_id
        self._seen_ids.add(site_ad_id)
        if is_removed(sel, self.source):
            yield self._removal(site_ad_id, response.url, capture, "removed marker on page")
            return
        title, text, attributes = fields_of(sel, self.source)
        images = image_urls(sel, self.source.selectors.images, response.url)[:MAX_IMAGES_PER_AD]
        if not (title or text or attributes or images):
            self._error(response.url, "no ad fields found (layout changed or not an ad page)")
            return
        ad = _AdInProgress(site_ad_id, response.url, capture, title, text, attributes, images)
        yield from self._next_image(ad)

    def _removal(self, site_ad_id: str, url: str, capture: Capture, reason: str) -> RemovalItem:
        self._seen_ids.add(site_ad_id)
        return RemovalItem(self.source.id, site_ad_id, url, capture.fetched_at, reason)

    # ------------------------------------------------------------------ images
    def _next_image(self, ad: _AdInProgress) -> Iterator[Any]:
        """Fetch the ad's images one after another, then yield the finished ad."""
        while ad.remaining:
            url = ad.remaining.pop(0)
            if url in self._image_cache:
                ad.images.append(self._image_cache[url])
                continue
            yield Request(url, callback=self.parse_image, errback=self.image_failed,
                          meta={IMAGE_KEY: True, "ad": ad, "proxy": self.source.proxy or None},
                          dont_filter=True, priority=10)
            return
        fields = AdFields(title=ad.title, text=ad.text, attributes=ad.attributes,
                          images=tuple(dict.fromkeys(ad.images)))
        yield AdItem(self.source.id, ad.site_ad_id, ad.url, ad.capture, fields)

    def parse_image(self, response: Response) -> Iterator[Any]:
        ad: _AdInProgress = response.meta["ad"]
        ref: ImageRef | None = response.meta.get(IMAGE_REF_KEY)
        if ref is None:
            self._error(response.url, "image was not archived")
        else:
            self._image_cache[response.request.url if response.request else response.url] = ref
            ad.images.append(ref)
        yield from self._next_image(ad)

    def image_failed(self, failure: Failure) -> Iterator[Any]:
        request = failure.request  # type: ignore[attr-defined]
        self._error(request.url, f"image failed: {failure.getErrorMessage()}")
        yield from self._next_image(request.meta["ad"])

    # ------------------------------------------------------------------ revisits, errors
    def on_idle(self, spider: Any = None) -> None:
        """Listings done: revisit known live ads they did not show, once."""
        if self._revisited:
            return
        self._revisited = True
        todo = [(i, u) for i, u in self.known_ads
                if i not in self._seen_ids and u not in self._requested]
        if not todo:
            return
        for site_ad_id, url in todo:
            self.crawler.engine.crawl(self._ad_request(url, site_ad_id))
        raise DontCloseSpider

    def on_error(self, failure: Failure) -> None:
        request = getattr(failure, "request", None)
        if failure.check(IgnoreRequest) and not failure.check(HttpError):
            self._count("skipped")  # robots.txt or another policy said no: not an error
            log.info("%s: skipped %s: %s", self.source.id, request and request.url,
                     failure.getErrorMessage())
            return
        if getattr(failure.value, "response", None) is not None:
            self._count("pages")  # fetched, but an HTTP error (5xx, 403, …)
        self._error(request.url if request else "?", failure.getErrorMessage())

    def _error(self, url: str, message: str) -> None:
        self._count("errors")
        log.warning("%s: %s: %s", self.source.id, url, message)

    def _count(self, key: str) -> None:
        self.crawler.stats.inc_value(f"adtrace/{key}")
