"""Storage backends behind one contract (``indexer.store.base.Store``)."""

from __future__ import annotations

from indexer.store.base import Store, StoreError


def open_store(url: str) -> Store:
    """A path (or ``sqlite:///path``) → SqliteStore; ``http(s)://`` → ElasticStore.

    The Elasticsearch client is imported only when asked for, so the embedded default
    needs nothing beyond the standard library.
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
    from adtrace import settings
    from indexer.store.sqlite import SqliteStore

    return SqliteStore(url, facet_time_limit_ms=int(settings.get("facet_time_limit_ms")),
                       count_limit=int(settings.get("search_count_limit")))


__all__ = ["Store", "StoreError", "open_store"]
