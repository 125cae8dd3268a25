"""SqliteStore: the embedded default backend (one file, WAL, FTS5).

Thread-safety: a thread never shares a connection with another thread while it works.
Each call borrows a connection from a small pool for its duration (a write transaction,
one search, one export) and gives it back; a thread that finds the pool empty opens its
own. The web UI's threads (Werkzeug starts one per request) can therefore share one store
object without each leaving a connection behind, and the number of open connections is
the most threads that ever worked at once. WAL lets readers run while one writer writes;
a second writer (another process) waits on the busy timeout. ``close()`` closes them all.
The path must be a file (``:memory:`` would give every connection its own database).

Every write is one transaction (``BEGIN IMMEDIATE``: the writer lock is taken before the
ad's current version is read, so two writers cannot both add "version 2").
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TypeVar

from indexer.assessment import Assessment
from indexer.crawl_runs import CrawlRun
from indexer.model import (
    AdRecord,
    Enrichment,
    LiveAd,
    Observation,
    SourceInfo,
    WriteResult,
)
from indexer.search.parse import normal_identifier
from indexer.search.query import COUNT_LIMIT, Hit, Query, SearchResult
from indexer.store import (
    sqlite_assessments,
    sqlite_counts,
    sqlite_crawl_runs,
    sqlite_entities,
    sqlite_images,
    sqlite_listings,
    sqlite_purge,
    sqlite_read,
    sqlite_schema,
    sqlite_scoring,
    sqlite_search,
    sqlite_signals,
    sqlite_sources,
    sqlite_totals,
    sqlite_write,
    theme_walls,
)
from indexer.store.aggregates import Aggregates
from indexer.store.base import CaptureLookup, Mended, StoreError
from indexer.store.entity_summary import EntitySummary, Suppression
from indexer.store.purge_types import Hold, PurgeResult
from indexer.store.source_history import SourceRevision

T = TypeVar("T")
COUNT_CACHE_SIZE = 64

# The tables each store module keeps beside the core schema, made with it at open.
_SCHEMA_PARTS = (
    sqlite_assessments.create,
    sqlite_crawl_runs.create,
    sqlite_entities.create,
    sqlite_counts.create,  # facet counts kept by triggers (fast browse); counted once here
    sqlite_totals.create,  # the same over all sources, kept from those (after them)
    sqlite_sources.create,
    sqlite_purge.create,
    sqlite_signals.create,
    sqlite_images.create,
    sqlite_listings.create,
)


class _DryRun(Exception):  # noqa: N818 - control flow: roll the purge back, keep its answer
    """Raised inside a purge transaction so a dry run rolls back everything it did."""

    def __init__(self, result: PurgeResult) -> None:
        super().__init__(result.source_id)
        self.result = result


class SqliteStore:
    """The Store contract over one SQLite file (see indexer.store.base for the rules)."""

    def __init__(self, path: str | Path, facet_time_limit_ms: int = 1000,
                 count_limit: int = COUNT_LIMIT) -> None:
        self.path = str(path)
        self.facet_time_limit_ms = facet_time_limit_ms
        if count_limit < 1:
            raise StoreError(f"sqlite store {self.path}: search count limit {count_limit} "
                             "must be at least 1")
        self.count_limit = count_limit  # the most matches any search counts (see sqlite_search)
        if self.path == ":memory:" or not self.path.strip():
            raise StoreError(f"sqlite store {self.path!r}: give a file path (connections are "
                             "per thread, and each :memory: connection is a database of its own)")
        Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self._idle: list[sqlite3.Connection] = []
        self._counted: OrderedDict[tuple[str, str], sqlite_search.Counted] = OrderedDict()
        # whole answers, for the same page asked again while the data has not changed
        self._pages: OrderedDict[tuple[str, str], SearchResult] = OrderedDict()
        self._all: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        self._closed = False
        self._apart: ThreadPoolExecutor | None = None  # sqlite_scoring, started on first use
        self._apart_busy = 0  # its threads at work
        try:
            with self._borrow() as conn:
                sqlite_schema.create(conn, self.path, _SCHEMA_PARTS)
        except StoreError:
            self.close()
            raise
        except sqlite3.DatabaseError as exc:
            self.close()
            raise StoreError(f"sqlite store {self.path}: cannot open: {exc}") from exc

    # ------------------------------------------------------------------ connections
    @contextmanager
    def _borrow(self) -> Iterator[sqlite3.Connection]:
        """A connection this thread alone uses until the block ends."""
        with self._lock:
            if self._closed:
                raise StoreError(f"sqlite store {self.path} is closed")
            conn = self._idle.pop() if self._idle else None
        if conn is None:
            conn = sqlite_schema.connect(self.path)
            with self._lock:
                self._all.append(conn)
        try:
            yield conn
        finally:
            with self._lock:
                if self._closed:
                    conn.close()
                else:
                    self._idle.append(conn)

    @contextmanager
    def _tx(self, what: str) -> Iterator[sqlite3.Connection]:
        """One write transaction: committed whole, or rolled back whole (nothing half-written).

        Database failures (locked too long, disk full, corrupt) become StoreError naming the
        store and what was being written.
        """
        with self._borrow() as conn:
            try:
                conn.execute("BEGIN IMMEDIATE")
                try:
                    yield conn
                    sqlite_counts.flush(conn)  # the triggers' pending count deltas
                    conn.execute("UPDATE meta SET value = CAST(value AS INTEGER) + 1 "
                                 "WHERE key = 'generation'")
                    conn.execute("COMMIT")
                except BaseException:
                    if conn.in_transaction:
                        conn.execute("ROLLBACK")
                    raise
            except sqlite3.DatabaseError as exc:
                raise StoreError(f"sqlite store {self.path}: {what} failed: {exc}") from exc

    def _read(self, fn: Callable[[sqlite3.Connection], T], what: str) -> T:
        try:
            with self._borrow() as conn:
                return fn(conn)
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"sqlite store {self.path}: {what} failed: {exc}") from exc

    # ------------------------------------------------------------------ writes
    def upsert_source(self, source: SourceInfo) -> None:
        with self._tx(f"registering source {source.id!r}") as conn:
            sqlite_sources.upsert(conn, source)  # and a revision in its history if changed

    def source_history(self, source_id: str) -> list[SourceRevision]:
        return self._read(lambda c: sqlite_sources.history(c, source_id),
                          f"history of source {source_id!r}")

    def _walled(self, themes: tuple[str, ...] | None) -> frozenset[str] | None:
        return theme_walls.allowed_sources(self.sources, themes)

    def write(self, obs: Observation, enrichment: Enrichment) -> WriteResult:
        with self._tx(f"writing {obs.url!r} (capture {obs.capture.id})") as conn:
            return sqlite_write.write(conn, obs, enrichment)

    def write_many(self, items: Sequence[tuple[Observation, Enrichment]]) -> list[WriteResult]:
        """Many writes in one transaction (reindex, batched ingest): all or nothing.

        Applied in capture-time order (versions follow each other in time, so a batch read
        from an archive in any order still gives the right history); results come back in
        the order given.
        """
        order = sorted(range(len(items)), key=lambda i: items[i][0].capture.fetched_at)
        results: list[WriteResult | None] = [None] * len(items)
        with self._tx(f"writing a batch of {len(items)} observations") as conn:
            batch = sqlite_write.begin(conn)  # search texts indexed once, at finish
            for i in order:
                obs, enrichment = items[i]
                results[i] = sqlite_write.write(conn, obs, enrichment, batch)
            sqlite_write.finish(conn, batch)
        return [r for r in results if r is not None]

    def mark_removed(self, source_id: str, site_ad_id: str, at: datetime, reason: str) -> bool:
        with self._tx(f"marking {source_id}/{site_ad_id} removed") as conn:
            return sqlite_write.mark_removed(conn, source_id, site_ad_id, at, reason)

    def finish_cut_writes(self, source_id: str, since: datetime,
                          archive: CaptureLookup) -> Mended:
        """Nothing to finish: a write cut short here rolled back whole (one transaction),
        and the next fetch of its page writes it."""
        return Mended()

    def record_crawl_run(self, run: CrawlRun) -> None:
        with self._tx(f"recording crawl run of {run.source_id!r}") as conn:
            sqlite_crawl_runs.record(conn, run)

    def crawl_runs(self, source_id: str | None = None, limit: int = 50) -> list[CrawlRun]:
        return self._read(lambda c: sqlite_crawl_runs.runs(c, source_id, limit),
                          f"crawl runs of {source_id or 'all sources'}")

    # ------------------------------------------------------------------ reads
    def sources(self) -> list[SourceInfo]:
        return self._read(sqlite_sources.sources, "listing sources")

    def live_ads(self, source_id: str) -> list[LiveAd]:
        return self._read(lambda c: sqlite_listings.live_ads(c, source_id),
                          f"live ads of {source_id!r}")

    def note_listed(self, source_id: str, listed: Mapping[str, Iterable[str]]) -> int:
        if not listed:
            return 0
        with self._tx(f"noting the sections that listed ads of {source_id!r}") as conn:
            return sqlite_listings.note(conn, source_id, listed)

    def get_ad(self, ad_id: str, themes: tuple[str, ...] | None = None) -> AdRecord | None:
        record = self._read(lambda c: sqlite_read.get_ad(c, ad_id), f"get_ad {ad_id!r}")
        if record is None or not theme_walls.visible(record.source_id, self._walled(themes)):
            return None
        return record

    def search(self, query: Query) -> SearchResult:
        """Search; the total and facets are reused while the data has not changed and
        only the page differs (paging through results recounts nothing). A query with no
        count_limit of its own gets the store's; the result's query says which applied."""
        if query.count_limit is None:
            query = replace(query, count_limit=self.count_limit)
        with self._borrow() as conn:
            conn.execute("BEGIN")  # one snapshot: hits, total and facets agree with each other
            try:
                gen = conn.execute("SELECT value FROM meta WHERE key = 'generation'").fetchone()
                # the sort is kept: "oldest" keeps other matches when there are too many
                key = (gen[0] if gen else "", repr(replace(query, page=1)))
                with self._lock:
                    counted = self._counted.get(key)
                    answered = self._pages.get((key[0], repr(query)))
                if answered is not None:  # the same page again (reloaded, back, shared)
                    return replace(answered, took_ms=0.0)
                result = sqlite_search.search(conn, query, self.facet_time_limit_ms, self.path,
                                              counted, self._run_apart, key[0])
            finally:
                if conn.in_transaction:
                    conn.execute("COMMIT")
        if counted is None and not any(f.timed_out for f in result.facets):
            with self._lock:
                self._counted[key] = (result.total, result.total_is_lower_bound, result.facets)
                while len(self._counted) > COUNT_CACHE_SIZE:
                    self._counted.popitem(last=False)
        if not any(f.timed_out for f in result.facets):
            with self._lock:
                self._pages[(key[0], repr(query))] = result
                while len(self._pages) > COUNT_CACHE_SIZE:
                    self._pages.popitem(last=False)
        return result

    def forget_answers(self) -> None:
        """Drop the counts and pages kept between searches (a benchmark times real work)."""
        with self._lock:
            self._counted.clear()
            self._pages.clear()

    def _run_apart(self, sql: str, params: list[object]) -> Future[sqlite_scoring.Scored] | None:
        """Run one read on another connection and thread: (generation read at, rows).
        None if every such thread is busy (other searches use the other cores): the
        caller then reads in line rather than wait."""
        def run() -> sqlite_scoring.Scored:
            try:
                with self._borrow() as conn:
                    conn.execute("BEGIN")
                    try:
                        gen = conn.execute("SELECT value FROM meta WHERE key = 'generation'").fetchone()
                        return (gen[0] if gen else ""), conn.execute(sql, params).fetchall()
                    finally:
                        conn.execute("COMMIT")
            finally:
                with self._lock:
                    self._apart_busy -= 1

        threads = max(1, (os.cpu_count() or 1) - 1)
        with self._lock:
            if self._apart_busy >= threads:
                return None
            if self._apart is None:
                self._apart = ThreadPoolExecutor(threads, thread_name_prefix="adtrace-score")
            self._apart_busy += 1
            return self._apart.submit(run)

    def ads_for_identifier(self, kind: str, value: str,
                           themes: tuple[str, ...] | None = None) -> list[Hit]:
        hits = self._ads_for_identifier(kind, value)
        return list(theme_walls.keep(hits, self._walled(themes)))

    def _ads_for_identifier(self, kind: str, value: str) -> list[Hit]:
        value = normal_identifier(kind, value)
        kind = "place" if kind == "city" else kind
        if kind == "image":
            return self._read(lambda c: sqlite_images.ads_for_image(c, value),
                              f"ads for image {value!r}")
        return self._read(lambda c: sqlite_read.ads_for_identifier(c, kind, value),
                          f"ads for {kind} {value!r}")

    def ads_showing_image(self, sha256: str, themes: tuple[str, ...] | None = None,
                          limit: int = 20) -> list[str]:
        allowed = self._walled(themes)
        return self._read(lambda c: sqlite_images.ad_ids_for_image(c, sha256, allowed, limit),
                          f"ads showing image {sha256!r}")

    def iter_ads(self, themes: tuple[str, ...] | None = None) -> Iterator[AdRecord]:
        allowed = self._walled(themes)
        with self._borrow() as conn:
            yield from theme_walls.keep(sqlite_read.iter_ads(conn), allowed)

    # ------------------------------------------------------------------ retention
    def purge(self, source_id: str, before: datetime | None,
              dry_run: bool = False) -> PurgeResult:
        try:
            with self._tx(f"purging source {source_id!r}") as conn:
                result = sqlite_purge.purge(conn, source_id, before, dry_run)
                if dry_run:
                    raise _DryRun(result)
        except _DryRun as done:
            return done.result
        return result

    def relocate_captures(self, moves: Mapping[str, tuple[str, int, int]]) -> int:
        with self._tx(f"relocating {len(moves)} captures") as conn:
            return sqlite_purge.relocate(conn, moves)

    def set_hold(self, ad_id: str, reason: str, by: str, at: datetime) -> bool:
        with self._tx(f"holding ad {ad_id!r}") as conn:
            return sqlite_purge.set_hold(conn, ad_id, reason, by, at)

    def release_hold(self, ad_id: str) -> bool:
        with self._tx(f"releasing hold on ad {ad_id!r}") as conn:
            return sqlite_purge.release_hold(conn, ad_id)

    def holds(self) -> list[Hold]:
        return self._read(sqlite_purge.holds, "listing holds")

    # ------------------------------------------------------------------ identifiers
    def entity_summary(self, kind: str, value: str,
                       themes: tuple[str, ...] | None = None) -> EntitySummary:
        value = normal_identifier(kind, value)
        return self._read(lambda c: sqlite_entities.entity_summary(c, kind, value, themes),
                          f"summary of {kind} {value!r}")

    def suppress_extraction(self, target_id: str, kind: str, value: str, user: str,
                            reason: str, at: datetime | None = None) -> bool:
        value = normal_identifier(kind, value)
        with self._tx(f"correcting {kind} {value!r} in {target_id!r}") as conn:
            return sqlite_entities.suppress(conn, target_id, kind, value, user, reason,
                                            at or datetime.now(UTC))

    def unsuppress(self, target_id: str, kind: str, value: str, user: str, reason: str,
                   at: datetime | None = None) -> bool:
        value = normal_identifier(kind, value)
        with self._tx(f"lifting the correction of {kind} {value!r} in {target_id!r}") as conn:
            return sqlite_entities.unsuppress(conn, target_id, kind, value, user, reason,
                                              at or datetime.now(UTC))

    def suppressions(self, ad_id: str | None = None,
                     themes: tuple[str, ...] | None = None) -> list[Suppression]:
        return self._read(lambda c: sqlite_entities.suppressions(c, ad_id, themes),
                          "listing corrections")

    # ------------------------------------------------------------------ reindex, signals
    def update_enrichment(self, version_id: str, enrichment: Enrichment) -> bool:
        with self._tx(f"replacing the enrichment of version {version_id!r}") as conn:
            return sqlite_signals.update_enrichment(conn, version_id, enrichment)

    def update_enrichment_many(self, items: Sequence[tuple[str, Enrichment]]) -> list[bool]:
        """Many replacements in one transaction (reindex): one commit per batch, not per
        version; all or nothing."""
        with self._tx(f"replacing the enrichment of {len(items)} versions") as conn:
            return [sqlite_signals.update_enrichment(conn, vid, e) for vid, e in items]

    def refresh_signals(self) -> dict[str, int]:
        with self._tx("refreshing cross-ad signals") as conn:
            return sqlite_signals.refresh(conn)

    def signal_reasons(self, ad_id: str) -> dict[str, list[str]]:
        return self._read(lambda c: sqlite_signals.reasons(c, ad_id), f"signals of {ad_id!r}")

    def stats(self) -> dict[str, int]:
        return self._read(sqlite_read.stats, "stats")

    # ------------------------------------------------------------------ assessments
    def set_assessment(self, ad_id: str, user: str, label: str, note: str,
                       at: datetime | None = None) -> Assessment:
        when = at or datetime.now(UTC)
        with self._tx(f"assessing ad {ad_id!r}") as conn:
            return sqlite_assessments.set_assessment(conn, ad_id, user, label, note, when)

    def assessments(self, ad_id: str) -> list[Assessment]:
        return self._read(lambda c: sqlite_assessments.assessments(c, ad_id),
                          f"assessments of {ad_id!r}")

    def iter_assessments(self) -> Iterator[Assessment]:
        with self._borrow() as conn:
            yield from sqlite_assessments.iter_assessments(conn)

    def aggregates(self, themes: tuple[str, ...] | None = None, since: date | None = None,
                   until: date | None = None) -> Aggregates:
        from indexer.store import sqlite_aggregates

        return self._read(lambda c: sqlite_aggregates.aggregates(c, themes, since, until),
                          "dashboard aggregates")

    def close(self) -> None:
        with self._lock:
            idle, self._idle, self._all = self._idle, [], []
            self._closed = True
            apart, self._apart = self._apart, None
        if apart is not None:
            apart.shutdown(wait=True)  # its connection is given back, then closed
        for conn in idle:  # connections in use close when given back
            conn.close()

    def __enter__(self) -> SqliteStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"SqliteStore({self.path!r})"
