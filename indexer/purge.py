"""Retention: what is due for purge, per theme, and the purge itself (store + archive).

Retention is per theme. The default is the ``retention_days`` setting (five years); a
``retention.yaml`` in the data folder may set other days per theme::

    themes:
      trafficking: 1826
      pilot-2026: 90

A purge deletes, per source, the captures fetched longer ago than its theme's retention,
then versions and ads left empty (see Store.purge), then their WARC records and the
images nobody shows any more (indexer.archive.purge). Ads under legal hold are kept.
The records and photos due are written down in the archive before the store lets go of
them, so that a purge that fails or is killed in between is finished by the next.
Writing the audit record is the caller's job (the CLI): the indexer never imports webui.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import yaml

from indexer.model import SourceInfo
from indexer.store.purge_types import PurgeResult

RETENTION_FILE = "retention.yaml"


class RetentionError(ValueError):
    """A retention file or purge request that cannot be used; the message names it."""


@dataclass(frozen=True)
class Policy:
    default_days: int
    themes: dict[str, int] = field(default_factory=dict)

    def days(self, theme: str) -> int:
        return self.themes.get(theme, self.default_days)


@dataclass(frozen=True)
class Target:
    source_id: str
    theme: str
    before: datetime | None  # None: everything (a wipe)


@dataclass
class PurgeReport:
    results: list[PurgeResult]
    archive: Any = None  # ArchivePurgeResult when the archive was purged
    dry_run: bool = False

    @property
    def totals(self) -> dict[str, int]:
        return {"captures": sum(len(r.captures) for r in self.results),
                "versions": sum(r.versions for r in self.results),
                "ads": sum(r.ads for r in self.results),
                "images": sum(len(r.images) for r in self.results),
                "held": sum(r.held for r in self.results)}


def load_policy(path: str | Path, default_days: int) -> Policy:
    """The policy from ``path`` if it exists, else the default for every theme."""
    p = Path(path)
    if default_days < 1:
        raise RetentionError(f"retention_days must be at least 1, not {default_days}")
    if not p.exists():
        return Policy(default_days)
    try:
        data = yaml.safe_load(p.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise RetentionError(f"{p}: not valid YAML: {exc}") from exc
    themes = data.get("themes", {}) if isinstance(data, dict) else None
    if not isinstance(themes, dict):
        raise RetentionError(f"{p}: expected 'themes:' mapping theme names to days")
    out: dict[str, int] = {}
    for theme, days in themes.items():
        if isinstance(days, bool) or not isinstance(days, int) or days < 1:
            raise RetentionError(f"{p}: theme {theme!r}: days must be a whole number ≥ 1, "
                                 f"not {days!r}")
        out[str(theme)] = days
    return Policy(default_days, out)


def targets(sources: list[SourceInfo], policy: Policy, now: datetime, *, theme: str = "",
            source: str = "", older_than: int | None = None, wipe: bool = False
            ) -> list[Target]:
    """Which sources to purge and from when: one Target per source selected."""
    if wipe and not (theme or source):
        raise RetentionError("--wipe needs --theme or --source: refusing to wipe everything")
    if older_than is not None and older_than < 0:
        raise RetentionError(f"--older-than must be ≥ 0 days, not {older_than}")
    known = {s.id for s in sources}
    if source and source not in known:
        raise RetentionError(f"unknown source {source!r}; known: {', '.join(sorted(known))}")
    if theme and theme not in {s.theme for s in sources}:
        raise RetentionError(f"no source has theme {theme!r}")
    out = []
    for s in sorted(sources, key=lambda s: s.id):
        if (theme and s.theme != theme) or (source and s.id != source):
            continue
        days = older_than if older_than is not None else policy.days(s.theme)
        out.append(Target(s.id, s.theme, None if wipe else now - timedelta(days=days)))
    return out


class ArchiveStepFailed(RuntimeError):
    """The store let go of the captures due, then the archive step failed: their records
    stay written down (indexer.archive.purge.note_records) for the next purge, and
    ``report`` says what the store's part did."""

    def __init__(self, report: PurgeReport, cause: Exception) -> None:
        super().__init__(f"{cause} (the store's part is done; run `adtrace purge --yes` "
                         "again to take the records out of the archive)")
        self.report = report


