"""Text scores computed on a second connection while the first counts the facets.

FTS5's bm25 first counts, over the whole index, the documents each phrase of the query
matches (its IDF), whatever LIMIT the statement has: for a phrase of two common words at
a million ads that is about 110 ms, more than matching, keeping and counting the page's
facets together. On a machine with a second core the scores are therefore computed by a
second statement on its own connection (``compile_scores``: the same rows, in the same
order, with their scores) while the first keeps the matches unscored and counts the
facets; the scores are then copied into the match set. Both read the same data: each
reads the store's generation in its own read transaction, and the copy must reach every
kept row; otherwise the first connection scores its own rows after all.

Only for phrases, and from ``APART_MIN_ADS`` current ads: below, the count is short
(about 11 ms for a phrase at 100k ads), less than a second walk over the matches costs
a busy server, so it is done in line. A p50 measured at a million ads (count limit
5,000), phrase and place, on an idle 2-core machine: 210 ms in line, 183 ms apart; one
word: 60 ms in line, 70 apart.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable
from concurrent.futures import Future

from indexer.search.query import Query
from indexer.search.sql import Dense, Params, compile_scores, ranked
from indexer.search.sql_counted import compile_total

APART_MIN_ADS = 250_000
SCORES = "temp.adtrace_scores"

# (generation the rows were read at, [(vrow, score)]) of a statement run apart
Scored = tuple[str, list[tuple[int, float]]]
RunApart = Callable[[str, Params], "Future[Scored] | None"]  # None: no thread free


def worth_apart(conn: sqlite3.Connection, q: Query) -> bool:
    """True if q's page is ranked by text score, with a phrase, over enough ads that
    scoring on a second core shortens the search. A word's count only reads its list of
    documents (about 18 ms at a million ads): less than the second walk costs."""
    if not ranked(q) or not _has_phrase(q) or (os.cpu_count() or 1) < 2:
        return False
    return int(conn.execute(*compile_total(Query())).fetchone()[0]) >= APART_MIN_ADS


def _has_phrase(q: Query) -> bool:
    """True if a text term of q is a phrase of more than one word."""
    return any(t.kind == "phrase" and len(t.value.split()) > 1 and not t.field and not t.negate
               for c in q.clauses for t in c.terms)


def start(run: RunApart, q: Query, dense: Dense) -> Future[Scored] | None:
    """Start scoring the rows the page's match set will keep, on another connection
    (None if no thread is free for it: the page is then scored in line)."""
    return run(*compile_scores(q, dense))


def fill(conn: sqlite3.Connection, table: str, kept: int, generation: str,
         scored: Future[Scored]) -> bool:
    """Copy the scores into the kept match set; False (nothing copied) if they were read
    from other data, failed, or do not cover every kept row."""
    try:
        their_generation, rows = scored.result()
    except sqlite3.Error:
        return False
    if their_generation != generation:
        return False
    conn.execute(f"DROP TABLE IF EXISTS {SCORES}")
    conn.execute(f"CREATE TABLE {SCORES} (vrow INTEGER PRIMARY KEY, score REAL NOT NULL)")
    try:
        conn.executemany(f"INSERT OR REPLACE INTO {SCORES} VALUES (?, ?)", rows)
        cur = conn.execute(f"UPDATE {table} AS m SET score = s.score FROM {SCORES} AS s "
                           f"WHERE s.vrow = m.vrow")
        return cur.rowcount == kept
    finally:
        conn.execute(f"DROP TABLE IF EXISTS {SCORES}")
