"""SqliteStore's dashboard aggregates, grouped in SQL.

Ads are grouped in SQLite by (key, first day, last online day) — sites from the ads
table, places, indicators and phones of the current version from the entity table —
so Python receives a few thousand rows instead of one per ad (100k ads: seconds become a fraction of one); the
counting is ``indexer.store.aggregates.from_groups``, shared with Elasticsearch, which
builds the same groups from per-ad rows. The window's open ends are resolved first, so
every query below (and the ranking of numbers) sees the same ads.
"""

from __future__ import annotations

import sqlite3
from datetime import date, timedelta

from indexer.model import from_iso
from indexer.store.aggregates import (
    TOP_NUMBERS,
    Aggregates,
    Groups,
    NumberActivity,
    from_groups,
    resolve_window,
)

END = "coalesce(a.removed_at, a.last_seen)"
BASE = "FROM ads a JOIN sources s ON s.id = a.source_id"
# the current version's identifiers, from the entity table (so an analyst's correction of a
# wrong extraction, which removes its entity rows, holds on the dashboard too)
ENTITY = ("FROM entities e JOIN ads a ON a.rowid = e.ad_rowid AND e.version_rowid = "
          "a.current_rowid JOIN sources s ON s.id = a.source_id")


def _where(themes: tuple[str, ...] | None, since: date | None,
           until: date | None) -> tuple[str, list[object]]:
    sql, params = " WHERE 1=1", []  # type: ignore[var-annotated]
    if themes is not None:
        sql += f" AND s.theme IN ({','.join('?' * len(themes))})"
        params += list(themes)
    if until is not None:  # ISO strings compare in time order
        sql += " AND a.first_seen < ?"
        params.append((until + timedelta(days=1)).isoformat())
    if since is not None:
        sql += f" AND {END} >= ?"
        params.append(since.isoformat())
    return sql, params


def _day(text: str | None) -> date | None:
    return date.fromisoformat(text[:10]) if text else None


def aggregates(conn: sqlite3.Connection, themes: tuple[str, ...] | None, since: date | None,
               until: date | None) -> Aggregates:
    if themes is not None and not themes:
        return from_groups(Groups(), *resolve_window(since, until, None, None))
    if since is None or until is None:
        where, params = _where(themes, since, until)
        first, last = conn.execute(f"SELECT min(a.first_seen), max({END}) {BASE}{where}",
                                   params).fetchone()
        since, until = resolve_window(since, until, _day(first), _day(last))
    else:
        since, until = resolve_window(since, until, None, None)
    where, params = _where(themes, since, until)
    groups = Groups()
    rows = conn.execute(
        f"SELECT a.source_id, substr(a.first_seen, 1, 10), substr({END}, 1, 10), "
        f"substr(a.removed_at, 1, 10), count(*) {BASE}{where} GROUP BY 1, 2, 3, 4", params)
    for source_id, start, end, removed, n in rows:
        groups.online["site"][(source_id, date.fromisoformat(start), date.fromisoformat(end))] += n
        if removed:
            groups.removed[date.fromisoformat(removed)] += n
    for by in ("place", "indicator"):
        rows = conn.execute(
            f"SELECT e.value, substr(a.first_seen, 1, 10), substr({END}, 1, 10), "
            f"count(*) {ENTITY}{where} AND e.kind = ? GROUP BY 1, 2, 3", [*params, by])
        for key, start, end, n in rows:
            groups.online[by][(str(key), date.fromisoformat(start), date.fromisoformat(end))] += n
    groups.numbers = tuple(NumberActivity(str(phone), n, sites, from_iso(first), from_iso(last))
                           for phone, n, sites, first, last in conn.execute(
        f"SELECT e.value, count(*) AS n, count(DISTINCT a.source_id), min(a.first_seen), "
        f"max(a.last_seen) {ENTITY}{where} AND e.kind = 'phone' "
        f"GROUP BY 1 ORDER BY n DESC, 1 LIMIT {TOP_NUMBERS}", [*params]))
    return from_groups(groups, since, until)
