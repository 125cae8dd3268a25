"""Crawl status per source: the last recorded run and its figures.

Shared by ``adtrace crawl status`` and the UI page ``/crawls`` so both say the same.
Sources known to the register but never crawled are listed too (with no run), so a
source that silently never runs is visible. Given the archive the crawls write to, a
run recorded as begun but not ended is told apart: running now (a crawl holds the
source's lock: crawler.source_lock) or killed (none does).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from crawler import source_lock
from indexer.crawl_runs import CrawlRun
from indexer.model import to_iso

RECENT_RUNS = 10


@dataclass(frozen=True)
class SourceStatus:
    source_id: str
    last: CrawlRun | None
    recent: tuple[CrawlRun, ...]
    crawling: str = ""  # the crawl of the source under way now, when the archive tells
    killed: bool = False  # the last run began and never ended, and no crawl holds the lock

    @property
    def last_ended(self) -> CrawlRun | None:
        """The newest run that recorded its end: its figures and errors stay in view while
        a run is under way (or after one was killed)."""
        return next((r for r in self.recent if r.ended), None)


def source_status(store: Any, source_ids: Iterable[str] = (),
                  archive_dir: str | Path | None = None) -> list[SourceStatus]:
    """One row per source: those named, plus every source with recorded runs; with
    ``archive_dir``, whether a crawl of it is under way there now."""
    ids = list(dict.fromkeys([*source_ids, *(s.id for s in store.sources())]))
    rows = []
    for sid in sorted(ids):
        recent = tuple(store.crawl_runs(sid, limit=RECENT_RUNS))
        rows.append(_with_lock(SourceStatus(sid, recent[0] if recent else None, recent),
                               archive_dir))
    return rows


def _with_lock(row: SourceStatus, archive_dir: str | Path | None) -> SourceStatus:
    """The row with what the source's lock says: who crawls it now, or that its
    unfinished last run was killed (only where crawls of it took the lock before)."""
    if archive_dir is None:
        return row
    holder = source_lock.under_way(archive_dir, row.source_id)
    if holder is not None:
        return replace(row, crawling=holder.describe())
    unfinished = row.last is not None and not row.last.ended
    return replace(row, killed=unfinished and source_lock.ever_crawled_here(
        archive_dir, row.source_id))


def status_line(row: SourceStatus) -> str:
    """One line for the terminal."""
    run = row.last
    now = f"; crawling now ({row.crawling})" if row.crawling else ""
    if run is None:
        return f"{row.source_id}: never crawled{now}"
    if not run.ended:
        ended = row.last_ended
        return (f"{row.source_id}: last run {to_iso(run.started)[:19]}Z (unfinished: "
                f"{unfinished_state(row)})"
                + (f"; last ended run {_figures(ended)}" if ended else ""))
    return f"{row.source_id}: last run {_figures(run)}{now}"


def unfinished_state(row: SourceStatus) -> str:
    """What became of a run recorded as begun and not ended, as far as is known."""
    if row.crawling:
        return f"running now, {row.crawling}"
    if row.killed:
        return "stopped before it could record its end (killed); the next crawl resumes it"
    return "running now, or stopped before it could record its end"


def _figures(run: CrawlRun) -> str:
    return (f"{to_iso(run.started)[:19]}Z ({run.finish_reason or '?'}) "
            f"pages={run.pages} new_ads={run.new_ads} new_versions={run.new_versions} "
            f"removed={run.removed} errors={run.errors}{_kinds(run)} "
            f"duration={run.duration:.1f}s")


def _kinds(run: CrawlRun) -> str:
    """`` (timeout 3, http 2)`` after the error count; nothing for a run without errors
    or one recorded before runs counted kinds."""
    by_kind = run.errors_by_kind()
    return f" ({by_kind})" if by_kind else ""
