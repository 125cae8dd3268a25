"""``adtrace search``, ``adtrace export``, ``adtrace stats``: the index from the shell.

The store comes from ``adtrace.settings.store_url()`` (ADTRACE_STORE / data_dir).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from typing import IO, Any

from adtrace.cli import CommandError
from adtrace.terminal import json_line


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("search", help="search the index like the web UI does")
    p.add_argument("query", nargs="?", default="", help='query text, e.g. \'"new in town" city:utrecht\'')
    p.add_argument("--filter", "-f", action="append", default=[], metavar="FACET=VALUE",
                   help="facet filter, repeatable (site=…, city=…, phone=…, risk=high …)")
    p.add_argument("--from", dest="date_from", default="", metavar="DAY", help="first seen on or after")
    p.add_argument("--to", dest="date_to", default="", metavar="DAY", help="first seen on or before")
    p.add_argument("--as-of", default="", metavar="DAY", help="the ads as they stood at the end of DAY")
    p.add_argument("--sort", default="relevance", help="relevance | newest | oldest | risk")
    p.add_argument("--limit", type=int, default=20, help="hits to show (1–200)")
    p.add_argument("--json", action="store_true", help="JSON lines: one hit a line, then facets")
    p.set_defaults(func=run_search)

    p = sub.add_parser("export", help="every ad with all versions, captures and enrichment")
    p.add_argument("--format", choices=["jsonl"], default="jsonl")
    p.add_argument("--out", default="-", help="file to write (default: standard output)")
    p.set_defaults(func=run_export)

    p = sub.add_parser("stats", help="counts of sources, ads, versions, captures, removed ads")
    p.set_defaults(func=run_stats)


def _open() -> Any:
    """The store, for commands that only read it (a file that is not there is refused)."""
    from adtrace import settings
    from indexer.store import StoreError, open_store

    try:
        return open_store(settings.store_url(), create=False)
    except StoreError as exc:
        raise CommandError(str(exc)) from exc


def _args_for(args: argparse.Namespace) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {"q": [args.query], "sort": [args.sort], "per_page": [str(args.limit)]}
    for key, value in (("from", args.date_from), ("to", args.date_to), ("as_of", args.as_of)):
        if value:
            out[key] = [value]
    for item in args.filter:
        facet, sep, value = item.partition("=")
        if not sep or not facet.strip():
            raise CommandError(f"--filter {item!r}: write it as FACET=VALUE, e.g. city=Utrecht")
        out.setdefault(f"f.{facet.strip()}", []).append(value.strip())
    return out


def run_search(args: argparse.Namespace) -> int:
    from adtrace.audit_cli import record
    from indexer.model import to_dict
    from indexer.search.parse import parse_args, query_to_args
    from indexer.search.query import QueryError
    from indexer.store.base import StoreError

    try:
        query = parse_args(_args_for(args))
    except QueryError as exc:
        raise CommandError(str(exc)) from exc
    store = _open()
    try:
        result = store.search(query)
    except StoreError as exc:
        raise CommandError(str(exc)) from exc
    finally:
        store.close()
    record("search", query.text, {"args": query_to_args(query), "total": result.total,
                                  "interface": "cli"})
    if args.json:
        for h in result.hits:
            print(json_line({"hit": to_dict(h)}))
        print(json_line({"total": result.total, "total_is_lower_bound": result.total_is_lower_bound,
                         "order_sampled": result.order_sampled, "facets": to_dict(result.facets)}))
        return 0
    more = "more than " if result.total_is_lower_bound else ""
    print(f"{more}{result.total} ads match ({result.took_ms:.0f} ms); showing {len(result.hits)}")
    if result.order_sampled:
        print(f"  (sorted among the first {result.query.count_limit} matches found, the most "
              "recently recorded; set ADTRACE_SEARCH_COUNT_LIMIT higher to sort more)")
    for h in result.hits:
        removed = " REMOVED" if h.removed_at else ""
        print(f"{h.ad_id}  {h.source_id:<12} {h.first_seen:%Y-%m-%d}  risk {h.risk_score:<4} "
              f"{', '.join(h.phones) or '-'}  {_clip(h.title)}{removed}")
    for f in result.facets:
        shown = ", ".join(f"{v.label} ({v.count})" for v in f.values)
        note = " (timed out)" if f.timed_out else " …" if f.truncated else ""
        note += f" (over the first {result.query.count_limit} matches)" if f.sampled else ""
        print(f"  {f.label}: {shown or '-'}{note}")
    return 0


def _clip(text: str, width: int = 60) -> str:
    """One line of untrusted ad text, safe for a terminal (no control characters)."""
    clean = "".join(ch if ch.isprintable() else " " for ch in text)
    return clean if len(clean) <= width else clean[: width - 1] + "…"


def run_export(args: argparse.Namespace) -> int:
    from adtrace.audit_cli import record
    from indexer.model import to_dict

    store = _open()
    target: Any = sys.stdout if args.out == "-" else None
    n = 0

    def ads() -> Iterator[dict[str, Any]]:
        nonlocal n
        for ad in store.iter_ads():
            yield to_dict(ad)
            n += 1

    try:
        with (nullcontext(target) if target else _open_out(args.out)) as fh:
            try:
                _write_jsonl(fh, ads())
            finally:  # every ad of every theme: in the log however it ended
                record("export", args.out, {"format": "jsonl", "ads": n, "interface": "cli"})
    finally:
        store.close()
    print(f"exported {n} ads", file=sys.stderr)
    return 0


@contextmanager
def _open_out(path: str) -> Iterator[IO[str]]:
    """The export's file, whole or not at all, never over the store or the archive."""
    from adtrace import settings
    from adtrace.output_file import OutputRefused, written_whole

    try:
        with written_whole(path, settings.archive_dir()) as fh:
            yield fh
    except OutputRefused as exc:
        raise CommandError(f"--out {exc}") from exc
    except OSError as exc:
        raise CommandError(f"--out {path}: cannot write: {exc.strerror}") from exc


def _write_jsonl(fh: IO[str], records: Any) -> int:
    n = 0
    for rec in records:
        fh.write(json.dumps(rec, ensure_ascii=False) + "\n")
        n += 1
    return n


def run_stats(args: argparse.Namespace) -> int:
    from indexer.store.base import StoreError

    store = _open()
    try:
        counts = store.stats()
    except StoreError as exc:
        raise CommandError(str(exc)) from exc
    finally:
        store.close()
    for key, value in counts.items():
        print(f"{key:<10} {value}")
    return 0
