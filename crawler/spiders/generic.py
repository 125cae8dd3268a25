"""The generic spider: a source file says where the ads are and how to read them.

Start at each section, follow pagination and ad links, read each ad page with the
source's selectors, fetch its images through the archive (never hot-linked), and
report ads the site removed (404/410 or the removed marker). Known live ads are
refetched only when their revisit interval has passed (crawler.revisits): those the
listings show are skipped until then, the rest are revisited once the listings are done.
What the listings showed, whether they were complete, and every error (URL and reason,
requests that never got a response included) are kept for the crawl run record.
Every response the callbacks see has already been archived by ArchiveMiddleware.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import logging
import os
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import scrapy
from scrapy import signals
from scrapy.downloadermiddlewares.httpcompression import HttpCompressionMiddleware
from scrapy.downloadermiddlewares.redirect import MetaRefreshMiddleware
from scrapy.exceptions import DontCloseSpider, IgnoreRequest
from scrapy.http import Request, Response, TextResponse
from scrapy.spidermiddlewares.httperror import HttpError
from scrapy.utils.response import get_base_url
from twisted.python.failure import Failure
from w3lib.url import safe_url_string

from crawler.clock import Clock
from crawler.error_kinds import failure_kind
from crawler.extract import (
    ad_id_of,
    canonical_url,
    checked_links,
    fields_of,
    image_urls,
    is_empty_listing,
    is_removed,
    needs_page_for_id,
    strip_scripts,
)
from crawler.items import AdItem, RemovalItem
from crawler.journal import Journal, journal_path
from crawler.journal_replay import Archived, leftovers, removal_item, sent_on
from crawler.middlewares import (
    CAPTURE_KEY,
    GONE_STATUSES,
    IMAGE_KEY,
    IMAGE_PENDING_KEY,
    IMAGE_REF_KEY,
    IMAGE_REFUSED_KEY,
    TRUNCATED_KEY,
    archive_middleware,
    downloader_middleware,
)
from crawler.revisits import (
    is_due,
    listed_outside,
    missing_ads,
    not_crawled,
    section_key,
    section_names,
)
from crawler.settings import without_idle_middlewares
from crawler.site import listing_key, on_site, page_key, site_of, web_host
from crawler.source import Source
from crawler.structured import JSONLD_PREFIX, jsonld_objects
from indexer.crawl_runs import MAX_ERROR_SAMPLES, RunError, count_error
from indexer.model import AdFields, Capture, ImageRef, capture_from_dict, from_iso

log = logging.getLogger(__name__)
EMPTY_LISTING = ("listing shows no ads, and not the source's empty_listing notice (blocked, or "
                 "the layout changed?): no removals by absence this run")
UNIDENTIFIED = ("a listed link whose ad only its page names was not identified (no removals "
                "by absence this run)")
MAX_IMAGES_PER_AD = 20
REPLAYED_AT_ONCE = 16  # journaled ads whose photos are sought (and fetched) together
PAGE_LINES_KEY = "adtrace_page_lines"  # meta: capture ids of the request's ``page`` lines
ROBOTS_FORBIDDEN = "Forbidden by robots.txt"  # scrapy.downloadermiddlewares.robotstxt


@dataclass(frozen=True)
class Listing:
    """What one listing page shows: ad links and next pages (absolute URLs), and whether
    the page says it has no ads (so an empty ``ads`` is not a block page or new layout)."""

    ads: Sequence[str]
    next_pages: Sequence[str]
    says_empty: bool = False
    malformed: Sequence[str] = ()  # links no URL can be made of (extract.MalformedLink), why


@dataclass
class _AdInProgress:
    """An ad page read, waiting for its images to be archived."""

    site_ad_id: str
    url: str
    capture: Capture
    title: str
    text: str
    attributes: dict[str, str]
    image_urls: list[str]  # in page order


class GenericSpider(scrapy.Spider):
    name = "generic"

    def __init__(self, source: Source, known_ads: Sequence[Sequence[Any]] = (),
                 run_clock: Clock | None = None, known_ads_unread: str = "",
                 **kwargs: Any) -> None:
        """``known_ads``: (site_ad_id, url[, last_seen ISO[, sections]]) of the source's
        live ads; without a last seen time an ad is always due; ``sections``: the
        sections whose listings ever showed it (LiveAd.listed_in, as
        crawler.revisits.section_key keeps them). ``run_clock``: the crawl's clock,
        whose first reading the crawl process put on record as the run's start (its
        elapsed time is then the run's duration, on the same time line); else one read
        from the settings. ``known_ads_unread``: why the store could not tell the
        known ads (crawler.process.begin_run): the run then revisits none, and says so
        as an error, with its listings incomplete (it could not tell which ads they
        lacked)."""
        super().__init__(**kwargs)
        self.source = source
        self.known: dict[str, tuple[str, datetime | None]] = {
            str(k[0]): (str(k[1]), from_iso(k[2]) if len(k) > 2 and k[2] else None)
            for k in known_ads}
        self._known_by_url = {url: i for i, (url, _) in self.known.items()}
        self._known_sections: dict[str, frozenset[str]] = {
            str(k[0]): frozenset(map(str, k[3])) for k in known_ads if len(k) > 3 and k[3]}
        # the sections each ad link was listed in, each known ad, and the ad each listed
        # link's page turned out to be: which sections listed which ads (sections_to_note)
        self._section_keys = {s.name: section_key(s.name, s.url) for s in source.sections}
        self._sections_of_link: dict[str, set[str]] = {}
        self._sections_of_known: dict[str, set[str]] = {}
        self._ad_of_link: dict[str, str] = {}
        self._seen_ids: set[str] = set()
        self._requested: set[str] = set()
        # listing pages asked for this run (canonical) → the listing page that linked it
        self._listings: dict[str, str] = {}
        self._revisited = False
        self._image_cache: dict[str, ImageRef] = {}
        # image fetches not yet in the cache (under way, or done while the ad that asked
        # waits for its other images): an ad that shows the same image takes that fetch
        # instead of fetching (and archiving) the same URL a second time
        self._image_fetches: dict[str, asyncio.Future[tuple[ImageRef | None, bytes | None]]] = {}
        self._images_pending = False  # the archive leaves images to the ingest pipeline
        self._images_gone: set[str] = set()  # image URLs that answered 404/410 this run
        self._wants_jsonld = any(e.strip().startswith(JSONLD_PREFIX)
                                 for e in source.selectors.fields.values())
        self._known_ads_unread = known_ads_unread
        self._run_clock_given = run_clock
        self.run_clock = run_clock or Clock()
        self.listed: set[str] = set()  # known ads the listings showed
        self.listings_complete = True
        self.error_samples: list[RunError] = []
        self.revisit_all = False  # every known live ad is due (adtrace crawl --revisit-all)
        self._site = site_of(source.base_url)
        self._offsite_hosts: set[str] = set()
        self._said_outside = False
        # what this run read from pages, until the store has it (crawler.journal): only
        # where a store is written (an archive-only crawl has nothing to lose)
        self.journal: Journal | None = None
        # ad pages journaled but not read yet (on_archived), and ads read whose item is not
        # made yet (their photos come): a run that ends with any keeps its journal
        self.unhanded = 0
        self.replayed_journals: list[Path] = []  # earlier runs' journals handed over again
        self.hand_over: Any = None  # the ingest pipeline's process_item, set as it opens
        self._replay_begun = False
        self._archive_dir = ""

    @classmethod
    def from_crawler(cls, crawler: Any, *args: Any, **kwargs: Any) -> GenericSpider:
        spider = super().from_crawler(crawler, *args, **kwargs)
        crawler.signals.connect(spider.on_idle, signal=signals.spider_idle)
        crawler.signals.connect(spider.on_opened, signal=signals.spider_opened)
        if spider._run_clock_given is None:
            spider.run_clock = Clock.from_setting(crawler.settings.get("ADTRACE_CLOCK_START"))
        spider.revisit_all = crawler.settings.getbool("ADTRACE_REVISIT_ALL", False)
        spider._archive_dir = archive_dir = crawler.settings.get("ADTRACE_ARCHIVE_DIR") or ""
        if crawler.settings.get("ADTRACE_STORE_URL") and archive_dir:  # the pipeline names
            spider.journal = Journal(  # it to the ingest side as it opens, before the spider
                journal_path(archive_dir, spider.source.id, spider.run_start, os.getpid()),
                spider.source.id, spider.run_start)
        return spider

    @property
    def run_start(self) -> datetime:
        """The run's start: the first reading of its clock (on record as begun)."""
        return self.run_clock.first_reading

    def on_opened(self, spider: Any = None) -> None:
        """Say at once that the known ads could not be read, if so (a run that revisits
        none must not look like a clean one)."""
        if self._known_ads_unread:
            self.listings_complete = False
            self.record_error(self.source.base_url, f"{self._known_ads_unread}: known ads "
                              "not revisited this run; listings incomplete", "other")

    def missing_from_listings(self) -> list[str]:
        """Known live ads absent from this run's listings (meaningful if they were
        complete), but those a section no longer in the register has listed: they may
        still be listed there (a warning says how many, once; they are still revisited
        when due, and a page that answers 404 still removes them)."""
        missing = missing_ads(self.known, self.listed)
        outside = listed_outside(missing, self._known_sections, self.source.sections)
        if outside and not self._said_outside:
            self._said_outside = True
            gone = section_names(not_crawled(
                {k for i in outside for k in self._known_sections[i]}, self.source.sections))
            log.warning("%s: %d ad(s) not in this run's listings were listed in sections no "
                        "longer in the register (%s): not counted as missing, so not removed "
                        "by absence", self.source.id, len(outside), ", ".join(gone))
        return [i for i in missing if i not in outside]

    def sections_to_note(self) -> dict[str, set[str]]:
        """The ads this run's listings showed in a section the store does not yet have
        for them (new ads: every section that listed them), by site ad id."""
        listed = {i: set(s) for i, s in self._sections_of_known.items()}
        for link, sections in self._sections_of_link.items():
            site_ad_id = self._ad_of_link.get(link)
            if site_ad_id:
                listed.setdefault(site_ad_id, set()).update(sections)
        return {i: s for i, s in listed.items()
                if not s <= self._known_sections.get(i, frozenset())}

    def _due(self, site_ad_id: str) -> bool:
        return self.revisit_all or is_due(self.known[site_ad_id][1], self.run_start,
                                          self.source.revisit_hours)

    @classmethod
    def for_source(cls, source: Source, settings: dict[str, Any]) -> type[GenericSpider]:
        """A subclass carrying one source's Scrapy settings (politeness, robots, …),
        without the middlewares that neither this class nor the settings give anything to
        do (crawler.settings.without_idle_middlewares)."""
        return type(f"GenericSpider_{source.id.replace('-', '_')}", (cls,),
                    {"custom_settings": without_idle_middlewares(settings, cls),
                     "name": f"generic-{source.id}"})

    # ------------------------------------------------------------------ requests
    def __init_subclass__(cls, **kwargs: Any) -> None:
        """A custom spider that replaces ``start()`` still hands over first what killed
        runs left (``replay``): its own ``start()`` runs after it. Without this, one that
        forgot to call ``replay`` would never replay, and its journals would pile up."""
        super().__init_subclass__(**kwargs)
        own = cls.__dict__.get("start")
        if own is not None and inspect.isasyncgenfunction(own):
            cls.start = _after_replay(own)  # type: ignore[method-assign]

    async def start(self) -> Any:
        await self.replay()
        for section in self.source.sections:
            url = urljoin(self.source.base_url, section.url)
            yield self._listing_request(url, section.name)

    async def replay(self) -> None:
        """Hand over what killed runs of the source read from pages and may not have
        stored, in their order, before this run's first request (crawler.journal_replay):
        a newer version this run reads must reach the store after it. Once a run: a
        custom ``start()`` that calls it too (as the README once asked) does not replay
        twice.

        Straight to the ingest pipeline (``hand_over``, which it sets as it opens), not
        yielded from ``start()``: Scrapy's scraper, closing while an item from ``start()``
        is in its pipelines, waits for good (a Ctrl-C at the replay hung the crawl)."""
        if self.journal is None or self.hand_over is None or self._replay_begun:
            return
        self._replay_begun = True
        journals = leftovers(self._archive_dir, self.source.id, self.journal.path)
        for n, left in enumerate(journals):
            if left.items:
                pages = sum("page" in r for r in left.items)
                log.warning("%s: journal of a killed run (%s): %d ad(s) and removal(s) it read, "
                            "and %d ad page(s) it archived but had not read yet, are handed "
                            "over first (%d already stored)", self.source.id, left.path.name,
                            len(left.items) - pages, pages, left.done)
            # the photos of this run, not of a later one that was killed too
            until = journals[n + 1].started if n + 1 < len(journals) else ""
            archived = (Archived(self._archive_dir, left.started, until) if left.started
                        else None)
            for at in range(0, len(left.items), REPLAYED_AT_ONCE):
                chunk = left.items[at:at + REPLAYED_AT_ONCE]
                made = await asyncio.gather(*(self._replay(r, archived, left.path)
                                              for r in chunk))
                for items in made:
                    if self._closing():  # the rest is handed over by the next crawl
                        return
                    for item in items:
                        self.hand_over(item)
            self.replayed_journals.append(left.path)  # handed over whole: deleted at close

    def _closing(self) -> bool:
        """Whether the crawl stops or its spider closes (Ctrl-C, a close-spider limit):
        a replay stops there (what it did not hand over stays in its journal)."""
        engine = getattr(self.crawler, "engine", None)
        slot = getattr(engine, "_slot", None)  # Scrapy's: closing is set as a close begins
        return (engine is None or not engine.running or slot is None
                or getattr(slot, "closing", None) is not None)

    async def _replay(self, record: dict[str, Any], archived: Archived | None, path: Path
                      ) -> list[AdItem | RemovalItem]:
        """One journal line made again into its items (a page line: read now from the
        archive, as ``parse_ad`` reads a page); a line that does not make them is counted
        as an error, naming the journal; one whose page the archive no longer holds (purged
        since) is passed over."""
        try:
            if "removal" in record:
                return [removal_item(self.source.id, record["removal"])]
            if archived is None:
                raise ValueError("the journal names no run start")
            line = record["ad"] if "ad" in record else record["page"]
            capture = archived.page(capture_from_dict(line["capture"]))
            if capture is None:
                log.warning("%s: journal %s: %s is no longer in the archive (purged?); not "
                            "replayed", self.source.id, path.name, line["url"])
                return []
            if "page" in record:
                # the steps a page took live after the archive wrote it: the crawl's own
                page = archived.response(
                    capture, line, self.source.country,
                    downloader_middleware(self.crawler, HttpCompressionMiddleware))
                if sent_on(downloader_middleware(self.crawler, MetaRefreshMiddleware), page):
                    log.info("%s: journal %s: %s refreshes to another page, which this crawl "
                             "follows itself; not read", self.source.id, path.name, line["url"])
                    return []
                read = self.read_ad_page(page, live=False)
            else:
                read = [_AdInProgress(str(line["site_ad_id"]), str(line["url"]), capture,
                                      str(line.get("title", "")), str(line.get("text", "")),
                                      dict(line.get("attributes") or {}),
                                      [str(u) for u in line.get("images") or ()])]
        except Exception as exc:  # noqa: BLE001 - a line, even a page that fails to parse
            self.record_error(str(path), f"a journal line not replayed: {exc!r}", "other")
            return []  # …never stops the replay of the others
        made: list[AdItem | RemovalItem] = []
        for got in read:
            if isinstance(got, RemovalItem):
                made.append(got)
                continue
            self.unhanded += 1
            made.append(await self._with_images(got, archived.found(got.image_urls)))
            self.unhanded -= 1
        return made

    def _request(self, url: str, callback: Any, dont_filter: bool = False,
                 **meta: Any) -> Request:
        return Request(url, callback=callback, errback=self.on_error, meta=meta,
                       dont_filter=dont_filter)

    def _listing_request(self, url: str, section: str | None, linked_from: str = "") -> Request:
        """Listing pages are de-duplicated here too (``_listings``, with the page that
        linked each), not by Scrapy's filter: a listing page that redirects to one
        already asked for (a loop, page 3 sent to page 1) would vanish in the filter
        without a trace, and the ads of the pages it stood for would count as no longer
        listed. Here a loop runs into the
        redirect limit (an error that leaves the listings incomplete), and ``parse_listing``
        sees any other redirect."""
        self._listings[listing_key(url)] = linked_from
        return self._request(url, self.parse_listing, dont_filter=True, section=section,
                             linked_from=linked_from)

    def _ad_request(self, url: str, site_ad_id: str = "", from_listing: bool = False) -> Request:
        """Ad pages are de-duplicated here (``_requested``), not by Scrapy's filter, so a
        redirect loop runs into the redirect limit and is counted instead of vanishing
        silently in the duplicate filter (redirects inherit ``dont_filter``).
        ``from_listing``: a listing showed the link (its page may name a known ad)."""
        self._requested.add(url)
        return self._request(url, self.parse_ad, dont_filter=True, site_ad_id=site_ad_id,
                             handle_httpstatus_list=list(GONE_STATUSES), from_listing=from_listing)

    # ------------------------------------------------------------------ listings
    def parse_listing(self, response: Response) -> Iterator[Request]:
        """The ad links and next pages of one listing page. Anything that keeps the page
        from being read whole (too large, not text, a parse that fails, no ads and no
        "no ads here" notice) makes this run's listings incomplete: an ad they did not
        show is then not taken for one the site no longer lists."""
        self._count("pages")
        if response.meta.get(TRUNCATED_KEY) or not isinstance(response, TextResponse):
            self.listings_complete = False
            truncated = bool(response.meta.get(TRUNCATED_KEY))
            why = ("listing larger than the page size cap (archived truncated)" if truncated
                   else f"listing {_not_a_page(response)}")
            self.record_error(response.url, why, "too_large" if truncated else "page")
            return
        away = self._listing_redirected_away(response)
        if away:
            self.listings_complete = False
            first = response.meta["redirect_urls"][0]
            self.record_error(response.url, f"listing {first} {away}; not read", "redirect")
            return
        try:
            listing = self.read_listing(response)
        except NotAPage as exc:
            self.listings_complete = False
            self.record_error(response.url, f"listing {exc}", "page")
            return
        except Exception as exc:  # noqa: BLE001 - a page the spider cannot read is counted
            self.listings_complete = False
            self.record_error(response.url, f"listing could not be read: {exc!r}"[:500], "page")
            return
        if not listing.ads and not listing.says_empty:
            self.listings_complete = False
            self.record_error(response.url, EMPTY_LISTING, "page")
        if listing.malformed:
            self.listings_complete = False  # a link the site shows, to an ad we cannot tell
            self.record_error(response.url, f"{len(listing.malformed)} link(s) no URL can be "
                              f"made of, not followed: {listing.malformed[0]}", "page")
        try:
            yield from self._follow(response, listing)
        except Exception as exc:  # noqa: BLE001 - the links after it are not followed: said
            self.listings_complete = False
            self.record_error(response.url, f"listing could not be followed: {exc!r}"[:500],
                              "page")

    def _follow(self, response: Response, listing: Listing) -> Iterator[Request]:
        """The requests one listing page leads to: its ads (known ones only when due) and
        its next pages on the site (one off it leaves the listings incomplete)."""
        section = response.meta.get("section")
        key = self._section_keys.get(section or "")  # none: a custom spider's own listing
        for url in self._on_site(listing.ads):
            known_id = self._known_id(url)
            listed_as = known_id or self._known_through_redirects(url)
            if key:
                self._sections_of_link.setdefault(url, set()).add(key)
            if listed_as:
                self.listed.add(listed_as)
                if key:
                    self._sections_of_known.setdefault(listed_as, set()).add(key)
                if not self._due(listed_as):
                    self._count("not_due")
                    continue
            if url not in self._requested:
                yield self._ad_request(url, known_id, from_listing=True)
        following = self._on_site(listing.next_pages)
        for url in listing.next_pages:
            if url not in following:  # its ads go unread: none may count as no longer listed
                self.listings_complete = False
                self.record_error(url, f"next listing page of {response.url} is on another "
                                  "site; not followed", "policy")
        for url in following:
            if listing_key(url) not in self._listings:
                yield self._listing_request(url, section, listing_key(response.url))

    def _listing_redirected_away(self, response: Response) -> str:
        """Why a listing page that redirected is not that listing ('' if it still is: a
        new address, https, a trailing slash): it landed on a listing page this run
        already asked for (page 3 sent to page 1), or on the site's home or another
        section. Read as the listing, such a page would leave the ads of the pages it
        stands for unread, and they would count as no longer listed. Landing back on the
        page that linked it, or on another page that one links, is no loss: a page past
        the end sent back (where the pagination ends), or one page under two addresses."""
        redirects = response.meta.get("redirect_urls")
        if not redirects:
            return ""
        landed = listing_key(response.url)
        if landed in self._listings and landed != listing_key(redirects[0]):
            linked_from = response.meta.get("linked_from", "")
            if linked_from and linked_from in (landed, self._listings[landed]):
                return ""
            return f"redirected to {response.url}, a listing page this run already asked for"
        key = page_key(response.url)
        if key in self._home_and_sections and key != page_key(redirects[0]):
            return f"redirected to {response.url}, the site's home or another section"
        return ""

    def _on_site(self, urls: Sequence[str]) -> list[str]:
        """The links on the approved site (crawler.site); one to another site is not
        followed (an aggregator's link is not what was approved), counted, and said once
        per host."""
        kept = []
        for url in urls:
            if on_site(url, self._site):
                kept.append(url)
                continue
            self._count("offsite")
            host = web_host(url)
            if host not in self._offsite_hosts:
                self._offsite_hosts.add(host)
                log.warning("%s: not following links to %s, another site than %s (%s)",
                            self.source.id, host or "?", self._site, url[:200])
        return kept

    def read_listing(self, response: TextResponse) -> Listing:
        """The source's selectors over one listing page. A custom spider (a site whose
        listings are not HTML, crawler.spiders.board_api) overrides this one step and
        keeps the rest: de-duplication, revisits, completeness, the ad pages, the
        pipeline. Raising marks the run's listings incomplete, with the reason."""
        unreadable = _not_a_page(response)
        if unreadable:  # JSON: the selectors cannot read it (a custom spider can)
            raise NotAPage(unreadable)
        sel = response.selector
        base = get_base_url(response)  # the page's <base href>, as a browser reads links
        ads, bad_ads = checked_links(sel, self.source.selectors.ad_links, base)
        following, bad_pages = checked_links(sel, self.source.selectors.next_page, base)
        return Listing(ads, following, says_empty=not ads and is_empty_listing(sel, self.source),
                       malformed=[*bad_ads, *bad_pages])

    # ------------------------------------------------------------------ ad pages
    def on_archived(self, request: Request, response: Response, capture: Capture) -> None:
        """Journal an ad page as the archive writes it (crawler.journal; the archive
        middleware calls this): it may then wait a while for ``parse_ad``, and a kill
        meanwhile must not leave it in the WARC only. Only the pages ``parse_ad`` may get
        (2xx, and the statuses its request takes: 404 and 410; a redirect's own page is
        not one). The request keeps the capture ids: ``parse_ad``, or ``on_error`` if its
        chain fails (a meta refresh that leads off the site), tells them read."""
        if self.journal is None or request.callback != self.parse_ad:
            return
        status, meta = response.status, request.meta
        if not (200 <= status < 300 or meta.get("handle_httpstatus_all")  # as HttpError lets
                or status in meta.get("handle_httpstatus_list", ())):   # pages through
            return
        self.journal.page(response.url, capture, str(meta.get("site_ad_id") or ""),
                          bool(meta.get("from_listing")),
                          [str(u) for u in meta.get("redirect_urls") or ()],
                          bool(meta.get(TRUNCATED_KEY)))
        meta[PAGE_LINES_KEY] = (*meta.get(PAGE_LINES_KEY, ()), capture.id)
        self.unhanded += 1

    def _pages_read(self, meta: dict[str, Any], but: str = "") -> None:
        """The pages journaled on the way to this response (on_archived) are read: noted
        ``done`` in the journal, but ``but`` (the page whose ad or removal line stands for
        it)."""
        pages = meta.pop(PAGE_LINES_KEY, ())
        self.unhanded -= len(pages)
        if self.journal is not None:
            self.journal.done([c for c in pages if c != but])

    async def parse_ad(self, response: Response) -> AsyncIterator[Any]:
        self._count("pages")
        read = self.read_ad_page(response)  # what it gives is journaled before any wait
        capture = response.meta.get(CAPTURE_KEY)
        self._pages_read(response.meta, capture.id if read and capture is not None else "")
        for got in read:
            if isinstance(got, RemovalItem):
                yield got  # journaled as it was read (_removal)
                continue
            if self.journal is not None:  # before the photos: a kill while they come loses nothing
                self.journal.ad(got.site_ad_id, got.url, got.capture, got.title, got.text,
                                got.attributes, got.image_urls)
            self.unhanded += 1
            item = await self._with_images(got)
            self.unhanded -= 1
            yield item

    def read_ad_page(self, response: Response, live: bool = True
                     ) -> list[RemovalItem | _AdInProgress]:
        """What an ad page says: a removal, an ad (its photos still to fetch), both (a known
        ad's link led to another ad's page), or nothing (why is recorded as an error).

        ``live``: a page of this run, whose reading tells the run which ads it saw and
        which ads its listings showed, and is journaled. A killed run's page read back from
        the archive (``replay``, False) tells this run nothing of the kind: its listings
        and revisits are its own."""
        out: list[RemovalItem | _AdInProgress] = []
        capture: Capture | None = response.meta.get(CAPTURE_KEY)
        if capture is None:
            self._page_error(live, response.url, self._also_unidentified(
                "response was not archived; not used", response.meta, response.url, live),
                "archive")
            return out
        known_id = response.meta.get("site_ad_id") or ""
        led_to = bool(response.meta.get("redirect_urls"))
        if response.status in GONE_STATUSES:
            site_ad_id = known_id or ad_id_of(self.source, response.url, led_to=led_to)
            out.append(self._removal(site_ad_id, response.url, capture,
                                     f"http {response.status}", live))
            return out
        truncated, unreadable = response.meta.get(TRUNCATED_KEY), _not_a_page(response)
        if truncated or unreadable:
            why = ("ad page larger than the page size cap (archived truncated, not read)"
                   if truncated else f"ad page {unreadable}")
            self._page_error(live, response.url,
                             self._also_unidentified(why, response.meta, response.url, live),
                             "too_large" if truncated else "page")
            return out
        jsonld = jsonld_objects(response.selector) if self._wants_jsonld else None
        sel = strip_scripts(response.selector)
        own_id = ad_id_of(self.source, response.url, sel, led_to=led_to)
        site_ad_id = known_id if own_id == response.url and known_id else own_id
        named_by_page = self._named_by_page(response.meta, response.url)
        if live:
            self._seen_ids.add(site_ad_id)
            if named_by_page and site_ad_id in self.known:
                self.listed.add(site_ad_id)  # listed under a link its id could not be read from
        if is_removed(sel, self.source):
            out.append(self._removal(site_ad_id, response.url, capture,
                                     "removed marker on page", live))
            return out
        away, gone = self._redirected_away(response, known_id, own_id)
        if away:
            if known_id and gone:
                out.append(self._removal(known_id, response.url, capture, away, live))
            if not self._reads_ids() or own_id == canonical_url(response.url):
                if not (known_id and gone):  # a new link's, or a page that says nothing
                    first = response.meta["redirect_urls"][0]
                    self._page_error(live, response.url, f"ad link {first} {away}; not read",
                                     "redirect")
                return out
            site_ad_id = own_id  # the page of another ad: read as that ad
            if live:
                self._seen_ids.add(own_id)
        if named_by_page and site_ad_id == canonical_url(response.url):
            self._page_error(live, response.url, self._also_unidentified(
                "the page names no id (ad_id.css found nothing); not stored", response.meta,
                response.url, live), "page")
            return out
        title, text, attributes = fields_of(sel, self.source, jsonld)
        images = image_urls(sel, self.source.selectors.images,
                            get_base_url(response))[:MAX_IMAGES_PER_AD]
        if not (title or text or attributes or images):
            self._page_error(live, response.url,
                             "no ad fields found (layout changed or not an ad page)", "page")
            return out
        if live and response.meta.get("from_listing") and not away:
            # its link's sections are its own
            self._ad_of_link[(response.meta.get("redirect_urls") or [response.url])[0]] = site_ad_id
        out.append(_AdInProgress(site_ad_id, response.url, capture, title, text, attributes,
                                 images))
        return out

    def _page_error(self, live: bool, url: str, message: str, kind: str) -> None:
        """Why an ad page gives nothing to store: an error of this run (``live``), or said
        of a killed run's page read back (not this run's fetch: not in its counts)."""
        if live:
            self.record_error(url, message, kind)
        else:
            log.warning("%s: a killed run's page %s: %s (not counted in this run)",
                        self.source.id, url, message)

    def _redirected_away(self, response: Response, known_id: str, own_id: str
                         ) -> tuple[str, bool]:
        """Why an ad page that redirected elsewhere is not the ad its link named ('' if
        the page it led to is still that ad: a new address, another slug, https), and
        whether that says the ad is gone.

        Sites often send a removed ad's address to their home page or a listing; read as
        the ad, that page would become a false version of it (and its address the ad's),
        or, for a link not yet known, an ad of its own. The site's home and the
        source's sections say the ad is gone, and so does another ad's page where the
        source reads ids (that page is read as that ad). Any other page that gives no
        id (a captcha, a consent or login page, an address the id pattern misses) is
        not the ad, but says nothing of it: not read, counted, and the ad stays as it
        was (a block that sends every ad to a captcha must not remove them all); an id
        such a page's address only quotes (``?return=/ad/4``) is not its own (``ad_id_of``
        with ``led_to``). A link that names no id is left to its page (it says which ad
        it is). Where an ad's identity is its URL, the home, the sections and the address
        of another known ad are known not to be it: a known ad sent to another's address
        is gone (that ad is read at its own address), any other address may be its new
        one."""
        redirects = response.meta.get("redirect_urls")
        if not redirects:
            return "", False
        url = response.url
        if page_key(url) in self._home_and_sections:
            return f"redirected to {url}, the site's home or a listing", True
        if not self._reads_ids():
            other = self._known_id(url) if known_id else ""
            if other and other != known_id:
                return f"redirected to the page of another ad ({other}: {url})", True
            return "", False
        was = known_id or ad_id_of(self.source, redirects[0])
        if own_id == was or was == canonical_url(redirects[0]):
            return "", False
        if own_id == canonical_url(url):
            return f"redirected to {url}, which names no ad id", False
        return f"redirected to the page of another ad ({own_id}: {url})", True

    def _reads_ids(self) -> bool:
        return bool(self.source.selectors.ad_id_from_url or self.source.selectors.ad_id_css)

    @functools.cached_property
    def _home_and_sections(self) -> set[tuple[str, str, str]]:
        """The site's home and the source's section pages (``page_key``: at http or
        https, with or without www. and a trailing slash): not ad pages."""
        base = self.source.base_url
        urls = [base, urljoin(base, "/")] + [urljoin(base, s.url) for s in self.source.sections]
        return {page_key(u) for u in urls}

    def _named_by_page(self, meta: dict[str, Any], url: str) -> bool:
        """A listing showed the link (the first URL, before any redirect) and only the
        page it leads to can say which ad it is: the source reads ids from pages and the
        link names no id, known or new."""
        listed_url = (meta.get("redirect_urls") or [url])[0]
        return (bool(meta.get("from_listing")) and not meta.get("site_ad_id")
                and needs_page_for_id(self.source, listed_url))

    def _unidentified(self, meta: dict[str, Any], url: str) -> bool:
        """Whether ``url`` was such a listed link, and its page was not read: it may have
        been a known ad, so ads this run's listings did not show are not taken for
        removed (the caller records why, with the URL)."""
        if not self._named_by_page(meta, url):
            return False
        self.listings_complete = False
        return True

    def _also_unidentified(self, why: str, meta: dict[str, Any], url: str,
                           live: bool = True) -> str:
        """``why``, and that the run's listings are incomplete for it, if they are (a
        page of a killed run, not ``live``, says nothing of this run's listings)."""
        return f"{why}; {UNIDENTIFIED}" if live and self._unidentified(meta, url) else why

    def _known_id(self, url: str) -> str:
        """The known ad a link names, by its id or its address (links are escaped as
        fetched: ``extract.http_url``)."""
        site_ad_id = ad_id_of(self.source, url)
        return site_ad_id if site_ad_id in self.known else self._known_by_url.get(url, "")

    def _known_through_redirects(self, url: str) -> str:
        """The known ad whose address ``url`` last redirected to (hop by hop, as the
        archive has it), if any: a known ad's address is where its page was fetched from,
        and without this a source whose ads are known by address would not see an ad
        whose link redirects (``/ad/1`` → ``/ad/1/``) as listed, and remove it. Only said
        of as listed (and not refetched before it is due): where a link leads now is for
        its page to say, not for an old redirect."""
        archive = self._archive
        for address in archive.led_to(url) if archive is not None else ():
            known = self._known_id(address)
            if known:
                return known
        return ""

    @functools.cached_property
    def _archive(self) -> Any:
        """The crawl's ArchiveMiddleware (its capture index knows where addresses led)."""
        return archive_middleware(self.crawler)

    def _removal(self, site_ad_id: str, url: str, capture: Capture, reason: str,
                 live: bool = True) -> RemovalItem:
        """The removal a page told; one of this run's pages (``live``) is journaled, and
        its ad seen."""
        if live:
            self._seen_ids.add(site_ad_id)
            if self.journal is not None:
                self.journal.removal(site_ad_id, url, capture.fetched_at, reason, capture.id)
        return RemovalItem(self.source.id, site_ad_id, url, capture.fetched_at, reason)

    # ------------------------------------------------------------------ images
    async def _with_images(self, ad: _AdInProgress,
                           archived: dict[str, tuple[ImageRef, bytes] | None] | None = None
                           ) -> AdItem:
        """Fetch the ad's images (at once, straight through the downloader and so through
        the archive), then make the finished ad.

        ``engine.download_async`` skips the scheduler, the spider middlewares and a
        callback per image, which cost more CPU than archiving the image; downloader
        middlewares (robots, retries, redirects, the archive) still see every request.
        Images left pending by the archive (stored by the ingest pipeline) travel with
        the ad as bytes, those fetched for this ad only: an image an earlier ad of the
        run showed is known to the pipeline by then. That holds because an image joins
        the run's cache only here, as its ad is made (the ad goes to the pipeline first):
        cached as soon as it arrived, a later ad could reach the pipeline without its
        bytes before the ad that carries them, and be stored without its size and hash.
        Ads that take the same fetch (``_shared_fetch``) all carry its bytes; the fetch
        leaves the table of fetches when its image joins the cache.

        ``archived``: for an ad a killed run read (``_replay``), by address, the photos
        that run archived (ref and bytes) and None for those gone; they are not fetched
        again, nor cached (a later ad fetches them).
        """
        archived = archived or {}
        todo = [u for u in dict.fromkeys(ad.image_urls)
                 if u not in self._image_cache and u not in archived]
        fetched = await asyncio.gather(*(self._shared_fetch(u, ad.url) for u in todo))
        bodies = {ref.sha256: body for ref, body in fetched if ref is not None and body is not None}
        bodies.update((got[0].sha256, got[1]) for got in archived.values() if got is not None)
        for url, (ref, _) in zip(todo, fetched, strict=True):
            if ref is not None:
                self._image_cache[url] = ref
                self._image_fetches.pop(url, None)
        images: dict[ImageRef, None] = {}
        failed: list[tuple[int, tuple[str, ...]]] = []
        for url in ad.image_urls:
            if url in archived:
                if (got := archived[url]) is not None:
                    images.setdefault(got[0], None)
            elif (ref := self._image_cache.get(url)) is not None:
                images.setdefault(ref, None)
            elif url not in self._images_gone:
                failed.append((len(images), self._addresses_of(url)))
        fields = AdFields(title=ad.title, text=ad.text, attributes=ad.attributes,
                          images=tuple(images))
        return AdItem(self.source.id, ad.site_ad_id, ad.url, ad.capture, fields,
                      images_pending=self._images_pending or bool(bodies), image_bodies=bodies,
                      images_failed=tuple(failed))

    def _addresses_of(self, url: str) -> tuple[str, ...]:
        """The addresses a photo shown at ``url`` may be stored under: ``url`` as fetched
        (escaped), then where it led when it last redirected, hop by hop (the archive
        keeps every redirect; a photo's ref names the address it was fetched from)."""
        fetched = safe_url_string(url, "utf-8")
        archive = self._archive
        return (fetched, *archive.led_to(fetched)) if archive is not None else (fetched,)

    def _shared_fetch(self, url: str, page_url: str
                      ) -> asyncio.Future[tuple[ImageRef | None, bytes | None]]:
        """The fetch of ``url`` another ad started (under way, or done but not yet in the
        cache: each ad gets its ref and bytes, so whichever reaches the pipeline first
        stores it), or a new one. A failed fetch leaves the table at once, so a later ad
        tries again. Shielded: an ad whose wait is cancelled does not cancel the fetch
        the others wait for (if every waiter is cancelled, at shutdown, the fetch still
        ends and its response is archived, as every response is)."""
        fetch = self._image_fetches.get(url)
        if fetch is None:
            fetch = asyncio.ensure_future(self._fetch_image(url, page_url))
            self._image_fetches[url] = fetch
            fetch.add_done_callback(lambda done: self._forget_failed(url, done))
        return asyncio.shield(fetch)

    def _forget_failed(self, url: str, fetch: asyncio.Future[Any]) -> None:
        """Drop a fetch that got no image from the table (one that did leaves it when its
        image joins the cache, in ``_with_images``)."""
        if fetch.cancelled() or fetch.exception() is not None or fetch.result()[0] is None:
            self._image_fetches.pop(url, None)

    async def _fetch_image(self, url: str, page_url: str
                           ) -> tuple[ImageRef | None, bytes | None]:
        """One image through the archive: (its ref, its bytes when the ref is pending); a
        failure is counted with its URL, never raised.

        The Referer is set here as Scrapy's referer middleware (a spider middleware, which
        this path skips) would: sites that refuse hot-linked images look for it."""
        downgrade = page_url.startswith("https:") and not url.startswith("https:")
        headers = {} if downgrade else {"Referer": page_url}
        try:
            request = Request(url, headers=headers, meta={IMAGE_KEY: True}, dont_filter=True)
            response = await self.crawler.engine.download_async(request)
        except Exception as exc:  # noqa: BLE001 - any failure costs this image only
            self.record_error(url, f"image failed: {_failure_message(exc)}", "image")
            return None, None
        ref: ImageRef | None = response.meta.get(IMAGE_REF_KEY)
        body = None
        if ref is None and (ref := response.meta.get(IMAGE_PENDING_KEY)) is not None:
            self._images_pending, body = True, response.body
        if ref is None:
            if response.status in GONE_STATUSES:
                self._images_gone.add(url)  # the site says it is gone: not shown any more
            refused = response.meta.get(IMAGE_REFUSED_KEY)
            why = (f"image failed: the answer is a page ({refused}), not a picture" if refused
                   else "image was not archived" if 200 <= response.status < 300
                   else f"image failed: http {response.status}")
            self.record_error(url, why, "image")
            return None, None
        return ref, body

    # ------------------------------------------------------------------ revisits, errors
    def on_idle(self, spider: Any = None) -> None:
        """Listings done: revisit the due known live ads they did not lead to, once."""
        if self._revisited:
            return
        self._revisited = True
        todo = [(i, u) for i, (u, _) in self.known.items()
                if i not in self._seen_ids and u not in self._requested and self._due(i)]
        if not todo:
            return
        for site_ad_id, url in todo:
            self.crawler.engine.crawl(self._ad_request(url, site_ad_id, from_listing=False))
        raise DontCloseSpider

    def on_error(self, failure: Failure) -> None:
        request = getattr(failure, "request", None)
        if request is not None and PAGE_LINES_KEY in request.meta:
            self._pages_read(request.meta)  # archived on the way to the failure: nothing to store
        if request is not None and request.callback == self.parse_listing:
            self.listings_complete = False
        unidentified = (request is not None and request.callback == self.parse_ad
                        and self._unidentified(request.meta, request.url))
        if _is_policy_skip(failure):
            log.info("%s: skipped %s: %s", self.source.id, request and request.url,
                     failure.getErrorMessage())
            if request is not None and request.callback == self.parse_listing:
                # the listings are incomplete (no removals by absence): said, with why
                self.record_error(request.url, f"{failure.getErrorMessage()}: listing page "
                                  "not read; listings incomplete", "policy")
                return
            self._count("skipped")  # robots.txt said no to an ad page: obeyed, no error
            if unidentified:  # …but it costs the run its removals by absence: said
                self.record_error(request.url, f"{failure.getErrorMessage()}; {UNIDENTIFIED}",
                                  "policy")
            return
        response = getattr(failure.value, "response", None)
        reason = f"{type(failure.value).__name__}: {failure.getErrorMessage()}"
        kind = failure_kind(failure.value)
        if response is not None:
            self._count("pages")  # fetched, but an HTTP error (5xx, 403, …)
            reason, kind = f"http {response.status}", "http"
        self.record_error(request.url if request else "?",
                          f"{reason}; {UNIDENTIFIED}" if unidentified else reason, kind)

    def record_error(self, url: str, message: str, kind: str = "other") -> None:
        """Count an error, of its kind (indexer.crawl_runs.ERROR_KINDS), and keep the first
        samples (URL and reason) for the run record."""
        count_error(self.crawler.stats, kind)
        if len(self.error_samples) < MAX_ERROR_SAMPLES:
            self.error_samples.append(RunError(url[:2000], message[:500]))
        log.warning("%s: %s: %s", self.source.id, url, message)

    def _count(self, key: str) -> None:
        self.crawler.stats.inc_value(f"adtrace/{key}")


