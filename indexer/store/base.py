"""The store contract: one protocol, several backends, one contract test suite.

Rules every backend keeps (tests/contract checks them against each):
- Writes are idempotent: the same capture written twice changes nothing.
- A capture whose content fingerprint equals the ad's current version only extends
  that version's last seen (an observation); a different fingerprint makes a new
  version. Versions are never rewritten or deleted (except by purge).
- A removed ad is marked (when, why), never deleted; if it is seen again it is live
  again with its history intact.
- Ids are deterministic (see indexer.model) so concurrent writers agree.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Protocol, runtime_checkable

from indexer.model import AdRecord, Enrichment, LiveAd, Observation, SourceInfo, WriteResult
from indexer.search.query import Hit, Query, SearchResult


class StoreError(RuntimeError):
    """The backend failed (down, full, corrupt); the message names the backend."""


@runtime_checkable
class Store(Protocol):
    def upsert_source(self, source: SourceInfo) -> None:
        """Register or update a source (name, theme, country) for labels and theme walls."""

    def sources(self) -> list[SourceInfo]: ...

    def write(self, obs: Observation, enrichment: Enrichment) -> WriteResult:
        """Store one fetched ad page and its enrichment; see the rules above."""

    def mark_removed(self, source_id: str, site_ad_id: str, at: datetime, reason: str) -> bool:
        """Mark an ad removed from its site. False if unknown or already removed."""

    def live_ads(self, source_id: str) -> list[LiveAd]:
        """Ads of a source not marked removed: what a crawl must revisit."""

    def get_ad(self, ad_id: str) -> AdRecord | None:
        """One ad with every version (oldest first) and the captures behind each."""

    def search(self, query: Query) -> SearchResult: ...

    def ads_for_identifier(self, kind: str, value: str) -> list[Hit]:
        """Every ad that ever carried this identifier (phone E.164, email, handle, …),
        in any version, newest first."""

    def iter_ads(self) -> Iterator[AdRecord]:
        """Every ad with all versions, captures and enrichment: the bulk export."""

    def stats(self) -> dict[str, int]:
        """Counts of ads, versions, captures, removed ads (for status lines and tests)."""

    def close(self) -> None: ...
