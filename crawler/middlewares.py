"""Downloader middleware that archives every response before anything else sees it.

It sits next to the downloader (priority 950, above decompression and redirects), so
the WARC holds the bytes exactly as received, redirects and robots.txt included. The
Capture is attached to the request meta for the spider. An image response gets an
ImageRef: when the crawl stores into the index (``ADTRACE_STORE_URL``), a pending one
(hash, URL, content type) that the ingest pipeline completes, storing the image
content-addressed and inspecting it off the reactor (crawler.ingest_core); otherwise it
is stored and inspected here. A failure to archive is not swallowed:
a response that cannot be archived must not be used.
"""

from __future__ import annotations

import logging
from typing import Any, TypeVar
from urllib.parse import urljoin, urlparse

from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest, NotConfigured
from scrapy.http import Request, Response
from w3lib.url import safe_url_string

from crawler.clock import Clock
from crawler.proxy_url import is_socks_url
from crawler.site import on_site, site_of
from crawler.size_cap import TRUNCATED_KEY
from crawler.socks import SOCKS_KEY
from indexer.archive import Fetched, WarcWriter, store_image
from indexer.archive.reader import ArchiveError, read_http_head
from indexer.archive.writer import DEFAULT_MAX_FILE_BYTES
from indexer.model import Capture, ImageRef

log = logging.getLogger(__name__)

MAX_REDIRECT_HOPS = 20  # Scrapy's REDIRECT_MAX_TIMES: a trail longer than that was never followed
CAPTURE_KEY = "adtrace_capture"
IMAGE_KEY = "adtrace_image"
IMAGE_REF_KEY = "adtrace_image_ref"
IMAGE_PENDING_KEY = "adtrace_image_pending"
GONE_STATUSES = (404, 410)  # the site says the page (or photo) is gone
IMAGE_REFUSED_KEY = "adtrace_image_refused"  # the media type of an image URL's answer that
# is a page, not a picture (a block page, an error page sent with 200): archived, not used
_PAGE_TYPES = ("text/", "application/json", "application/xml", "application/xhtml+xml",
               "application/javascript")
# how picture files begin (JPEG, PNG, GIF, WebP/RIFF, BMP, TIFF, ICO); AVIF and HEIC
# carry "ftyp" at byte 4: a picture a server sends as text/plain (nginx's default type
# for a file it does not know) is still a picture
_PICTURE_STARTS = (b"\xff\xd8\xff", b"\x89PNG", b"GIF8", b"RIFF", b"BM", b"II*\x00",
                   b"MM\x00*", b"\x00\x00\x01\x00")


def is_page_not_picture(content_type: str, body: bytes) -> str:
    """The media type of an image URL's answer that is a page (a block page, an error page
    sent with 200), or '' if it may be a picture: sent as one, or beginning as one does
    whatever it was sent as."""
    media = content_type.split(";", 1)[0].strip().lower()
    if not media.startswith(_PAGE_TYPES):
        return ""
    if body.startswith(_PICTURE_STARTS) or body[4:8] == b"ftyp":
        return ""
    return media


__all__ = ["CAPTURE_KEY", "GONE_STATUSES", "IMAGE_KEY", "IMAGE_PENDING_KEY",
           "IMAGE_REFUSED_KEY", "IMAGE_REF_KEY", "TRUNCATED_KEY", "ArchiveMiddleware", "OffsiteRedirectMiddleware",
           "SourceProxyMiddleware", "archive_middleware", "downloader_middleware"]


# request headers not archived: the proxy's credentials (sent to an HTTP proxy, never to
# the site) are no evidence, and a WARC file handed on must not carry them
_NOT_ARCHIVED = frozenset({"proxy-authorization"})


def _headers(headers: Any) -> list[tuple[str, str]]:
    out = []
    for name, vals in headers.items():
        for val in vals:
            out.append((name.decode("latin-1"), val.decode("latin-1")))
    return out


def _request_headers(headers: Any) -> list[tuple[str, str]]:
    return [(k, v) for k, v in _headers(headers) if k.lower() not in _NOT_ARCHIVED]


class ArchiveWriteError(OSError):
    """A response the archive could not write (a full disk, a file gone): it is not used,
    as nothing is that is not in the archive, and the run counts it as ``archive``."""


T = TypeVar("T")
OFFSITE_REDIRECT = "redirected off the approved site"  # how OffsiteRedirectMiddleware refuses


