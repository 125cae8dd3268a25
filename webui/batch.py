"""Batch search: one entry per line (phone numbers in any format, or search terms), the
matches per entry. Numbers are looked up as identifiers (every ad that ever carried the
number); anything else runs as a search query. Both respect the user's theme wall.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Any

from indexer.search.parse import normalize_phone, parse_args
from indexer.search.query import Hit, QueryError
from webui.accounts import User
from webui.alerts import visible_phone_hits

MAX_ENTRIES = 200
MAX_ENTRY = 300
SHOWN = 5  # links per entry; the count is always the full count
_NUMBER_RE = re.compile(r"^[\d\s+().\-/]{6,40}$")


class BatchError(ValueError):
    pass


@dataclass(frozen=True)
class BatchRow:
    entry: str
    kind: str  # phone | search | error
    value: str  # E.164 for a phone, the query text for a search
    count: int
    hits: tuple[Hit, ...]
    error: str = ""
    more: bool = False  # the store stopped counting at count: more than this many


def entries(text: str) -> list[str]:
    """Non-empty lines, trimmed, duplicates dropped, in order; too many is an error."""
    lines = [" ".join(line.split()) for line in text.splitlines()]
    unique = list(dict.fromkeys(line for line in lines if line))
    if not unique:
        raise BatchError("list: paste or upload at least one number or term, one per line")
    if len(unique) > MAX_ENTRIES:
        raise BatchError(f"list: at most {MAX_ENTRIES} entries at a time (got {len(unique)})")
    too_long = [e for e in unique if len(e) > MAX_ENTRY]
    if too_long:
        raise BatchError(f"entry {too_long[0][:40]!r}…: at most {MAX_ENTRY} characters")
    return unique


def decode_upload(raw: bytes, filename: str) -> str:
    """An uploaded list as text: UTF-8 (with or without BOM), else Latin-1; a CSV's
    first column."""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("latin-1")
    if "\x00" in text:
        raise BatchError(f"file {filename[:80]!r}: not a text file")
    if filename.lower().endswith(".csv"):
        text = "\n".join(line.split(",")[0].split(";")[0].strip('" ')
                         for line in text.splitlines())
    return text


def run_entry(store: Any, entry: str, user: User) -> BatchRow:
    phone = normalize_phone(entry) if _NUMBER_RE.match(entry) else None
    if phone:
        hits = visible_phone_hits(store, phone, user)
        return BatchRow(entry, "phone", phone, len(hits), tuple(hits[:SHOWN]))
    try:
        query = replace(parse_args({"q": entry}), themes=user.visible_themes,
                        per_page=SHOWN, facets=(), sort="newest")
        result = store.search(query)
    except QueryError as exc:
        return BatchRow(entry, "error", entry, 0, (), str(exc))
    return BatchRow(entry, "search", entry, result.total, result.hits,
                    more=result.total_is_lower_bound)


def run_batch(store: Any, text: str, user: User) -> list[BatchRow]:
    return [run_entry(store, e, user) for e in entries(text)]
