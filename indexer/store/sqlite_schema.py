"""The SQLite schema: sources, ads, versions, captures, entities, absences, FTS5.

Why this shape:
- ``versions.valid_to`` is the next version's first seen (NULL for the current one), so
  "the version as it stood at the end of day D" is a plain range test.
- ``absences`` keeps every removal period (removed_at, returned_at), so an ad that was
  removed and came back still counts as gone on the days it was gone: "as of" answers
  never change after later crawls.
- ``entities`` has one row per (version, kind, value) for facets and identifier links;
  ``value`` compares case-insensitively (``city:utrecht`` finds "Utrecht").
- The FTS5 table uses the versions table as external content (title, body, attrs are
  search copies with the private highlight markers removed; the evidence itself is kept
  exactly in ``fields_json``).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence

from indexer.store.base import StoreError
from indexer.store.sqlite_wal import into_wal

# 2: the tables other store modules add (assessments, corrections, counts, source
# history, holds, signal reasons, image index) are made here at open, once, not each
# module checking for its own on every open or every call.
# 3: facet-count triggers append to facet_deltas, folded into facet_counts once per write
# transaction (sqlite_counts.flush); an older store's triggers are replaced on open and
# its counts, kept exact by them, are kept (no recount). Also facet_totals: the counts
# over all sources, summed once from the per-source ones (sqlite_totals).
# 4: ad_listings, the register sections that listed each ad (sqlite_listings).
SCHEMA_VERSION = 4
BUSY_TIMEOUT_S = 30.0  # a writer waits this long for another's write lock

MMAP_BYTES = 1 << 31  # address space, not memory: 2 GiB, SQLite's own cap in most builds

# Private-use characters that mark highlights in FTS5 snippets; stripped from the
# search copies of ad text so hostile content can never forge a highlight.
MARK_OPEN = "\ue000"
MARK_CLOSE = "\ue001"

DDL = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);

CREATE TABLE IF NOT EXISTS sources (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    theme TEXT NOT NULL,
    country TEXT NOT NULL,
    base_url TEXT NOT NULL,
    reason TEXT NOT NULL DEFAULT '',
    approved_by TEXT NOT NULL DEFAULT ''
);

CREATE TABLE IF NOT EXISTS ads (
    rowid INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    source_id TEXT NOT NULL,
    site_ad_id TEXT NOT NULL,
    url TEXT NOT NULL,
    first_seen TEXT NOT NULL,
    last_seen TEXT NOT NULL,
    removed_at TEXT,
    removed_reason TEXT NOT NULL DEFAULT '',
    current_rowid INTEGER,
    versions INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS ads_source ON ads(source_id, removed_at);
CREATE INDEX IF NOT EXISTS ads_first_seen ON ads(first_seen);

CREATE TABLE IF NOT EXISTS versions (
    rowid INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    ad_rowid INTEGER NOT NULL REFERENCES ads(rowid),
    seq INTEGER NOT NULL,
    fingerprint TEXT NOT NULL,
    first_seen TEXT NOT NULL,
    last_seen TEXT NOT NULL,
    valid_to TEXT,
    risk REAL NOT NULL DEFAULT 0,
    language TEXT NOT NULL DEFAULT '',
    -- the large columns last: SQLite reads a row's columns in order, so facets and
    -- filters on the small ones above never walk the text's overflow pages
    summary TEXT NOT NULL DEFAULT '{}',
    title TEXT NOT NULL,
    body TEXT NOT NULL,
    attrs TEXT NOT NULL,
    fields_json TEXT NOT NULL,
    enrichment_json TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS versions_ad ON versions(ad_rowid, seq);
CREATE INDEX IF NOT EXISTS versions_current ON versions(valid_to, risk);
CREATE INDEX IF NOT EXISTS versions_first_seen ON versions(first_seen);

CREATE TABLE IF NOT EXISTS captures (
    id TEXT PRIMARY KEY,
    version_rowid INTEGER NOT NULL REFERENCES versions(rowid),
    url TEXT NOT NULL,
    fetched_at TEXT NOT NULL,
    status INTEGER NOT NULL,
    sha256 TEXT NOT NULL,
    warc_file TEXT NOT NULL,
    warc_offset INTEGER NOT NULL,
    warc_length INTEGER NOT NULL,
    content_type TEXT NOT NULL,
    revisit_of TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS captures_version ON captures(version_rowid, fetched_at);

CREATE TABLE IF NOT EXISTS entities (
    kind TEXT NOT NULL,
    value TEXT NOT NULL COLLATE NOCASE,
    version_rowid INTEGER NOT NULL,
    ad_rowid INTEGER NOT NULL,
    PRIMARY KEY (version_rowid, kind, value)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS entities_value ON entities(kind, value, version_rowid, ad_rowid);

CREATE TABLE IF NOT EXISTS absences (
    ad_rowid INTEGER NOT NULL,
    removed_at TEXT NOT NULL,
    returned_at TEXT,
    reason TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS absences_ad ON absences(ad_rowid, removed_at);

CREATE VIRTUAL TABLE IF NOT EXISTS versions_fts USING fts5(
    title, body, attrs,
    content='versions', content_rowid='rowid',
    tokenize='unicode61 remove_diacritics 2'
);
"""


