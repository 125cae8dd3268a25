"""How a bounded search reads its matches: walk in sample order, or list the rarest.

The store keeps at most count_limit matches of a search, in an order SQLite walks
without sorting (indexer.search.sql.sample_order). With entity conditions (a place, a
number), it can either walk that order and check each row, stopping once it has enough,
or list the rows of the rarest condition and sort them. Which is cheaper follows from
the conditions' sizes, read from the kept totals (a lookup, not a count), and the
per-row costs below: thousands of CPU instructions, counted with callgrind on this store
at 100k ads (only their ratios matter; a count does not vary with the machine's load as
a timing does).

A walked entity condition is checked per row in one of two ways (entity_cond): a probe
of the entities index, or a lookup in the condition's versions listed once into a set
held in memory, which costs listing them but a third of a probe per row.
"""

from __future__ import annotations

import math
import sqlite3

from indexer.search.query import Query
from indexer.search.sql import HELD, Dense, count_limit, entity_filters, fts_expression
from indexer.search.sql_counted import KEPT_COLUMNS, compile_size, compile_total

STEP = 0.9  # one row of the walked index (full-text or newest-first)
PROBE = 3.0  # a probe of the entities index for one row
HELD_LOOKUP = 0.85  # a lookup in a set held in memory
HOLD = 1.5  # putting one version into that set
LIST = 12.5  # one listed match: version and ad looked up, sorted
LIST_TEXT = 150.0  # the same checked against the full-text index (a MATCH per row)


def dense_filters(conn: sqlite3.Connection, q: Query) -> Dense:
    """The conditions of q to check per row rather than list matches by: all its entity
    conditions, each probed or held, if walking in sample order is cheaper than listing;
    else, when an entity is rarer than a selected site, that site (so the rare entity
    drives, not the site's index, which SQLite would otherwise prefer).

    With the selections taken as independent, the walk reads about count_limit * n /
    prod(m) rows (n: current ads, m: each selection's size) to keep count_limit.
    """
    found = entity_filters(q)
    if not found:
        return frozenset()
    n = max(1, int(conn.execute(*compile_total(Query())).fetchone()[0]))  # every current ad
    # (size, the condition, whether an index can list it: entities and sites can)
    sizes = [(_size(conn, f"e:{kind}", values), (kind, values), True) for kind, values in found]
    sizes += [(_size(conn, f, v), (f, v), f == "site") for f, v in q.filters.items()
              if v and f in KEPT_COLUMNS]
    density = max(math.prod(m / n for m, _, _ in sizes), 1 / n)
    smallest, driver, _ = min(s for s in sizes if s[2])
    rows = min(n, count_limit(q) / density)
    held = {c for m, c, _ in sizes if c in found and m * HOLD < rows * (PROBE - HELD_LOOKUP)}
    walk = rows * (STEP + sum(HELD_LOOKUP if c in held else PROBE for c in found)) + sum(
        m * HOLD for m, c, _ in sizes if c in held)
    if walk < smallest * (LIST_TEXT if fts_expression(q) else LIST):
        return frozenset((kind, values, HELD) if (kind, values) in held else (kind, values)
                         for kind, values in found)
    sites = {c for _, c, _ in sizes if c[0] == "site"}
    return frozenset(sites) if driver not in sites else frozenset()


def _size(conn: sqlite3.Connection, key: str, values: tuple[str, ...]) -> int:
    return int(conn.execute(*compile_size(key, values)).fetchone()[0])
