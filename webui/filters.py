"""Jinja filters. Ad content is hostile: every piece of it is escaped before it becomes
Markup, and highlights are built only from escaped parts."""

from __future__ import annotations

from datetime import datetime

from flask import Flask
from markupsafe import Markup, escape

from indexer.search.query import Highlighted


def merge_ranges(ranges: tuple[tuple[int, int], ...], length: int) -> list[tuple[int, int]]:
    """Clip ranges to the text, drop empty ones and merge overlaps (backends may send both)."""
    clipped = sorted((max(0, s), min(length, e)) for s, e in ranges if min(length, e) > max(0, s))
    merged: list[tuple[int, int]] = []
    for start, end in clipped:
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def highlight(value: Highlighted | str | None) -> Markup:
    """Escape every piece of the text and wrap the matched ranges in <mark>."""
    if value is None:
        return Markup("")
    if isinstance(value, str):
        return escape(value)
    text = value.text
    parts: list[Markup] = []
    pos = 0
    for start, end in merge_ranges(tuple(value.ranges), len(text)):
        parts.append(escape(text[pos:start]))
        parts.append(Markup("<mark>") + escape(text[start:end]) + Markup("</mark>"))
        pos = end
    parts.append(escape(text[pos:]))
    return Markup("").join(parts)


def when(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """UTC times as analysts cite them; the zone is stated, never guessed."""
    if value is None:
        return ""
    return value.strftime(fmt) + " UTC"


def day(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d") if value else ""


def init_app(app: Flask) -> None:
    app.jinja_env.filters["highlight"] = highlight
    app.jinja_env.filters["when"] = when
    app.jinja_env.filters["day"] = day