def connect(path: str) -> sqlite3.Connection:
    """Open one connection with the pragmas every connection needs.

    WAL lets the web UI read while a crawl writes (set as sqlite_wal.into_wal sets it: a
    new file that other processes open at once refuses it for a moment); busy_timeout
    makes a second writer wait instead of failing; isolation_level=None so transactions
    are explicit.
    """
    conn = sqlite3.connect(path, timeout=BUSY_TIMEOUT_S, isolation_level=None,
                           check_same_thread=False)
    conn.row_factory = sqlite3.Row
    try:
        into_wal(conn, BUSY_TIMEOUT_S)
    except BaseException:
        conn.close()
        raise
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("PRAGMA foreign_keys=OFF")
    conn.execute(f"PRAGMA busy_timeout={int(BUSY_TIMEOUT_S * 1000)}")
    conn.execute("PRAGMA cache_size=-65536")
    conn.execute("PRAGMA temp_store=MEMORY")  # the per-search match set
    # Reads through a memory map: a search's row and entity lookups at 1M ads are random
    # page reads, which cost a read() call each outside the page cache (2.4x slower).
    conn.execute(f"PRAGMA mmap_size={MMAP_BYTES}")
    return conn


def create(conn: sqlite3.Connection, path: str,
           parts: Sequence[Callable[[sqlite3.Connection], None]] = ()) -> None:
    """Create or upgrade the schema; refuse a database written by a newer adtrace.

    ``parts`` create the tables other store modules keep (each runs its statements
    inside this transaction). An up-to-date database is only read here (one query), so
    opening a store -- the web UI opens one per request -- does no schema work and never
    waits for a crawler that holds the write lock.
    """
    if _current(conn, path):
        return
    conn.execute("BEGIN IMMEDIATE")
    try:
        if not _current(conn, path):  # another process may have upgraded it meanwhile
            execute_all(conn, DDL)
            for part in parts:
                part(conn)
            conn.execute("INSERT INTO meta VALUES ('schema_version', ?) ON CONFLICT(key) "
                         "DO UPDATE SET value = excluded.value", (str(SCHEMA_VERSION),))
            # bumped by every write transaction: cached counts are valid for one generation only
            conn.execute("INSERT OR IGNORE INTO meta VALUES ('generation', '0')")
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise


def _current(conn: sqlite3.Connection, path: str) -> bool:
    version = _schema_version(conn)
    if version is not None and version > SCHEMA_VERSION:
        raise StoreError(f"{path}: schema version {version} is newer than this adtrace "
                         f"({SCHEMA_VERSION}); upgrade adtrace")
    return version == SCHEMA_VERSION


def execute_all(conn: sqlite3.Connection, script: str) -> None:
    """Run a DDL script statement by statement, inside the caller's transaction
    (``executescript`` would commit it)."""
    buf = ""
    for line in script.strip().splitlines():
        buf += line + "\n"
        if sqlite3.complete_statement(buf):
            conn.execute(buf)
            buf = ""


def _schema_version(conn: sqlite3.Connection) -> int | None:
    has_meta = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta'").fetchone()
    if not has_meta:
        return None
    row = conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    return int(row[0]) if row else None


def search_copy(text: str) -> str:
    """Text as indexed for search: the highlight markers removed, nothing else changed."""
    return text.replace(MARK_OPEN, "").replace(MARK_CLOSE, "")
