"""Reindex: rebuild enrichment (or a whole store) from what is archived, no re-crawl.

Every capture of every stored version is read back from the WARC archive (its digest
checked) and its fields re-extracted with the source's selectors (the crawler's pure
``crawler.extract``; this layer may use both crawler and indexer, the indexer may not).

- In place (``Reindexer.in_place``): each version's enrichment is replaced with one made
  by the current catalogue (``Store.update_enrichment``). The enriched text is the stored
  version's own fields, so evidence spans stay true offsets into the stored document; the
  re-extraction proves the archive still says the same, and a difference is reported.
- To another store (``Reindexer.copy_to``): every archived capture is written again as an
  observation with its re-extracted fields, so the target applies the version rules
  itself. Idempotent (capture ids are deterministic) and resumable: captures the target
  already holds are skipped without being enriched again.

A capture whose record is missing or fails its digest is reported by file@offset and
skipped; an ad whose source file is gone is enriched from its stored fields, and said so.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from crawler.extract import fields_of, strip_scripts
from crawler.source import Source
from indexer.archive import ArchiveError, read_capture
from indexer.model import AdFields, AdRecord, Capture, Enrichment, Observation, VersionRecord
from indexer.store.base import Store

MAX_PROBLEMS_KEPT = 1000


@dataclass
class ReindexReport:
    versions: int = 0  # re-enriched in place
    captures_read: int = 0  # read back from the archive, digest checked
    written: int = 0  # captures written to the target store
    new_versions: int = 0  # versions the target made
    already: int = 0  # captures the target already held (resumed)
    removed: int = 0  # removals carried over
    problems: list[str] = field(default_factory=list)  # file@offset: why (skipped)
    notes: list[str] = field(default_factory=list)  # re-enriched from stored fields, …
    signals: dict[str, int] = field(default_factory=dict)

    def problem(self, text: str) -> None:
        if len(self.problems) < MAX_PROBLEMS_KEPT:
            self.problems.append(text)

    def summary(self) -> str:
        parts = [f"{k}={getattr(self, k)}" for k in
                 ("versions", "captures_read", "written", "new_versions", "already", "removed")]
        parts += [f"skipped_captures={len(self.problems)}", f"notes={len(self.notes)}"]
        return " ".join(parts)


class Reextractor:
    """Archived page → fields, with the selectors of the ad's source."""

    def __init__(self, archive_dir: str | Path, sources: dict[str, Source]) -> None:
        self.archive_dir = Path(archive_dir)
        self.sources = sources

    def fields(self, ad: AdRecord, version: VersionRecord, cap: Capture) -> AdFields:
        """The fields the source's selectors read from the archived capture today; images
        are the version's own (content-addressed in the archive, never re-fetched).
        Raises ArchiveError (missing, unreadable, digest mismatch) naming file@offset."""
        from scrapy.http import HtmlResponse

        record = read_capture(self.archive_dir, cap)
        source = self.sources[ad.source_id]
        headers = [(k, v) for k, v in record.headers if k.lower() != "content-encoding"]
        response = HtmlResponse(url=cap.url, body=record.decoded(), headers=dict(headers))
        title, text, attributes = fields_of(strip_scripts(response.selector), source)
        return AdFields(title=title, text=text, attributes=attributes, images=version.fields.images)


