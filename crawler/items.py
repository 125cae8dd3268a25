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
    # (place among fields.images, addresses) of each image the page shows whose download
    # failed this run for a reason that does not say it is gone (not 404/410): the ingest
    # pipeline puts there the photo the ad's latest stored version had from one of those
    # addresses (the URL as fetched, then where it last redirected to, hop by hop), so
    # that a failed download does not make a version the page never had
    images_failed: tuple[tuple[int, tuple[str, ...]], ...] = ()


@dataclass
class RemovalItem:
    source_id: str
    site_ad_id: str
    url: str
    at: datetime
    reason: str
