"""A crawl run as recorded in the store: what one crawl of one source did.

Kept apart from ``indexer.model`` (the shared contract) because only the crawler writes
runs and only status views read them. A run also carries what the next runs need to
decide removals: whether its listings were complete and which known live ads they did
not show (``missing``), so "absent from N consecutive complete listings" is answered
from the store alone, with no crawler state file to lose.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from indexer.model import from_iso, short_hash, to_iso

MAX_ERROR_SAMPLES = 20
# What went wrong, as runs count it per source (``CrawlRun.error_kinds``), in the order
# status shows them: a run's errors tell a site that is down (timeout, connection, http)
# from one whose layout changed (page) or that now blocks the crawler (redirect).
ERROR_KINDS: dict[str, str] = {
    "timeout": "the site did not answer in time",
    "connection": "no connection: refused, reset, name not found, TLS, proxy",
    "http": "an HTTP error status on a page (5xx, 403, 429 …)",
    "redirect": "a redirect loop, a redirect off the site, or to a page that names no ad",
    "too_large": "a page over the size cap (archived as far as it came, not read)",
    "page": "a page that could not be read: not HTML, broken, empty listing, no ad fields "
            "or id",
    "charset": "a page in an encoding no decoder knows, or that could not be checked",
    "image": "a photo that could not be fetched, or a page sent instead of it",
    "archive": "a response that could not be archived (so not used)",
    "policy": "robots.txt (or another policy, such as a next page on another site) kept "
              "the crawl from a listing page, or from an ad whose absence from the listings "
              "counted",
    "ingest": "an ad that could not be enriched or stored",
    "other": "anything else",
}
# a crawl's Scrapy stats count errors as adtrace/errors, and each kind as
# adtrace/errors/<kind> (``count_error``; read back by ``error_kinds_of``)
ERRORS_STAT = "adtrace/errors"
_KIND_NAME = re.compile(r"[a-z_]{1,32}")
# the finish_reason of a run recorded as it began and not (yet) as it ended: running now,
# or killed (SIGKILL, power) before it could say how it ended
UNFINISHED = "unfinished"


@dataclass(frozen=True)
class RunError:
    """One failure during a crawl: the URL and why (a request with no response too)."""

    url: str
    reason: str


@dataclass(frozen=True)
class CrawlRun:
    source_id: str
    started: datetime  # crawl clock (simulated in the demo)
    finished: datetime
    pages: int = 0
    new_ads: int = 0
    new_versions: int = 0
    unchanged: int = 0
    removed: int = 0
    errors: int = 0
    error_samples: tuple[RunError, ...] = ()
    error_kinds: tuple[tuple[str, int], ...] = ()  # (kind, count), in ERROR_KINDS order
    duration: float = 0.0  # real seconds the crawl took
    finish_reason: str = ""
    listings_complete: bool = False
    missing: tuple[str, ...] = field(default_factory=tuple)  # site ad ids absent from listings

    @property
    def id(self) -> str:
        """Deterministic: the same run recorded twice is one run (so the record written
        as it ends replaces the one written as it began)."""
        return short_hash(self.source_id, to_iso(self.started), length=24)

    @property
    def ended(self) -> bool:
        return self.finish_reason != UNFINISHED

    def errors_by_kind(self) -> str:
        """The errors' kinds as status shows them: ``timeout 3, http 2``; '' if none."""
        return kinds_text(self.error_kinds)


def kinds_text(kinds: Iterable[tuple[str, int]]) -> str:
    """(kind, count) pairs as the terminal shows them: ``timeout 3, http 2``."""
    return ", ".join(f"{kind} {n}" for kind, n in kinds)


def count_error(stats: Any, kind: str) -> None:
    """Count one error of ``kind`` in a crawl's stats (a Scrapy StatsCollector)."""
    stats.inc_value(ERRORS_STAT)
    stats.inc_value(f"{ERRORS_STAT}/{kind}")