class NotAPage(ValueError):
    """A listing the source's selectors cannot read (JSON): said as such, not as a
    selector that failed on it."""


def _after_replay(start: Any) -> Any:
    """``start`` (a custom spider's async generator) run after the spider's ``replay``."""
    @functools.wraps(start)
    async def start_after_replay(self: GenericSpider) -> Any:
        await self.replay()
        async for got in start(self):
            yield got

    return start_after_replay


def _not_a_page(response: Response) -> str:
    """Why the selectors cannot read ``response`` ('' if they can): bytes that are not
    text, or a body in JSON (parsel reads it as JSON, on which CSS and XPath fail: the
    error would blame the source's selectors)."""
    ctype = (response.headers.get("Content-Type") or b"").decode("latin-1") or "no type"
    if not isinstance(response, TextResponse):
        return f"is not text ({ctype})"
    if response.selector.type == "json":
        return f"is JSON, not an HTML page ({ctype})"
    return ""


def _failure_message(exc: BaseException) -> str:
    """What an errback's ``failure.getErrorMessage()`` said for the same exception."""
    return Failure(exc).getErrorMessage()


def _is_policy_skip(failure: Failure) -> bool:
    """robots.txt refused the request: skipped, not an error. Other
    IgnoreRequests (a redirect loop hitting the redirect limit, …) are errors."""
    if not failure.check(IgnoreRequest) or failure.check(HttpError):
        return False
    # Scrapy's own words, whole: a message that carries URLs (an offsite redirect) could
    # name "robots" itself, and a real error would pass for a skip
    return failure.getErrorMessage() == ROBOTS_FORBIDDEN