class Reindexer:
    def __init__(self, store: Store, enricher: Any, reextractor: Reextractor,
                 countries: dict[str, str], batch: int = 200,
                 on_progress: Callable[[int], None] = lambda n: None) -> None:
        self.store = store
        self.enricher = enricher
        self.rx = reextractor
        self.countries = countries
        self.batch = max(1, batch)
        self.progress = on_progress
        self.report = ReindexReport()

    # ------------------------------------------------------------------ helpers
    def _reextract(self, ad: AdRecord, version: VersionRecord, cap: Capture) -> AdFields | None:
        """Fields from the archive, or None (reported) when the record cannot be used."""
        try:
            fields = self.rx.fields(ad, version, cap)
        except ArchiveError as exc:
            self.report.problem(f"{exc} (capture {cap.id} of {cap.url}): skipped")
            return None
        self.report.captures_read += 1
        return fields

    def _source_known(self, ad: AdRecord, seen: set[str]) -> bool:
        if ad.source_id in self.rx.sources:
            return True
        if ad.source_id not in seen:
            seen.add(ad.source_id)
            self.report.notes.append(
                f"source {ad.source_id!r}: no source file, so fields cannot be re-extracted; "
                f"its ads are re-enriched from their stored fields")
        return False

    def _enrich(self, items: list[tuple[AdFields, str]]) -> list[Enrichment]:
        out = list(self.enricher.enrich_many(items, batch_size=64))
        if len(out) != len(items):
            raise RuntimeError(f"enricher returned {len(out)} enrichments for {len(items)} ads")
        return out

    # ------------------------------------------------------------------ in place
    def in_place(self) -> ReindexReport:
        """Re-enrich every stored version with the current catalogue."""
        pending: list[tuple[str, AdFields, str]] = []
        no_source: set[str] = set()
        for ad in self.store.iter_ads():
            known = self._source_known(ad, no_source)
            for version in ad.versions:
                if known:
                    self._check_version(ad, version)
                pending.append((version.id, version.fields, self.countries.get(ad.source_id, "")))
                if len(pending) >= self.batch:
                    self._update(pending)
                    pending = []
        self._update(pending)
        return self.report

    def _check_version(self, ad: AdRecord, version: VersionRecord) -> None:
        """Read every capture back; say so when today's extraction differs from the store."""
        readable = 0
        for cap in version.captures:
            fields = self._reextract(ad, version, cap)
            if fields is None:
                continue
            readable += 1
            if fields.fingerprint() != version.fingerprint:
                self.report.notes.append(
                    f"ad {ad.id} version {version.seq}: the selectors now read different fields "
                    f"from {cap.warc_file}@{cap.warc_offset}; its stored fields were re-enriched "
                    f"(reindex --to rebuilds versions from the archive)")
        if version.captures and not readable:
            self.report.notes.append(f"ad {ad.id} version {version.seq}: no capture readable; "
                                     f"re-enriched from its stored fields")

    def _update(self, pending: list[tuple[str, AdFields, str]]) -> None:
        if not pending:
            return
        enrichments = self._enrich([(f, c) for _, f, c in pending])
        items = [(vid, enr) for (vid, _, _), enr in zip(pending, enrichments, strict=True)]
        many = getattr(self.store, "update_enrichment_many", None)  # one commit per batch
        done = many(items) if callable(many) else [self.store.update_enrichment(v, e) for v, e in items]
        for (vid, _), ok in zip(items, done, strict=True):
            if ok:
                self.report.versions += 1
            else:
                self.report.problem(f"version {vid}: vanished from the store while reindexing")
        self.progress(len(pending))

    # ------------------------------------------------------------------ to another store
    def copy_to(self, target: Store) -> ReindexReport:
        """Write every archived capture of every ad into ``target``; see the module doc."""
        for source in self.store.sources():
            target.upsert_source(source)
        batch: list[tuple[Observation, AdFields, str]] = []
        removals: list[AdRecord] = []
        no_source: set[str] = set()
        for ad in self.store.iter_ads():
            batch += self._observations(ad, target, no_source)
            if ad.removed_at is not None:
                removals.append(ad)
            if len(batch) >= self.batch:
                self._write(target, batch, removals)
                batch, removals = [], []
        self._write(target, batch, removals)
        return self.report

    def _observations(self, ad: AdRecord, target: Store, no_source: set[str]
                      ) -> Iterator[tuple[Observation, AdFields, str]]:
        have = target.get_ad(ad.id)
        held = {c.id for v in (have.versions if have else ()) for c in v.captures}
        known = self._source_known(ad, no_source)
        country = self.countries.get(ad.source_id, "")
        for version in ad.versions:
            for cap in version.captures:
                if cap.id in held:
                    self.report.already += 1
                    self.progress(1)
                    continue
                fields = self._reextract(ad, version, cap) if known else version.fields
                if fields is None:
                    self.progress(1)
                    continue
                obs = Observation(ad.source_id, ad.site_ad_id, cap.url, cap, fields)
                yield obs, fields, country

    def _write(self, target: Store, batch: list[tuple[Observation, AdFields, str]],
               removals: list[AdRecord]) -> None:
        if batch:
            enrichments = self._enrich_distinct(batch)
            pairs = list(zip((o for o, _, _ in batch), enrichments, strict=True))
            write_many = getattr(target, "write_many", None)
            results = write_many(pairs) if callable(write_many) else [target.write(o, e) for o, e in pairs]
            self.report.written += sum(not r.duplicate_capture for r in results)
            self.report.already += sum(r.duplicate_capture for r in results)
            self.report.new_versions += sum(r.new_version for r in results)
            self.progress(len(batch))
        for ad in removals:
            if ad.removed_at and target.mark_removed(ad.source_id, ad.site_ad_id, ad.removed_at,
                                                     ad.removed_reason):
                self.report.removed += 1

    def _enrich_distinct(self, batch: list[tuple[Observation, AdFields, str]]) -> list[Enrichment]:
        """Enrich each distinct (document, country) once: an unchanged ad revisited many
        times is one text, however many captures it has."""
        keys = [(f.document(), c) for _, f, c in batch]
        first: dict[tuple[str, str], int] = {}
        for i, key in enumerate(keys):
            first.setdefault(key, i)
        order = list(first.values())
        made = dict(zip(order, self._enrich([(batch[i][1], batch[i][2]) for i in order]), strict=True))
        return [made[first[key]] for key in keys]

