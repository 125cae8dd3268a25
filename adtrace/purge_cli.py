"""``adtrace purge`` (retention), ``adtrace hold add|remove|list`` (legal hold) and
``adtrace spool replay`` (faults: what a crawl kept while the store was down).

The purge writes an audit record (action ``purge``) through webui.audit, since the
indexer never imports webui. A purge that deletes needs ``--yes`` or ``--dry-run``:
deleting evidence by accident cannot be undone.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from datetime import UTC, datetime

from adtrace.audit_cli import record
from adtrace.cli import CommandError

SAMPLE = 10


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("purge", help="delete what is older than its theme's retention")
    p.add_argument("--theme", default="", help="only sources of this theme")
    p.add_argument("--source", default="", help="only this source")
    p.add_argument("--older-than", type=int, default=None, metavar="DAYS",
                   help="instead of the retention (retention.yaml / retention_days)")
    p.add_argument("--wipe", action="store_true", help="everything of --theme or --source")
    p.add_argument("--dry-run", action="store_true", help="list what would go, delete nothing")
    p.add_argument("--yes", action="store_true", help="really delete (required without --dry-run)")
    p.set_defaults(func=run_purge)
    h = sub.add_parser("hold", help="legal hold: held ads are never purged")
    hs = h.add_subparsers(dest="hold_cmd", required=True)
    add = hs.add_parser("add", help="put an ad under legal hold")
    add.add_argument("ad_id")
    add.add_argument("--reason", required=True, help="case number or order")
    add.set_defaults(func=run_hold_add)
    rm = hs.add_parser("remove", help="lift a legal hold")
    rm.add_argument("ad_id")
    rm.set_defaults(func=run_hold_remove)
    ls = hs.add_parser("list", help="ads under legal hold")
    ls.set_defaults(func=run_hold_list)
    sp = sub.add_parser("spool", help="observations kept while the store was unavailable")
    sps = sp.add_subparsers(dest="spool_cmd", required=True)
    rp = sps.add_parser("replay", help="write the spool to the store")
    rp.add_argument("--spool", default="",
                    help="spool file (default: spool.jsonl beside the archive folder)")
    rp.add_argument("--quiet", action="store_true", help="no progress on stderr")
    rp.set_defaults(func=run_spool_replay)


def _store():  # noqa: ANN202 - a Store
    from adtrace import settings
    from indexer.store import open_store
    from indexer.store.base import StoreError

    try:
        return open_store(settings.store_url())
    except StoreError as exc:
        raise CommandError(str(exc)) from exc


def run_purge(args: argparse.Namespace) -> int:
    from adtrace import settings
    from indexer import purge
    from indexer.archive.image_packs import PackIndexLost
    from indexer.archive.lock import ArchiveBusy

    if not args.dry_run and not args.yes:
        raise CommandError("purge deletes evidence for good: add --yes, or --dry-run to see "
                           "what would go")
    try:
        policy = purge.load_policy(settings.data_dir() / purge.RETENTION_FILE,
                                   settings.get("retention_days"))
    except purge.RetentionError as exc:
        raise CommandError(str(exc)) from exc
    store = _store()
    try:
        try:
            chosen = purge.targets(store.sources(), policy, datetime.now(UTC),
                                   theme=args.theme, source=args.source,
                                   older_than=args.older_than, wipe=args.wipe)
        except purge.RetentionError as exc:
            raise CommandError(str(exc)) from exc
        scope = {"theme": args.theme, "source": args.source, "older_than": args.older_than,
                 "wipe": args.wipe}
        target = args.source or args.theme or "retention"
        if not args.dry_run:  # in the log before anything goes: a purge that dies is too
            record("purge", target, {**scope, "phase": "started"})
        try:
            report = purge.run(store, settings.archive_dir(), chosen, args.dry_run)
        except (ArchiveBusy, PackIndexLost) as exc:  # refused before anything was purged
            if not args.dry_run:
                record("purge", target, {**scope, "phase": "refused", "reason": str(exc)})
            raise CommandError(str(exc)) from exc
        except purge.ArchiveStepFailed as exc:  # the store's part is done: said, then why
            _print(exc.report)
            record("purge", target, {**scope, **_done(exc.report), "phase": "archive failed",
                                     "reason": str(exc)})
            raise CommandError(str(exc)) from exc
        journal_lines = 0 if args.dry_run else _purge_journals(store, chosen)
    finally:
        store.close()
    _print(report)
    if not args.dry_run:
        if journal_lines:
            print(f"journals of killed crawls: took out {journal_lines} lines")
        record("purge", target, {**scope, "phase": "done", **_done(report),
                                 "journal_lines": journal_lines})
    return 0


def _purge_journals(store, chosen) -> int:  # noqa: ANN001 - a Store, indexer.purge.Target
    """What the purge took out of the archive, out of the journals killed crawls left too
    (crawler.journal.purge): they hold what the ads said. A source being crawled now is
    said and passed over (its crawl replays and deletes the journals it finds)."""
    from adtrace import settings
    from crawler import journal
    from crawler.source_lock import SourceBusy

    held = {h.ad_id for h in store.holds()}
    lines = 0
    for t in chosen:
        try:
            lines += journal.purge(settings.archive_dir(), t.source_id, t.before, held)
        except SourceBusy as exc:
            print(f"journals of {t.source_id} not purged: {exc}", file=sys.stderr)
    return lines


def _done(report) -> dict[str, object]:  # noqa: ANN001 - indexer.purge.PurgeReport
    """What the audit record of a purge says it did."""
    per_source: dict[str, int] = {}  # a source twice: a killed purge's, finished first
    for r in report.results:
        per_source[r.source_id] = per_source.get(r.source_id, 0) + len(r.captures)
    return {**report.totals, "per_source": per_source,
            "archive_records": report.archive.removed_records if report.archive else 0}


def _print(report) -> None:  # noqa: ANN001 - indexer.purge.PurgeReport
    verb = "would delete" if report.dry_run else "deleted"
    for r in report.results:
        since = "everything" if r.before is None else f"before {r.before:%Y-%m-%d}"
        print(f"{r.source_id} ({since}): {verb} {len(r.captures)} captures, {r.versions} "
              f"versions, {r.ads} ads, {len(r.images)} images; {r.held} held ads kept")
        for ad_id in r.ad_ids[:SAMPLE]:
            print(f"    ad {ad_id}")
        if len(r.ad_ids) > SAMPLE:
            print(f"    … and {len(r.ad_ids) - SAMPLE} more ads")
    t = report.totals
    print(f"total: {verb} {t['captures']} captures, {t['versions']} versions, {t['ads']} ads")
    if report.archive is not None:
        a = report.archive
        print(f"archive: removed {a.removed_records} records, rewrote {len(a.rewritten)} "
              f"files, deleted {len(a.deleted_files)} files and {len(a.deleted_images)} "
              f"images; kept {a.kept_for_revisits} records still needed by revisits")
        for problem in a.unread:  # in files none of whose records were due: left as they are
            print(f"archive: not read, left as it is (see adtrace archive verify): {problem}")


def run_hold_add(args: argparse.Namespace) -> int:
    store = _store()
    try:
        if store.get_ad(args.ad_id) is None:
            raise CommandError(f"no ad {args.ad_id!r} in the store")
        new = store.set_hold(args.ad_id, args.reason, getpass.getuser(), datetime.now(UTC))
    finally:
        store.close()
    print(f"ad {args.ad_id} {'is now' if new else 'was already'} under legal hold")
    if new:
        record("hold_add", args.ad_id, {"reason": args.reason})
    return 0


def run_hold_remove(args: argparse.Namespace) -> int:
    store = _store()
    try:
        if args.ad_id not in {h.ad_id for h in store.holds()}:
            raise CommandError(f"ad {args.ad_id!r} is not under legal hold")
        record("hold_remove", args.ad_id, {})  # logged before the hold goes, not after
        store.release_hold(args.ad_id)
    finally:
        store.close()
    print(f"legal hold on ad {args.ad_id} lifted")
    return 0


def run_hold_list(args: argparse.Namespace) -> int:
    store = _store()
    try:
        for h in store.holds():
            print(f"{h.ad_id}\t{h.held_at:%Y-%m-%d}\t{h.held_by}\t{h.reason}")
    finally:
        store.close()
    return 0


def run_spool_replay(args: argparse.Namespace) -> int:
    from adtrace import settings
    from adtrace.progress import Progress
    from indexer.ingest import Ingestor
    from indexer.spool import SPOOL_FILE, NotASpool, Spool

    spool = Spool(args.spool or settings.archive_dir().parent / SPOOL_FILE)
    if spool.path.is_dir():
        raise CommandError(f"--spool {spool.path}: a folder, not a spool file")
    if not len(spool):
        print(f"spool {spool.path}: empty")
        return 0
    store = _store()
    bar = None if args.quiet else Progress("spool replay", len(spool), "lines")
    try:
        result = spool.replay(Ingestor(store), named=bool(args.spool),
                              on_line=(lambda done, total: bar.advance()) if bar else None)
    except NotASpool as exc:
        raise CommandError(f"--spool {exc}") from exc
    finally:
        store.close()
        if bar is not None:
            bar.close()
    print(f"spool {spool.path}: replayed {result.replayed}, left {result.left}, "
          f"damaged {result.damaged}" + (f" (moved to {spool.damaged_path})"
                                         if result.damaged else ""))
    if result.left:
        raise CommandError(f"store still failing, {result.left} spooled lines kept: "
                           f"{result.error}")
    return 0
