"""Replaying the journals that killed runs left (crawler.journal), before a crawl's own work.

A journal left behind holds what a run read from pages whose ads may never have reached
the store. The next crawl of the source hands over again, before its first request, each
ad or removal line that no ``done`` line names, in the journal's order and through its
own pipeline (GenericSpider.replay): the ad as the killed run read it, with the page
capture the killed run made (where the archive has it now: a line whose page a purge
took out is not replayed). A ``page`` line that no later line supersedes (the kill came
before the spider read the page) is read now, from the archive (``Archived.response``:
the page as the spider would have had it, with its request's meta), by the spider's own
reading (GenericSpider.read_ad_page), which leaves this run's own state alone and does
not count what the page lacks as this run's errors (it says it). A page the crawl's
meta-refresh middleware would have sent on from is left to the crawl, which follows it
(``sent_on``). Its photos are those the killed run archived: the last capture of each
address since that run began, read back from the WARC with its digest checked, and
handed over with its bytes as the crawl hands them over. A photo the killed run did not
get (not fetched before the kill, failed, refused, cut at the size cap, or redirected:
the replay does not follow redirects) is fetched now, as any photo is; one that answered
404 or 410 is gone from the page, as in a crawl. Captures made after the next journal's
run began are not that run's, and are not looked at.

Store writes are idempotent by capture id, so a line written before the kill changes
nothing (a ``done`` line lost to the kill costs a re-enrichment, no more). A journal is
deleted once the run that replayed it has handed everything over and it was written; a
run killed before then leaves it, and the next crawl replays it again. A line cut short
by the kill is skipped, and said.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from crawler.items import RemovalItem
from crawler.journal import journals_of, removal_key
from crawler.middlewares import CAPTURE_KEY, GONE_STATUSES, is_page_not_picture
from crawler.size_cap import TRUNCATED_KEY
from indexer.model import Capture, ImageRef, capture_from_dict, from_iso

log = logging.getLogger(__name__)


@dataclass
class Left:
    """What one journal left: the items no ``done`` line names, in order."""

    path: Path
    started: str = ""  # the run's start, from the header line (its source is the file's)
    # {"page": …}, {"ad": …} or {"removal": …}
    items: list[dict[str, Any]] = field(default_factory=list)
    done: int = 0
    broken: int = 0  # lines that do not parse (a kill cuts the last one short)


def read_left(path: Path) -> Left:
    """The lines of the journal at ``path`` that still need the store."""
    left, done_ids, read = Left(path), set(), set()
    with open(path, "rb") as fh:
        for raw in fh:
            try:
                record = json.loads(raw)
            except ValueError:
                left.broken += 1
                continue
            if not isinstance(record, dict):
                left.broken += 1
            elif "run" in record:
                left.started = str(record["run"].get("started", ""))
            elif "done" in record:
                done_ids.update(record["done"])
            elif "ad" in record or "removal" in record or "page" in record:
                left.items.append(record)
                read.add(_page_read(record))
            else:
                left.broken += 1
    read.discard("")
    pending = [r for r in left.items if _key(r) not in done_ids
               and not ("page" in r and _key(r) in read)]
    read_lines = sum("page" not in r for r in left.items)
    left.done = read_lines - sum("page" not in r for r in pending)  # ads and removals stored
    left.items = pending
    return left


def _key(record: dict[str, Any]) -> str:
    try:
        if "removal" in record:
            removal = record["removal"]
            return removal_key(str(removal["site_ad_id"]), from_iso(removal["at"]))
        body = record["ad"] if "ad" in record else record["page"]
        return capture_from_dict(body["capture"]).id
    except (KeyError, TypeError, ValueError):
        return ""


def _page_read(record: dict[str, Any]) -> str:
    """The capture id of the page an ad or removal line was read from ('' for a page line,
    or a removal line written before removals named their page)."""
    if "ad" in record:
        return _key(record)
    if "removal" in record and isinstance(record["removal"], dict):
        return str(record["removal"].get("page") or "")
    return ""


class Archived:
    """A killed run's captures, found again in the archive: its ad pages by address and
    time, its photos by address."""

    def __init__(self, archive_dir: str | Path, started: str, until: str = "") -> None:
        """``started``: the killed run's start; ``until``: the next run's ("" none)."""
        from indexer.archive.lookup import CapturesSince

        self.archive_dir = archive_dir
        self.lookup = CapturesSince(archive_dir, from_iso(started),
                                    from_iso(until) if until else None)

    def page(self, capture: Capture) -> Capture | None:
        """The journal's page capture where the archive has it now (None: it does not, as
        after a purge; a purge that rewrote its file moved it, and the index says where)."""
        found = self.lookup.capture(capture.url, capture.fetched_at)
        return found if found is not None and found.id == capture.id else None

    def response(self, capture: Capture, line: dict[str, Any], country: str = "",
                 compression: Any = None) -> Any:
        """The page of ``capture`` (a ``page`` line's, found by ``page``) as the spider
        would have had it out of the downloader: the bytes the site sent, with its status
        and headers, at the address redirects led to, and what its request knew in its
        meta; its content-encoding undone by ``compression`` (the crawl's own
        HttpCompressionMiddleware, as it undid it live: gzip, deflate, br, zstd, a gzip
        cut at the size cap; None where the crawl has it off), and read with the encoding
        its bytes fit (as crawler.charset reads a page; the fault, counted by the killed
        run, is not counted again). Raises ArchiveError if the record cannot be read or
        fails its digest, and what ``compression`` raises."""
        from scrapy.http import Headers, Request
        from scrapy.responsetypes import responsetypes

        from crawler.charset import CHECKED, reread
        from indexer.archive.reader import read_capture

        record = read_capture(self.archive_dir, capture)
        fields: dict[str, list[str]] = {}
        for name, value in record.headers:
            fields.setdefault(name, []).append(value)
        headers = Headers(fields)
        url = str(line["url"])
        truncated = bool(line.get("truncated") or record.truncated)
        meta: dict[str, Any] = {CAPTURE_KEY: capture,
                                "from_listing": bool(line.get("from_listing")),
                                "handle_httpstatus_list": sorted(GONE_STATUSES)}
        if line.get("site_ad_id"):
            meta["site_ad_id"] = str(line["site_ad_id"])
        if line.get("redirect_urls"):
            meta["redirect_urls"] = [str(u) for u in line["redirect_urls"]]
        if truncated:
            meta[TRUNCATED_KEY] = True
        request = Request(url, meta=meta)
        cls = responsetypes.from_args(headers=headers, url=url, body=record.payload)
        response = cls(url=url, status=capture.status, headers=headers, body=record.payload,
                       request=request)
        if compression is not None:
            response = compression.process_response(request, response)
        if isinstance(response, CHECKED) and 200 <= capture.status < 300 and not truncated:
            try:
                response, _fault = reread(response, country)
            except Exception:  # noqa: BLE001 - as live: a charset never stops a page
                log.exception("%s: charset not checked", url)
        return response

    def fetched(self, url: str) -> tuple[ImageRef, bytes] | str:
        """(pending ref, bytes) of the photo at ``url``, "gone" (404/410), or "failed"."""
        from w3lib.url import safe_url_string

        from indexer.archive.reader import ArchiveError, read_capture

        cap = self.lookup.latest(safe_url_string(url, "utf-8"))
        if cap is None:
            return "failed"
        if cap.status in GONE_STATUSES:
            return "gone"
        if not 200 <= cap.status < 300:
            return "failed"
        try:
            record = read_capture(self.archive_dir, cap)
            body = record.decoded()
        except (ArchiveError, OSError, ValueError) as exc:
            log.error("journal replay: photo %s (%s@%s) not read: %s", url, cap.warc_file,
                      cap.warc_offset, exc)
            return "failed"
        if record.truncated or is_page_not_picture(cap.content_type, body):
            return "failed"  # cut at the size cap, or a page: as a crawl refuses them
        return ImageRef(sha256=cap.sha256, source_url=cap.url,
                        content_type=cap.content_type), body

    def found(self, urls: list[str]) -> dict[str, tuple[ImageRef, bytes] | None]:
        """By address: the photos the killed run archived (ref, bytes), and None for those
        gone; the others are not there (to be fetched now)."""
        out: dict[str, tuple[ImageRef, bytes] | None] = {}
        for url in dict.fromkeys(urls):
            got = self.fetched(url)
            if got != "failed":
                out[url] = got if isinstance(got, tuple) else None
        return out


def sent_on(meta_refresh: Any, response: Any) -> bool:
    """Whether the crawl's meta-refresh middleware (Scrapy's MetaRefreshMiddleware, the
    crawl's instance; None where it is off) would have sent the crawl on from this page,
    or failed on its refresh, instead of handing it to the spider: a killed run's page
    line may be such a page, whose follow-up the kill cut off. The next crawl follows it
    itself. The middleware's own decision, asked of the page as read back: a refresh to
    an address it does not follow (``about:blank``) leaves the page to the spider."""
    from scrapy.http import Response

    if meta_refresh is None:
        return False
    try:
        return not isinstance(meta_refresh.process_response(response.request, response),
                              Response)
    except Exception:  # noqa: BLE001 - live, the request failed there (its errback)
        return True


def removal_item(source_id: str, removal: dict[str, Any]) -> RemovalItem:
    return RemovalItem(source_id, str(removal["site_ad_id"]), str(removal["url"]),
                       from_iso(removal["at"]), str(removal["reason"]))


def leftovers(archive_dir: str | Path, source_id: str, own: Path | None) -> list[Left]:
    """What the journals earlier runs of ``source_id`` left (this run's, ``own``, aside),
    oldest run first; a journal that cannot be read is said and passed over (kept)."""
    out = []
    for path in journals_of(archive_dir, source_id):
        if own is not None and path == own:
            continue
        try:
            left = read_left(path)
        except OSError as exc:
            log.error("journal %s cannot be read (%s): kept, not replayed", path, exc)
            continue
        if left.broken:
            log.warning("journal %s: %d line(s) that do not parse skipped (a kill cuts the "
                        "last one short)", path, left.broken)
        out.append(left)
    return out

