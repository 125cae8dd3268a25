"""Ingest: observations from the crawler → enrichment → the store.

The crawler's pipelines call this and nothing else, so they never know which backend
or which enricher is behind it. Each observation is enriched with its source's country
as the default for phone numbers and places, so sources must be registered first.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from indexer.model import Enrichment, LiveAd, Observation, SourceInfo, WriteResult
from indexer.store.base import Store

if TYPE_CHECKING:
    from indexer.enrich.pipeline import Enricher


class UnknownSourceError(ValueError):
    """An observation names a source that was never registered."""


class Ingestor:
    """Enrich and store observations; the one door from the crawler into the index."""

    def __init__(self, store: Store, enricher: Enricher | Any | None = None) -> None:
        if enricher is None:
            from indexer.enrich.pipeline import Enricher

            enricher = Enricher()
        self.store = store
        self.enricher = enricher
        self._countries: dict[str, str] = {s.id: s.country for s in store.sources()}

    def register_source(self, info: SourceInfo) -> None:
        """Register (or update) a source in the store and remember its country."""
        self.store.upsert_source(info)
        self._countries[info.id] = info.country

    def _country(self, obs: Observation) -> str:
        try:
            return self._countries[obs.source_id]
        except KeyError:
            raise UnknownSourceError(
                f"observation of {obs.url!r} names source {obs.source_id!r}, which is not "
                f"registered; call register_source first") from None

    def ingest(self, obs: Observation) -> WriteResult:
        """Enrich one observation and write it (idempotent: a known capture changes nothing)."""
        enrichment = self.enricher.enrich(obs.fields, self._country(obs))
        return self.store.write(obs, enrichment)

    def ingest_many(self, observations: Sequence[Observation]) -> list[WriteResult]:
        """Enrich in batches (spaCy's nlp.pipe is much faster) and write in one transaction
        where the store offers ``write_many``; results are in input order."""
        if not observations:
            return []
        items = [(o.fields, self._country(o)) for o in observations]
        enrichments: list[Enrichment] = list(self.enricher.enrich_many(items))
        if len(enrichments) != len(observations):
            raise RuntimeError(f"enricher returned {len(enrichments)} enrichments for "
                               f"{len(observations)} observations")
        pairs = list(zip(observations, enrichments, strict=True))
        write_many = getattr(self.store, "write_many", None)
        if callable(write_many):
            return list(write_many(pairs))
        return [self.store.write(o, e) for o, e in pairs]

    def mark_removed(self, source_id: str, site_ad_id: str, at: datetime, reason: str) -> bool:
        return self.store.mark_removed(source_id, site_ad_id, at, reason)

    def live_ads(self, source_id: str) -> list[LiveAd]:
        return self.store.live_ads(source_id)