def run(store: Any, archive_root: str | Path | None, chosen: list[Target],
        dry_run: bool) -> PurgeReport:
    """Purge each target from the store, then its records and images from the archive.

    The archive is held alone from before the store is touched (indexer.archive.lock):
    while a crawl writes to it, ArchiveBusy is raised and nothing is purged. A lost pack
    index is found then too (image_packs.PackIndexLost, nothing purged): found only at
    the image step, the store would have let go of captures and photos already. A
    failure of the archive step (a WARC file due for purge damaged inside) is
    ArchiveStepFailed, with what was written down left for the next purge."""
    from indexer.archive import image_packs
    from indexer.archive import lock as archive_lock
    from indexer.archive import purge as archive_purge
    from indexer.archive.reader import ArchiveError

    if dry_run or archive_root is None or not Path(archive_root).exists():
        return PurgeReport([store.purge(t.source_id, t.before, dry_run=dry_run)
                            for t in chosen], dry_run=dry_run)
    with archive_lock.held(archive_root, alone=True):
        image_packs.require_index(archive_root)
        archive_purge.resume(archive_root, store)  # before a note: its offsets are the old
        finished = _finish_pending(store, archive_root)
        report = PurgeReport([*finished, *(_purge_store(store, archive_root, t)
                                            for t in chosen)])
        caps = [(c.warc_file, c.warc_offset) for r in report.results for c in r.captures]
        try:
            report.archive = archive_purge.purge_records(archive_root, caps, store)
        except ArchiveError as exc:
            failed: ArchiveError | None = exc
            report.archive = archive_purge.ArchivePurgeResult()
        else:
            failed = None
        # the photos go whatever became of the records: their note holds crawls back
        report.archive.deleted_images = archive_purge.delete_images(
            archive_root, sorted({h for r in report.results for h in r.images}))
        if failed is not None:
            raise ArchiveStepFailed(report, failed) from failed
        return report


def _purge_store(store: Any, root: str | Path, target: Target) -> PurgeResult:
    """One target out of the store, its records and photos written down first: once the
    store has let go of a capture nothing else names its record, so a purge that fails
    or is killed after it would leave the record archived for good. A dry run says what
    is due; the note is then set to what the store really let go (a hold set meanwhile
    keeps its ad), or, if the store failed, to what it no longer shows."""
    from indexer.archive import purge as archive_purge

    before = archive_purge.noted_records(root)
    due = store.purge(target.source_id, target.before, dry_run=True)
    archive_purge.note_records(root, _places(due), (target.source_id, target.before))
    try:
        done = store.purge(target.source_id, target.before, dry_run=False)
    except BaseException:  # Ctrl-C too: the store's transaction is rolled back
        still = _places(store.purge(target.source_id, target.before, dry_run=True))
        archive_purge.set_noted_records(root, [*before, *(_places(due) - still)])
        raise
    archive_purge.set_noted_records(root, [*before, *_places(done)])
    archive_purge.note_images(root, done.images)
    return done


def _finish_pending(store: Any, root: str | Path) -> list[PurgeResult]:
    """The store purge a killed purge wrote its note for, run again (it takes what is
    still due; a hold set since keeps its ad): killed before it committed, the store
    still holds the captures the note names, and their records must not go while it
    does. The note then keeps what the store let go, then or now, and drops the records
    of ads under hold (those alone the store can still hold once it has run again)."""
    from indexer.archive import purge as archive_purge

    pending = archive_purge.pending_purge(root)
    if pending is None:
        return []
    source_id, before, places = pending
    done = store.purge(source_id, before, dry_run=False)
    held = _held_places(store) & set(places)
    archive_purge.set_noted_records(
        root, [*(set(archive_purge.noted_records(root)) - held), *_places(done)])
    archive_purge.note_images(root, done.images)
    return [done]


def _held_places(store: Any) -> set[tuple[str, int]]:
    """The records the captures of ads under legal hold are in."""
    out: set[tuple[str, int]] = set()
    for hold in store.holds():
        ad = store.get_ad(hold.ad_id)
        for version in ad.versions if ad is not None else ():
            out |= {(c.warc_file, c.warc_offset) for c in version.captures}
    return out


def _places(result: PurgeResult) -> set[tuple[str, int]]:
    return {(c.warc_file, c.warc_offset) for c in result.captures}
