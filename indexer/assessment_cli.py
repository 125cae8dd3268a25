"""``adtrace assessments``: the analysts' judgements as labelled data (JSON lines).

Each line is one judgement (ad, user, label, note, time) with the ad's version that was
current when it was made, so the labels can train or test a model later without
guessing which text the analyst saw.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import IO, Any

from adtrace.cli import CommandError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("assessments", help="export analysts' assessments as labelled data")
    p.add_argument("--out", default="-", help="JSON lines file to write (default: standard output)")
    p.add_argument("--label", action="append", choices=["yes", "no", "unsure"], default=[],
                   help="only these labels (repeatable)")
    p.add_argument("--latest", action="store_true",
                   help="only the newest judgement of each ad (the one the facet counts)")
    p.add_argument("--with-text", action="store_true",
                   help="add the title and text of the version current at the time")
    p.set_defaults(func=run_export)


def labelled(store: Any, labels: list[str], latest: bool, with_text: bool) -> list[dict[str, Any]]:
    """The export rows, oldest first; each names the version the analyst saw."""
    rows = list(store.iter_assessments())
    if latest:
        newest: dict[str, Any] = {}
        for a in rows:
            newest[a.ad_id] = a
        rows = sorted(newest.values(), key=lambda a: a.at)
    out = []
    ads: dict[str, Any] = {}
    for a in rows:
        if labels and a.label not in labels:
            continue
        if a.ad_id not in ads:
            ads[a.ad_id] = store.get_ad(a.ad_id)
        record = ads[a.ad_id]
        seen = [v for v in (record.versions if record else ()) if v.first_seen <= a.at]
        version = seen[-1] if seen else None
        row = {**a.to_json(), "version_id": version.id if version else "",
               "version_seq": version.seq if version else 0,
               "source_id": record.source_id if record else ""}
        if with_text and version is not None:
            row["title"], row["text"] = version.fields.title, version.fields.text
        out.append(row)
    return out


def _write(fh: IO[str], rows: list[dict[str, Any]]) -> None:
    for row in rows:
        fh.write(json.dumps(row, ensure_ascii=False) + "\n")


def run_export(args: argparse.Namespace) -> int:
    from adtrace.audit_cli import record
    from indexer.cli import _open

    store = _open()
    try:
        rows = labelled(store, args.label, args.latest, args.with_text)
    finally:
        store.close()
    record("export", args.out, {"format": "labels", "rows": len(rows), "label": args.label,
                                "with_text": args.with_text, "interface": "cli"})
    if args.out == "-":
        _write(sys.stdout, rows)
    else:
        from adtrace import settings
        from adtrace.output_file import OutputRefused, written_whole

        try:
            with written_whole(args.out, settings.archive_dir()) as fh:
                _write(fh, rows)
        except OutputRefused as exc:
            raise CommandError(f"--out {exc}") from exc
        except OSError as exc:
            raise CommandError(f"--out {args.out}: cannot write: {exc.strerror}") from exc
    print(f"exported {len(rows)} assessments", file=sys.stderr)
    return 0