class ArchiveMiddleware:
    def __init__(self, archive_dir: str, clock: Clock, max_file_bytes: int,
                 images_in_pipeline: bool = False) -> None:
        self.archive_dir = archive_dir
        self.clock = clock
        self.images_in_pipeline = images_in_pipeline
        self.writer = WarcWriter(archive_dir, max_file_bytes=max_file_bytes)
        self.crawler: Crawler | None = None
        self._on_archived: Any = None  # the spider's on_archived, found at the first response

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ArchiveMiddleware:
        archive_dir = crawler.settings.get("ADTRACE_ARCHIVE_DIR")
        if not archive_dir:
            raise NotConfigured("ADTRACE_ARCHIVE_DIR is not set")
        mw = cls(archive_dir, Clock.from_setting(crawler.settings.get("ADTRACE_CLOCK_START")),
                 crawler.settings.getint("ADTRACE_WARC_MAX_BYTES", DEFAULT_MAX_FILE_BYTES),
                 images_in_pipeline=bool(crawler.settings.get("ADTRACE_STORE_URL")))
        # closed when the engine stops, after every spider_closed handler: the pipeline's
        # last drain may still wait for its ingest worker, and the archive lock the writer
        # holds must keep a purge out until then (indexer.archive.lock)
        crawler.signals.connect(mw.engine_stopped, signal=signals.engine_stopped)
        mw.crawler = crawler
        return mw

    def process_response(self, request: Request, response: Response,
                         spider: Any = None) -> Response:
        fetched = Fetched(
            url=response.url, status=response.status, headers=_headers(response.headers),
            body=response.body, fetched_at=self.clock.now(), method=request.method,
            request_headers=_request_headers(request.headers),
            truncated="length" if (request.meta.get(TRUNCATED_KEY)
                                   or "download_stopped" in response.flags) else "",
        )
        try:
            capture = self.writer.write(fetched)
        except Exception as exc:
            raise ArchiveWriteError(f"could not be archived: {exc}") from exc
        request.meta[CAPTURE_KEY] = capture
        if fetched.truncated:
            request.meta[TRUNCATED_KEY] = True
        self._tell_spider(request, response, capture)
        if not fetched.truncated and request.meta.get(IMAGE_KEY) and 200 <= response.status < 300:
            refused = is_page_not_picture(fetched.content_type, response.body)
            if refused:
                request.meta[IMAGE_REFUSED_KEY] = refused
                return response
            if self.images_in_pipeline:
                request.meta[IMAGE_PENDING_KEY] = ImageRef(
                    sha256=capture.sha256, source_url=response.url,
                    content_type=fetched.content_type)
                return response
            request.meta[IMAGE_REF_KEY] = store_image(
                self.archive_dir, response.body, response.url, fetched.content_type)
        return response

    def _tell_spider(self, request: Request, response: Response, capture: Capture) -> None:
        """Tell the spider (its ``on_archived``, if it has one) of the capture at once, as
        it is written: the response may then wait a while for the spider's callback
        (crawler.journal)."""
        if self._on_archived is None:
            spider = getattr(self.crawler, "spider", None)
            self._on_archived = getattr(spider, "on_archived", None) or (lambda *_: None)
        self._on_archived(request, response, capture)

    def led_to(self, url: str) -> tuple[str, ...]:
        """The addresses ``url`` led to, hop by hop, the last time each was redirected, as
        the archive has it (the Location bytes of each one's latest capture that Scrapy
        followed as a redirect, resolved as it resolved them: ``redirect_target``); () if
        it never was.

        A photo, or an ad known by its address, is stored under the address it was
        fetched from; when ``url`` fails on a later run (or no longer redirects), this
        finds the stored one. An unreadable record, a Location that is no address, or
        one to a scheme Scrapy does not follow, ends the trail where it is."""
        trail: list[str] = []
        at = url
        while len(trail) < MAX_REDIRECT_HOPS:
            entry = self.writer.index.last_redirect(at)
            if entry is None:
                break
            try:
                head = read_http_head(self.archive_dir, entry.file, entry.offset)
            except ArchiveError as exc:
                log.warning("where %s led is not known: %s", at, exc)
                break
            location = _location(head)
            if not location:
                break
            try:  # the site's Location, archived as sent: maybe no address at all
                at = redirect_target(at, location)
            except ValueError:
                break
            if urlparse(at).scheme not in ("http", "https"):  # Scrapy did not follow it
                break
            if at == url or at in trail:
                break
            trail.append(at)
        return tuple(trail)

    def engine_stopped(self) -> None:
        self.writer.close()


def _location(head: bytes) -> bytes:
    """The Location value of an archived HTTP head, as bytes: the last one, as Scrapy's
    Headers reads it; b"" if none."""
    found = b""
    for line in head.split(b"\r\n")[1:]:
        name, colon, value = line.partition(b":")
        if colon and name.strip(b" \t").lower() == b"location":
            found = value.strip(b" \t")  # the separator's space: the value is as received
    return found


