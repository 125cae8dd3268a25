"""The ingest pipeline's work, wherever it runs: images completed, ads enriched and
stored, or spooled while the store is down.

``IngestCore`` runs in the ingest worker process (crawler.ingest_worker), beside the
Scrapy reactor, so the crawl uses a second core; or in the crawl process itself when no
worker runs. It never talks to Scrapy: it takes items and returns an ``Outcome`` (the
counters to add and the errors to record, each with its URL), which the pipeline
applies to the crawl's stats and run record.

Order is kept: ads and removals are handled in the order they came, a removal after
every ad before it. Crash safety is the crawler's: every page and image is in the WARC
before its item reaches this class, and what the spider read from each page is in the
run's journal (crawler.journal) until this class notes it done, so the next crawl of the
source hands over what a kill lost before anything else (crawler.journal_replay). On
Elasticsearch, which has no transactions, a write killed half-way is undone or finished
by the next crawl of the source, as it opens the store (``Store.finish_cut_writes``),
and what else it left is mended by the ad's next write (indexer.store.elastic).
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from crawler.items import AdItem, RemovalItem
from crawler.journal import Journal, removal_key
from indexer.archive import lock as archive_lock
from indexer.crawl_runs import run_begun
from indexer.model import ImageRef, Observation, SourceInfo, WriteResult, from_iso, to_iso

log = logging.getLogger(__name__)


@dataclass
class Outcome:
    """What a piece of work did: counters (``adtrace/<key>``) and errors (URL, reason)."""

    counts: dict[str, int] = field(default_factory=dict)
    errors: list[tuple[str, str]] = field(default_factory=list)

    def count(self, key: str, n: int = 1) -> None:
        self.counts[key] = self.counts.get(key, 0) + n


class IngestCore:
    """Opens the store (or, when it is unavailable, the spool) for one source."""

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> IngestCore:
        """From the JSON-ready config the pipeline builds (also sent to the worker)."""
        return cls(config["store_url"], config["archive_dir"], config["spool"],
                   SourceInfo(**config["source_info"]), config.get("run_started", ""),
                   config.get("journal", ""))

    def __init__(self, store_url: str, archive_dir: str, spool_path: str | Path,
                 info: SourceInfo, run_started: str = "", journal: str = "") -> None:
        """``run_started``: the crawl run's start (ISO), recorded as begun when the store
        opens (crawl_runs.run_begun); "" records nothing. ``journal``: the run's journal
        (crawler.journal), where each batch written is noted done ("": none)."""
        self.store_url = store_url
        self.archive_dir = archive_dir
        self.spool_path = Path(spool_path)
        self.info = info
        self.run_started = run_started
        self.store: Any = None
        self.ingestor: Any = None
        self.spool: Any = None
        self._archive_lock: int | None = None  # images go into the archive: no purge meanwhile
        self._held: set[str] = set()  # site ad ids with lines left in the spool (_hold_back)
        self._held_why = ""
        # with its header: the first line may be this side's (a replayed batch noted done)
        self.journal = (Journal(journal, info.id, from_iso(run_started) if run_started else None)
                        if journal else None)

    @property
    def spooling(self) -> bool:
        return self.ingestor is None

    def open(self, on_replayed: Callable[[int, int], None] | None = None) -> str:
        """Open the store and replay the spool (``on_replayed(done, total)`` after each of
        its lines); returns a line for the log ("" if none)."""
        from indexer.ingest import Ingestor
        from indexer.spool import Spool
        from indexer.store import open_store
        from indexer.store.base import StoreError

        self._archive_lock = archive_lock.hold_shared(self.archive_dir)
        self.spool = Spool(self.spool_path)
        try:
            self.store = open_store(self.store_url)
            if self.run_started:  # as the crawl process did (crawler.process.begin_run)
                self.store.record_crawl_run(run_begun(self.info.id, from_iso(self.run_started)))
            self.ingestor = Ingestor(self.store)
            self.ingestor.register_source(self.info)
        except StoreError as exc:
            log.error("store unavailable, spooling to %s: %s", self.spool.path, exc)
            if self.store is not None:
                self.store.close()
            self.store = self.ingestor = None
            self.spool.add_source(self.info)
            return ""
        self._finish_killed_runs()
        replayed = self.spool.replay(self.ingestor, on_line=on_replayed)
        if replayed.left:
            self._hold_back(replayed.error)
        if replayed.replayed or replayed.left:
            return (f"spool {self.spool.path}: replayed {replayed.replayed}, "
                    f"{replayed.left} left {replayed.error}"
                    + (f"; {len(self._held)} ad(s) of {self.info.id} in it are spooled "
                       "after their lines" if self._held else ""))
        return ""

    def _hold_back(self, error: str) -> None:
        """The replay stopped part-way (the store failed again, a busy store, a 429, a
        line it refuses): this run's observations and removals of the ads still in the
        spool go to the spool too, after their lines. Written to the store now, an ad's
        newer observation would be followed, at the next replay, by its older spooled
        one: history out of order, and a version the page already had made again. The
        other ads are written as usual (one line the store refuses must not keep every
        crawl out of it)."""
        self._held = self.spool.pending_ads(self.info.id)
        self._held_why = (f"spooled after its older spooled lines (the spool could not be "
                          f"replayed whole: {error})")[:400]
        if self._held:
            log.error("spool %s could not be replayed whole: %d ad(s) of %s in it are spooled "
                      "after their lines this run", self.spool.path, len(self._held),
                      self.info.id)
            self.spool.add_source(self.info)

    def _finish_killed_runs(self) -> None:
        """Before this crawl writes: mend what killed runs of the source left in the store
        (crawler.cut_writes). A store that fails here is said, and the mend stays owed to
        the next crawl; this one goes on."""
        from crawler.cut_writes import finish_killed_runs
        from indexer.store.base import StoreError

        if not self.run_started:
            return
        try:
            done = finish_killed_runs(self.store, self.info.id, self.archive_dir,
                                      from_iso(self.run_started), self.spool)
        except StoreError as exc:
            log.error("%s: the writes a killed crawl cut short are not mended (the next "
                      "crawl tries again): %s", self.info.id, exc)
            return
        if done is not None and (done[1].dropped_versions or done[1].finished_writes):
            log.warning("%s, crawl killed since %s: %s", self.info.id, to_iso(done[0]),
                        done[1].describe())

    def close(self) -> None:
        if self.journal is not None:
            self.journal.close()
        if self.store is not None:
            self.store.close()
            self.store = None
        archive_lock.release(self._archive_lock)
        self._archive_lock = None

    # ------------------------------------------------------------------ work
    def ads(self, batch: list[AdItem]) -> Outcome:
        """Write a batch of ads; a failing batch is retried one ad at a time so one bad ad
        costs only itself (counted as an error with its URL). Then the batch is noted
        done in the run's journal."""
        out = self._write_ads(batch)
        if self.journal is not None:
            self.journal.done([item.capture.id for item in batch])
        return out

    def _write_ads(self, batch: list[AdItem]) -> Outcome:
        out = Outcome()
        observations = []
        for item in batch:
            try:
                obs = _obs(item, self.archive_dir)
            except OSError as exc:  # the image copy could not be written
                out.errors.append((item.url, f"could not store its images: {exc}"))
                continue
            if item.images_failed and self.store is not None:
                obs = self._with_images_kept(obs, item.images_failed)
            if obs.site_ad_id in self._held:
                self._to_spool(obs, out)
                out.errors.append((obs.url, self._held_why))
                continue
            observations.append(obs)
        if not observations:
            return out
        if self.ingestor is None:
            for obs in observations:
                self._to_spool(obs, out)
            return out
        try:
            results = self.ingestor.ingest_many(observations)
        except Exception as exc:  # noqa: BLE001 - fall back to one by one, below
            log.warning("batch of %d failed (%s); writing one by one", len(observations), exc)
            for obs in observations:
                self._ingest_one(obs, out)
            return out
        for result in results:
            _tally(result, out)
        return out

    def _with_images_kept(self, obs: Observation,
                          failed: tuple[tuple[int, tuple[str, ...]], ...]) -> Observation:
        """``obs`` with, at its place, each photo the ad's latest stored version had from
        an address whose download failed this run (the photo is in the archive already).
        A failed photo's addresses are its URL, then where it last redirected to (a ref
        names the address its photo was fetched from): the first the version had wins.

        Without it, an unchanged page whose photo answered 503 once would make a version
        without the photo, and the next run another with it: two versions the page
        never had. A photo the ad never had stored is left out (nothing to show for
        it), and its next download makes the version that shows it. While the store is
        down (the spool) nothing is kept: the ad is written as observed."""
        try:
            ad = self.store.get_ad(obs.ad_id)
        except Exception as exc:  # noqa: BLE001 - the ad is written as observed
            log.warning("could not read ad %s to keep its photos: %s", obs.ad_id, exc)
            return obs
        latest = ad.current if ad is not None else None
        if latest is None:
            return obs
        had = {ref.source_url: ref for ref in latest.fields.images}
        images = list(obs.fields.images)
        kept = 0  # photos put back so far: each later place moves on by one
        for place, addresses in failed:
            ref = next((had[a] for a in addresses if a in had), None)
            if ref is not None and all((i.sha256, i.source_url) != (ref.sha256, ref.source_url)
                                       for i in images):
                images.insert(place + kept, ref)
                kept += 1
        return dataclasses.replace(obs, fields=dataclasses.replace(obs.fields,
                                                                   images=tuple(images)))

    def removal(self, item: RemovalItem) -> Outcome:
        out = Outcome()
        if self.ingestor is None or item.site_ad_id in self._held:
            self.spool.add_removal(item.source_id, item.site_ad_id, item.at, item.reason)
            out.count("spooled")
        elif self.ingestor.mark_removed(item.source_id, item.site_ad_id, item.at, item.reason):
            out.count("removed")
        if self.journal is not None:
            self.journal.done([removal_key(item.site_ad_id, item.at)])
        return out

    def _ingest_one(self, obs: Observation, out: Outcome) -> None:
        from indexer.store.base import StoreError

        try:
            _tally(self.ingestor.ingest(obs), out)
        except StoreError as exc:
            log.error("store failed writing %s, spooled: %s", obs.url, exc)
            self._to_spool(obs, out)
        except Exception as exc:  # noqa: BLE001 - counted per source, the crawl goes on
            out.errors.append((obs.url, f"could not store: {exc}"))

    def _to_spool(self, obs: Observation, out: Outcome) -> None:
        """Keep ``obs`` until the store is back; it was seen all the same (whether it is
        new or changed is known only when it is stored)."""
        self.spool.add(obs)
        out.count("spooled")
        out.count("ads_seen")


def _tally(result: WriteResult, out: Outcome) -> None:
    out.count("ads_seen")
    if result.new_ad:
        out.count("new_ads")
    elif result.new_version:
        out.count("new_versions")
    else:
        out.count("unchanged")


def _obs(item: AdItem, archive_dir: str) -> Observation:
    fields = item.fields
    if item.images_pending:
        fields = dataclasses.replace(fields, images=tuple(dict.fromkeys(
            complete_image(archive_dir, ref, item.image_bodies.get(ref.sha256))
            for ref in fields.images)))
    return Observation(source_id=item.source_id, site_ad_id=item.site_ad_id, url=item.url,
                       capture=item.capture, fields=fields)


def complete_image(archive_dir: str, ref: ImageRef, body: bytes | None) -> ImageRef:
    """The full ImageRef of an image the crawl archived in its WARC: stored under its hash
    and inspected (phash, size) from ``body``, or, for an image an earlier ad of the run
    carried, from what the archive remembers of it."""
    from indexer.archive.images import describe_stored, store_image

    if body is not None:
        return store_image(archive_dir, body, ref.source_url, ref.content_type)
    known = describe_stored(archive_dir, ref.sha256, ref.source_url, ref.content_type)
    return known if known is not None else ref
