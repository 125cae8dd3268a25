"""What the spider yields: an ad page as seen, or an ad the site no longer shows."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from indexer.model import AdFields, Capture


@dataclass
class AdItem:
    source_id: str
    site_ad_id: str
    url: str
    capture: Capture
    fields: AdFields
    # Set when the ingest pipeline (not the archive middleware) stores and inspects the
    # images: then ``fields.images`` hold only SHA-256, URL and content type, and
    # ``image_bodies`` the bytes (by SHA-256) of those fetched for this ad; the pipeline
    # completes the refs (crawler.ingest_core) before the ad is enriched or stored.
    images_pending: bool = False
    image_bodies: dict[str, bytes] = field(default_factory=dict, repr=False)


@dataclass
class RemovalItem:
    source_id: str
    site_ad_id: str
    url: str
    at: datetime
    reason: str