def redirect_target(url: str, location: bytes) -> str:
    """Where a redirect from ``url`` with this Location goes, resolved as Scrapy's
    RedirectMiddleware resolves it: from the header's bytes (a byte that is not UTF-8 is
    %-escaped as it is, UTF-8 as its characters), a ``//`` address takes ``url``'s
    scheme, and ``url``'s fragment carries over to a target that has none. Raises
    ValueError for a Location that is no address (Scrapy's Request refused it)."""
    target = safe_url_string(location)
    if location.startswith(b"//"):
        target = f"{urlparse(url).scheme}://{target.lstrip('/')}"
    target = urljoin(url, target)
    fragment = urlparse(url).fragment
    if fragment and not urlparse(target).fragment:
        target = urljoin(target, f"#{fragment}")
    return Request(target).url


def archive_middleware(crawler: Crawler) -> ArchiveMiddleware | None:
    """The crawl's ArchiveMiddleware (it holds the archive's capture index), if enabled."""
    return downloader_middleware(crawler, ArchiveMiddleware)


def downloader_middleware(crawler: Crawler, cls: type[T]) -> T | None:
    """The crawl's downloader middleware of class ``cls``, if it is enabled."""
    downloader = getattr(crawler.engine, "downloader", None)
    managed = getattr(getattr(downloader, "middleware", None), "middlewares", ())
    return next((mw for mw in managed if isinstance(mw, cls)), None)


class SourceProxyMiddleware:
    """Send every request of the crawl through the source's proxy (``ADTRACE_PROXY``): an
    HTTP proxy through Scrapy's HttpProxyMiddleware, a SOCKS5 proxy through the crawl's
    download handler (crawler.http_handler, crawler.socks).

    Set on all requests here, not per request in the spider, because Scrapy's own
    requests (robots.txt) do not come from the spider: through a proxy meant to hide the
    crawler (Tor), such a request would otherwise leave from the real address.
    """

    def __init__(self, proxy: str) -> None:
        self.proxy = proxy
        self.socks = is_socks_url(proxy)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> SourceProxyMiddleware:
        proxy = crawler.settings.get("ADTRACE_PROXY") or ""
        if not proxy:
            # no message: Scrapy logs a NotConfigured with one as a warning, and a
            # source without a proxy is the usual case, not something to warn about
            raise NotConfigured
        return cls(proxy)

    def process_request(self, request: Request, spider: Any = None) -> None:
        if self.socks:
            # for the download handler (crawler.http_handler); "proxy" None keeps Scrapy's
            # HTTP proxy middleware, and the environment's proxies, off this request (it
            # would send the SOCKS credentials to the site as a Proxy-Authorization header)
            request.meta[SOCKS_KEY] = True
            request.meta["proxy"] = None
        else:
            request.meta["proxy"] = self.proxy


class OffsiteRedirectMiddleware:
    """A listing or ad page of the approved site that redirects to another site is not
    followed there: the source file approves one site (crawler.site), and a redirect to a
    partner site, an aggregator or a tracker is not it. The redirect response itself is in
    the archive (it came from the approved site); the request for its target is refused
    before anything is sent, robots.txt of the other host included (this runs before
    the robots middleware), and the spider records it as an error with both URLs (for a
    listing page, the run's listings are then incomplete: what it listed is unknown).
    Photos may redirect anywhere, as they may come from anywhere (CDNs), and so may
    robots.txt (a site's robots.txt that moved to its other domain still binds us)."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self._site: str | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> OffsiteRedirectMiddleware:
        return cls(crawler)

    def site(self) -> str:
        """The approved site of the crawl's source ("" when the spider names none)."""
        if self._site is None:
            source = getattr(self.crawler.spider, "source", None)
            self._site = site_of(source.base_url) if source is not None else ""
        return self._site

    def process_request(self, request: Request, spider: Any = None) -> None:
        followed = request.meta.get("redirect_urls")
        # robots.txt is asked for where the site sends it (Scrapy's own request, marked
        # dont_obey_robotstxt): refused, it would read as "no robots.txt, all allowed"
        if (not followed or request.meta.get(IMAGE_KEY) or not self.site()
                or request.meta.get("dont_obey_robotstxt")):
            return
        if on_site(request.url, self.site()):
            return
        self.crawler.stats.inc_value("adtrace/offsite")  # type: ignore[union-attr]
        raise IgnoreRequest(f"{OFFSITE_REDIRECT} {self.site()}: {followed[0]} redirected "
                            f"to {request.url}")
