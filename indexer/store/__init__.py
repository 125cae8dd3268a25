"""Storage backends behind one contract (``indexer.store.base.Store``)."""

from __future__ import annotations

from pathlib import Path

from indexer.store.base import Store, StoreError


def open_store(url: str, create: bool = True) -> Store:
    """A path (or ``sqlite:///path``) → SqliteStore; ``http(s)://`` → ElasticStore.

    The Elasticsearch client is imported only when asked for, so the embedded default
    needs nothing beyond the standard library. ``create=False`` (commands that only read)
    refuses a SQLite file that is not there: a mistyped path would otherwise be made,
    empty, and every search would answer "0 ads".
    """
    if not url or not url.strip():
        raise StoreError("no store given: set ADTRACE_STORE to a SQLite path or an http(s):// URL")
    url = url.strip()
    if url.startswith(("http://", "https://")):
        from adtrace import settings
        from indexer.store.elastic import ElasticStore

        return ElasticStore(url, prefix=settings.get("es_prefix"))
    if url.startswith("sqlite:///"):
        url = url[len("sqlite:///"):]
    if "://" in url:
        raise StoreError(f"store {url!r}: use a SQLite file path or an http(s):// Elasticsearch URL")
    if not create and not Path(url).is_file():
        raise StoreError(f"store {url}: no such file (ADTRACE_STORE, or ADTRACE_DATA_DIR for "
                         "its folder; a crawl or the demo makes it)")
    from adtrace import settings
    from indexer.store.sqlite import SqliteStore

    return SqliteStore(url, facet_time_limit_ms=int(settings.get("facet_time_limit_ms")),
                       count_limit=int(settings.get("search_count_limit")))


__all__ = ["Store", "StoreError", "open_store"]
