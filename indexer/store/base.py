"""The store contract: one protocol, several backends, one contract test suite.

Rules every backend keeps (tests/contract checks them against each):
- Writes are idempotent: the same capture written twice changes nothing.
- A capture whose content fingerprint equals the ad's current version only extends
  that version's last seen (an observation); a different fingerprint makes a new
  version. Versions are never rewritten or deleted (except by purge, and a version no
  ad ever claimed, which a killed write left: finish_cut_writes).
- A removed ad is marked (when, why), never deleted; if it is seen again after its
  removal it is live again with its history intact. A capture older than the removal (a
  spooled write replayed after it) joins the history and leaves the ad removed. A
  removal older than the ad's last sighting is stale and changes nothing, so a removal
  replayed (a spool replayed again) never ends a return.
- An ad's url and last seen are its latest sighting's: an older capture moves neither back.
- Ids are deterministic (see indexer.model) so concurrent writers agree.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol, runtime_checkable

from indexer.assessment import Assessment
from indexer.crawl_runs import CrawlRun
from indexer.model import (
    AdRecord,
    Capture,
    Enrichment,
    LiveAd,
    Observation,
    SourceInfo,
    WriteResult,
)
from indexer.search.query import Hit, Query, SearchResult
from indexer.store.aggregates import Aggregates
from indexer.store.entity_summary import EntitySummary, Suppression
from indexer.store.purge_types import Hold, PurgeResult
from indexer.store.source_history import SourceRevision


class StoreError(RuntimeError):
    """The backend failed (down, full, corrupt); the message names the backend."""


@dataclass(frozen=True)
class Mended:
    """What ``finish_cut_writes`` did after a killed crawl."""

    dropped_versions: int = 0  # created by a write cut before its claim, claimed by no ad
    finished_writes: int = 0  # claimed, then cut: follow-ups and capture record written
    # ads seen since whose capture at their last seen this archive does not hold (fetched
    # into another archive?) or cannot read: nothing to rebuild a record from; left alone
    not_in_archive: int = 0

    def describe(self) -> str:
        return (f"{self.dropped_versions} unclaimed versions deleted, {self.finished_writes} "
                f"cut writes finished, {self.not_in_archive} ads seen then whose capture "
                "this archive lacks (left alone)")


class CaptureLookup(Protocol):
    """The archive's captures by (URL, time fetched): where the record of a write cut
    after its claim is rebuilt from (indexer.archive.lookup)."""

    def capture_id(self, url: str, at: datetime) -> str | None:
        """The id of the capture of ``url`` fetched at ``at`` (None: not archived), cheap:
        the store asks for every ad seen since the killed run began."""

    def capture(self, url: str, at: datetime) -> Capture | None:
        """That capture whole (None: not archived, or its record cannot be read)."""


@runtime_checkable
class Store(Protocol):
    def upsert_source(self, source: SourceInfo) -> None:
        """Register or update a source (name, theme, country) for labels and theme walls."""

    def sources(self) -> list[SourceInfo]: ...

    def write(self, obs: Observation, enrichment: Enrichment) -> WriteResult:
        """Store one fetched ad page and its enrichment; see the rules above."""

    def mark_removed(self, source_id: str, site_ad_id: str, at: datetime, reason: str) -> bool:
        """Mark an ad removed from its site. False (nothing changed) if unknown, already
        removed, or seen after ``at`` (a stale removal)."""

    def finish_cut_writes(self, source_id: str, since: datetime,
                          archive: CaptureLookup) -> Mended:
        """After a crawl of the source was killed (its run began at ``since``, and no
        crawl of the source runs now): leave the store as a store with transactions
        would have. SQLite has nothing to do (a cut write rolled back whole).
        Elasticsearch deletes each current version begun since then that no ad lists
        (the write stopped before its claim: the page is in the WARC and is written
        again when fetched again), and finishes each write stopped after its claim: the
        version before closed, the ad's versions told it is live, the current version's
        last seen extended, then the capture record written, rebuilt from ``archive``.
        Idempotent: run again (after a failure) it finishes what is left."""

    def live_ads(self, source_id: str) -> list[LiveAd]:
        """Ads of a source not marked removed: what a crawl must revisit, with the
        sections that listed each (``note_listed``), sorted."""

    def note_listed(self, source_id: str, listed: Mapping[str, Iterable[str]]) -> int:
        """Add to each ad of the source (by site ad id) the register sections whose
        listings showed it (strings, opaque here), kept with the ad for good: removals
        by absence ask which sections an ad belongs to. Unknown ads are passed over.
        Returns how many ads gained a section."""

    def get_ad(self, ad_id: str, themes: tuple[str, ...] | None = None) -> AdRecord | None:
        """One ad with every version (oldest first) and the captures behind each.
        Theme walls (indexer.store.theme_walls): None if its source's theme is not in
        ``themes`` (None: no wall) — the same answer as for an unknown ad."""

    def search(self, query: Query) -> SearchResult: ...

    def ads_for_identifier(self, kind: str, value: str,
                           themes: tuple[str, ...] | None = None) -> list[Hit]:
        """Every ad that ever carried this identifier (phone E.164, email, handle, …),
        in any version, newest first; only ads of sources of ``themes`` (None: all)."""

    def ads_showing_image(self, sha256: str, themes: tuple[str, ...] | None = None,
                          limit: int = 20) -> list[str]:
        """Ids of up to ``limit`` ads that ever showed the image (in any version, in no
        particular order); only ads of sources of ``themes`` (None: all). Whether a user
        may see a photo, without loading every ad a photo used a thousand times has."""

    def iter_ads(self, themes: tuple[str, ...] | None = None) -> Iterator[AdRecord]:
        """Every ad with all versions, captures and enrichment: the bulk export; only ads
        of sources of ``themes`` (None: all)."""

    def source_history(self, source_id: str) -> list[SourceRevision]:
        """The register entry of a source as it changed, oldest first (revision 1: when it
        was registered). ``upsert_source`` records a revision only when a field changed."""

    def aggregates(self, themes: tuple[str, ...] | None = None, since: date | None = None,
                   until: date | None = None) -> Aggregates:
        """Dashboard figures for ads online in [since, until] (UTC days; open ends come
        from the data), limited to sources of the given themes (None: all); see
        indexer.store.aggregates for what each figure counts."""

    def set_assessment(self, ad_id: str, user: str, label: str, note: str,
                       at: datetime | None = None) -> Assessment:
        """Record an analyst's judgement (label yes / no / unsure, see indexer.assessment).
        Kept as history; the newest one is the ad's ``assessment`` facet value.
        ValueError for a bad label or note, KeyError for an unknown ad."""

    def assessments(self, ad_id: str) -> list[Assessment]:
        """Every judgement of one ad, newest first."""

    def iter_assessments(self) -> Iterator[Assessment]:
        """Every judgement ever made, oldest first: the labelled-data export."""

    def record_crawl_run(self, run: CrawlRun) -> None:
        """Record what one crawl of one source did (indexer.crawl_runs). Idempotent: the
        run id is (source, started), so recording the same run again replaces it."""

    def crawl_runs(self, source_id: str | None = None, limit: int = 50) -> list[CrawlRun]:
        """Recorded crawl runs, newest started first (one source, or all)."""

    def purge(self, source_id: str, before: datetime | None,
              dry_run: bool = False) -> PurgeResult:
        """Retention: delete the source's captures fetched before ``before`` (all of them
        if None), then versions left with no capture, then ads left with no version. Ads
        under legal hold are kept whole. A dry run changes nothing and reports the same.
        The result names the purged captures' WARC records and the images no version
        shows any more, for indexer.purge to remove them from the archive."""

    def relocate_captures(self, moves: Mapping[str, tuple[str, int, int]]) -> int:
        """After the archive rewrote WARC files: capture id → (file, offset, length) of
        its record now. Idempotent (keyed by capture id). Returns how many were known."""

    def set_hold(self, ad_id: str, reason: str, by: str, at: datetime) -> bool:
        """Put an ad under legal hold (never purged); False if already held."""

    def release_hold(self, ad_id: str) -> bool:
        """Lift a legal hold; False if the ad was not held."""

    def holds(self) -> list[Hold]:
        """Every ad under legal hold, by ad id."""

    def entity_summary(self, kind: str, value: str,
                       themes: tuple[str, ...] | None = None) -> EntitySummary:
        """One identifier (phone in any format, email, handle, url) across all time: its
        ads, sites, places over time, names, co-occurring identifiers, activity per day
        and week (indexer.store.entity_summary), limited to sources of ``themes``."""

    def suppress_extraction(self, target_id: str, kind: str, value: str, user: str,
                            reason: str, at: datetime | None = None) -> bool:
        """Mark an extraction wrong: (ad of ad/version ``target_id``, kind, value) stops
        linking anywhere (ads_for_identifier, facets, field search, summaries), also in
        later versions; the enrichment is kept. False if already in force; KeyError for an
        unknown id, ValueError for a bad kind, empty reason or a value the ad never carried."""

    def unsuppress(self, target_id: str, kind: str, value: str, user: str, reason: str,
                   at: datetime | None = None) -> bool:
        """Lift a correction (history kept) and link again; False if none was in force."""

    def suppressions(self, ad_id: str | None = None,
                     themes: tuple[str, ...] | None = None) -> list[Suppression]:
        """Corrections in force, newest first (one ad's, or all within ``themes``)."""

    def update_enrichment(self, version_id: str, enrichment: Enrichment) -> bool:
        """Replace one version's enrichment (reindex after a catalogue change): its
        identifier links, facets, risk and language follow; fields, captures and
        fingerprint are untouched; corrections stay in force. False if unknown."""

    def refresh_signals(self) -> dict[str, int]:
        """Recompute the cross-ad signals (indexer.signals) over every stored ad, so that
        ``signal:<name>`` and the ``signal`` facet answer from them. Returns ads per signal.
        Run after a batch of writes (a crawl, a reindex): signals depend on every ad."""

    def signal_reasons(self, ad_id: str) -> dict[str, list[str]]:
        """Why an ad carries each of its signals, as of the last refresh_signals."""

    def stats(self) -> dict[str, int]:
        """Counts of ads, versions, captures, removed ads (for status lines and tests)."""

    def close(self) -> None: ...
