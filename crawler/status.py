"""Crawl status per source: the last recorded run and its figures.

Shared by ``adtrace crawl status`` and the UI page ``/crawls`` so both say the same.
Sources known to the register but never crawled are listed too (with no run), so a
source that silently never runs is visible.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from indexer.crawl_runs import CrawlRun
from indexer.model import to_iso

RECENT_RUNS = 10


@dataclass(frozen=True)
class SourceStatus:
    source_id: str
    last: CrawlRun | None
    recent: tuple[CrawlRun, ...]

    @property
    def last_ended(self) -> CrawlRun | None:
        """The newest run that recorded its end: its figures and errors stay in view while
        a run is under way (or after one was killed)."""
        return next((r for r in self.recent if r.ended), None)


def source_status(store: Any, source_ids: Iterable[str] = ()) -> list[SourceStatus]:
    """One row per source: those named, plus every source with recorded runs."""
    ids = list(dict.fromkeys([*source_ids, *(s.id for s in store.sources())]))
    rows = []
    for sid in sorted(ids):
        recent = tuple(store.crawl_runs(sid, limit=RECENT_RUNS))
        rows.append(SourceStatus(sid, recent[0] if recent else None, recent))
    return rows


def status_line(row: SourceStatus) -> str:
    """One line for the terminal."""
    run = row.last
    if run is None:
        return f"{row.source_id}: never crawled"
    if not run.ended:
        ended = row.last_ended
        return (f"{row.source_id}: last run {to_iso(run.started)[:19]}Z (unfinished: running "
                "now, or stopped before it could record its end)"
                + (f"; last ended run {_figures(ended)}" if ended else ""))
    return f"{row.source_id}: last run {_figures(run)}"


def _figures(run: CrawlRun) -> str:
    return (f"{to_iso(run.started)[:19]}Z ({run.finish_reason or '?'}) "
            f"pages={run.pages} new_ads={run.new_ads} new_versions={run.new_versions} "
            f"removed={run.removed} errors={run.errors} duration={run.duration:.1f}s")