def error_kinds_of(stats: dict[str, Any]) -> tuple[tuple[str, int], ...]:
    """The (kind, count) pairs a crawl's stats hold (``count_error``)."""
    head = f"{ERRORS_STAT}/"
    return ordered_kinds({k[len(head):]: int(v) for k, v in stats.items() if k.startswith(head)})


def _kinds_read(stored: Any) -> tuple[tuple[str, int], ...]:
    """A stored run's kinds, as far as they are what a crawler writes (a name of at most
    32 lower-case letters and underscores, a count ≥ 0): a record edited by hand or
    damaged leaves out what is not, and status and the Crawls page still show the run."""
    counts: dict[str, int] = {}
    for kind, n in (stored.items() if isinstance(stored, dict) else ()):
        if (isinstance(kind, str) and _KIND_NAME.fullmatch(kind) and type(n) is int
                and n >= 0):
            counts[kind] = n
    return ordered_kinds(counts)


def ordered_kinds(counts: dict[str, int]) -> tuple[tuple[str, int], ...]:
    """(kind, count) pairs of the kinds counted, in ERROR_KINDS order; a kind this version
    does not know (a newer crawler wrote the run) comes last, by name."""
    known = [(k, counts[k]) for k in ERROR_KINDS if counts.get(k)]
    return (*known, *sorted((k, n) for k, n in counts.items() if k not in ERROR_KINDS and n))


def run_begun(source_id: str, started: datetime) -> CrawlRun:
    """The record of a run as it begins: status shows a run under way, or one that was
    killed, instead of the run before it as if it were the last."""
    return CrawlRun(source_id, started=started, finished=started, finish_reason=UNFINISHED)


def killed_since(runs: list[CrawlRun], started: datetime) -> datetime | None:
    """The start of the oldest of the runs before the one begun at ``started`` that began
    and never ended (killed, as the crawl that asks holds the source's lock), back to the
    last run that ended; None if that is the run before it. ``runs``: the source's runs,
    newest started first. The run begun at ``started`` is the asker's own; a run that
    began later by the clock (a demo crawl run again on an earlier simulated day) is one
    before it all the same."""
    since = None
    for run in (r for r in runs if r.started != started):
        if run.ended:
            break
        since = run.started
    return since


def run_to_dict(run: CrawlRun) -> dict[str, Any]:
    """JSON-ready (both backends store this shape)."""
    return {
        "id": run.id, "source_id": run.source_id, "started": to_iso(run.started),
        "finished": to_iso(run.finished), "pages": run.pages, "new_ads": run.new_ads,
        "new_versions": run.new_versions, "unchanged": run.unchanged, "removed": run.removed,
        "errors": run.errors,
        "error_samples": [{"url": e.url, "reason": e.reason} for e in run.error_samples],
        "error_kinds": dict(run.error_kinds),
        "duration": run.duration, "finish_reason": run.finish_reason,
        "listings_complete": run.listings_complete, "missing": list(run.missing),
    }


def run_from_dict(d: dict[str, Any]) -> CrawlRun:
    """Inverse of ``run_to_dict`` (ignores the derived ``id``)."""
    return CrawlRun(
        source_id=str(d["source_id"]), started=from_iso(d["started"]),
        finished=from_iso(d["finished"]), pages=int(d.get("pages", 0)),
        new_ads=int(d.get("new_ads", 0)), new_versions=int(d.get("new_versions", 0)),
        unchanged=int(d.get("unchanged", 0)), removed=int(d.get("removed", 0)),
        errors=int(d.get("errors", 0)),
        error_samples=tuple(RunError(str(e.get("url", "")), str(e.get("reason", "")))
                            for e in d.get("error_samples") or ()),
        error_kinds=_kinds_read(d.get("error_kinds")),
        duration=float(d.get("duration", 0.0)), finish_reason=str(d.get("finish_reason", "")),
        listings_complete=bool(d.get("listings_complete", False)),
        missing=tuple(str(x) for x in d.get("missing") or ()),
    )
