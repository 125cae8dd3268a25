"""What the spider yields: an ad page as seen, or an ad the site no longer shows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from indexer.model import AdFields, Capture


@dataclass
class AdItem:
    source_id: str
    site_ad_id: str
    url: str
    capture: Capture
    fields: AdFields


@dataclass
class RemovalItem:
    source_id: str
    site_ad_id: str
    url: str
    at: datetime
    reason: str
