"""``adtrace enrich``: see what the pipeline makes of a text.

Reads ads from a file or standard input and prints one JSON line per ad: the
``Enrichment`` with its risk score. Input is plain text (one ad per line, or the whole
input as one ad with ``--whole``) or JSON lines with ``text`` (and optionally ``title``,
``attributes``, ``country``, ``id``); a line that starts with ``{`` is read as JSON.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from adtrace.cli import CommandError


def register(sub: Any) -> None:
    p = sub.add_parser("enrich", help="enrich ad texts and print each result as a JSON line",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("file", nargs="?", default="-", help="input file ('-' or none: standard input)")
    p.add_argument("--country", default="NL",
                   help="source country (ISO alpha-2) when a line names none; default NL")
    p.add_argument("--whole", action="store_true", help="read the whole input as one ad")
    p.add_argument("--catalogue", type=Path, default=None, help="indicator catalogue YAML")
    p.add_argument("--batch-size", type=int, default=64, help="ads per nlp.pipe batch")
    p.set_defaults(func=run)


def _items(fh: IO[str], name: str, country: str, whole: bool,
           bad: list[int]) -> Iterator[tuple[int, Any, str, Any]]:
    """(line number, id, country, AdFields) per ad.

    A malformed JSON line is reported on standard error with its number and skipped, so
    the good lines around it are still enriched; ``bad`` collects the numbers.
    """
    from indexer.model import AdFields

    if whole:
        yield 1, None, country, AdFields(text=fh.read())
        return
    for lineno, line in enumerate(fh, 1):
        line = line.rstrip("\r\n")
        if not line.strip():
            continue
        if not line.lstrip().startswith("{"):
            yield lineno, None, country, AdFields(text=line)
            continue
        try:
            obj = json.loads(line)
            if not isinstance(obj, dict):
                raise ValueError("a JSON line must be an object")
            attrs = obj.get("attributes") or {}
            if not isinstance(attrs, dict):
                raise ValueError("'attributes' must be an object")
            fields = AdFields(title=str(obj.get("title") or ""), text=str(obj.get("text") or ""),
                              attributes={str(k): str(v) for k, v in attrs.items()})
        except ValueError as exc:
            print(f"adtrace enrich: {name}, line {lineno}: {exc}", file=sys.stderr)
            bad.append(lineno)
            continue
        yield lineno, obj.get("id"), str(obj.get("country") or country), fields


def run(args: argparse.Namespace) -> int:
    from indexer.enrich.catalogue import CatalogueError
    from indexer.enrich.pipeline import Enricher

    if args.batch_size < 1:
        raise CommandError(f"--batch-size {args.batch_size}: must be at least 1")
    try:
        enricher = Enricher(args.catalogue)
    except CatalogueError as exc:
        raise CommandError(str(exc)) from None
    if args.file == "-":
        return _enrich_stream(enricher, sys.stdin, "standard input", args)
    try:
        fh = open(args.file, encoding="utf-8", errors="replace")  # noqa: SIM115 - closed below
    except OSError as exc:
        raise CommandError(f"{args.file}: {exc.strerror}") from None
    with fh:
        return _enrich_stream(enricher, fh, args.file, args)


def _enrich_stream(enricher: Any, fh: IO[str], name: str, args: argparse.Namespace) -> int:
    from indexer.model import to_dict

    batch = 1 if fh.isatty() else args.batch_size
    meta: list[tuple[int, Any]] = []
    bad: list[int] = []

    def feed() -> Iterator[tuple[Any, str]]:
        for lineno, ad_id, country, fields in _items(fh, name, args.country, args.whole, bad):
            meta.append((lineno, ad_id))
            yield fields, country

    for i, enrichment in enumerate(enricher.enrich_many(feed(), batch_size=batch)):
        lineno, ad_id = meta[i]
        out = {"line": lineno, **({"id": ad_id} if ad_id is not None else {}),
               "risk_score": enrichment.risk_score, **to_dict(enrichment)}
        print(json.dumps(out, ensure_ascii=False), flush=batch == 1)
    if bad:
        raise CommandError(f"{name}: {len(bad)} line(s) could not be read and were skipped: "
                           + ", ".join(map(str, bad[:20])))
    return 0
