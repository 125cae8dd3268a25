"""The data model: plain dataclasses shared by crawler, indexer and web UI.

Everything here is immutable evidence or derived from it; storage backends turn these
into rows or documents and back. Times are timezone-aware UTC datetimes.
Identifiers are deterministic (hashes of natural keys) so that several writers agree
on them without coordination.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import unicodedata
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any


def utcnow() -> datetime:
    return datetime.now(UTC)


def to_iso(ts: datetime) -> str:
    """ISO-8601 in UTC with microseconds: sortable as text, identical in both backends."""
    if ts.tzinfo is None:
        raise ValueError(f"naive datetime {ts!r}: adtrace keeps every time in UTC")
    return ts.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def from_iso(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def short_hash(*parts: str, length: int = 20) -> str:
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()[:length]


def ad_id_for(source_id: str, site_ad_id: str) -> str:
    """An ad's identity: the source plus the site's own id (or canonical URL)."""
    return short_hash(source_id, site_ad_id, length=16)


# --------------------------------------------------------------------------- sources
@dataclass(frozen=True)
class SourceInfo:
    """What the store needs to know of a source (the register lives in crawler/)."""

    id: str
    name: str
    theme: str
    country: str
    base_url: str
    reason: str = ""
    approved_by: str = ""
    # The rest of the register's justification (shown on /sources, kept in its history).
    approved_on: str = ""
    sections: tuple[str, ...] = ()  # "name: url" of each section crawled
    enabled: bool = True


# --------------------------------------------------------------------------- capture
@dataclass(frozen=True)
class Capture:
    """One fetch of one URL, as archived. Immutable evidence."""

    url: str
    fetched_at: datetime
    status: int
    sha256: str  # of the response payload (body) as received
    warc_file: str  # path relative to the archive root
    warc_offset: int
    warc_length: int = 0
    content_type: str = ""
    revisit_of: str = ""  # capture id of the earlier identical payload, if a revisit

    @property
    def id(self) -> str:
        return short_hash(self.url, to_iso(self.fetched_at), self.sha256, length=32)


@dataclass(frozen=True)
class ImageRef:
    """An image as archived: content-addressed, never a live URL for the browser."""

    sha256: str
    phash: str = ""
    source_url: str = ""
    content_type: str = ""
    width: int = 0
    height: int = 0


@dataclass(frozen=True)
class AdFields:
    """An ad's fields as extracted from its page, before any interpretation."""

    title: str = ""
    text: str = ""
    attributes: dict[str, str] = field(default_factory=dict)  # city, age, price, phone, …
    images: tuple[ImageRef, ...] = ()

    def document(self) -> str:
        """The text enrichment reads; evidence spans are offsets into this string."""
        parts = [self.title, self.text]
        parts += [f"{k}: {v}" for k, v in sorted(self.attributes.items()) if v]
        return "\n".join(p for p in parts if p)

    def fingerprint(self) -> str:
        """Fingerprint of the normalised content: equal fingerprints mean one version."""
        norm = {
            "title": _norm_text(self.title),
            "text": _norm_text(self.text),
            "attributes": {k: _norm_text(v) for k, v in sorted(self.attributes.items())},
            "images": sorted(i.sha256 for i in self.images),
        }
        return hashlib.sha256(json.dumps(norm, sort_keys=True).encode()).hexdigest()[:32]


def _norm_text(text: str) -> str:
    return " ".join(unicodedata.normalize("NFC", text).split())


@dataclass(frozen=True)
class Observation:
    """What the crawler hands to the indexer for one fetched ad page."""

    source_id: str
    site_ad_id: str
    url: str
    capture: Capture
    fields: AdFields

    @property
    def ad_id(self) -> str:
        return ad_id_for(self.source_id, self.site_ad_id)


# --------------------------------------------------------------------------- enrichment
@dataclass(frozen=True)
class Span:
    """Evidence: [start, end) in AdFields.document(), and the text found there."""

    start: int
    end: int
    text: str


@dataclass(frozen=True)
class Phone:
    e164: str
    raw: str
    country: str  # ISO 3166 alpha-2 of the number
    methods: tuple[str, ...] = ()  # how it was hidden: separators, letters, words, link, …
    span: Span | None = None


@dataclass(frozen=True)
class Identifier:
    """E-mail, URL or social handle."""

    kind: str  # email | url | handle
    value: str  # normalised (lower-case e-mail, platform:handle, …)
    raw: str
    platform: str = ""
    span: Span | None = None


@dataclass(frozen=True)
class Place:
    name: str  # canonical name
    matched: str
    province: str
    country: str
    lat: float
    lon: float
    span: Span | None = None


@dataclass(frozen=True)
class Attribute:
    """A typed value read from the text: age, price, spoken language, name, nationality."""

    kind: str
    value: str
    unit: str = ""
    span: Span | None = None


@dataclass(frozen=True)
class IndicatorHit:
    id: str
    label: str
    category: str
    weight: float
    evidence_level: str  # validated | commonly_cited | experimental
    explanation: str
    spans: tuple[Span, ...] = ()


@dataclass(frozen=True)
class Enrichment:
    phones: tuple[Phone, ...] = ()
    identifiers: tuple[Identifier, ...] = ()
    places: tuple[Place, ...] = ()
    attributes: tuple[Attribute, ...] = ()
    indicators: tuple[IndicatorHit, ...] = ()
    language: str = ""  # detected language of the ad text
    catalogue_version: str = ""
    pipeline_version: str = ""

    @property
    def risk_score(self) -> float:
        """The visible sum of its parts: each indicator's weight, nothing hidden."""
        return round(sum(i.weight for i in self.indicators), 3)

    def values(self, kind: str) -> list[str]:
        """Distinct values of one linkable kind, in order: phone, email, url, handle, place."""
        if kind == "phone":
            vals = [p.e164 for p in self.phones]
        elif kind == "place":
            vals = [p.name for p in self.places]
        elif kind == "indicator":
            vals = [i.id for i in self.indicators]
        else:
            vals = [i.value for i in self.identifiers if i.kind == kind]
        return list(dict.fromkeys(vals))


# --------------------------------------------------------------------------- stored records
@dataclass(frozen=True)
class VersionRecord:
    id: str
    ad_id: str
    seq: int
    fingerprint: str
    fields: AdFields
    enrichment: Enrichment
    first_seen: datetime
    last_seen: datetime
    captures: tuple[Capture, ...] = ()


@dataclass(frozen=True)
class AdRecord:
    id: str
    source_id: str
    site_ad_id: str
    url: str
    first_seen: datetime
    last_seen: datetime
    removed_at: datetime | None = None
    removed_reason: str = ""
    versions: tuple[VersionRecord, ...] = ()  # oldest first

    @property
    def current(self) -> VersionRecord | None:
        return self.versions[-1] if self.versions else None


@dataclass(frozen=True)
class WriteResult:
    ad_id: str
    version_id: str
    new_ad: bool
    new_version: bool
    duplicate_capture: bool  # the capture was already stored: nothing changed
    reappeared: bool = False  # a removed ad came back


@dataclass(frozen=True)
class LiveAd:
    site_ad_id: str
    url: str
    last_seen: datetime
    # the register's sections whose listings ever showed the ad, as the crawler keeps
    # them (crawler.revisits.section_key; none known: stored before sections were kept,
    # or never listed): an ad a section no longer crawled listed may still be listed
    # there, and its absence from the listings that are crawled does not count
    listed_in: tuple[str, ...] = ()


# --------------------------------------------------------------------------- (de)serialise
def to_dict(obj: Any) -> Any:
    """Dataclasses to JSON-ready dicts (datetimes as ISO strings)."""
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: to_dict(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, datetime):
        return to_iso(obj)
    if isinstance(obj, (list, tuple)):
        return [to_dict(v) for v in obj]
    if isinstance(obj, dict):
        return {k: to_dict(v) for k, v in obj.items()}
    return obj


def _span(d: dict[str, Any] | None) -> Span | None:
    return Span(**d) if d else None


def fields_from_dict(d: dict[str, Any]) -> AdFields:
    return AdFields(
        title=d.get("title", ""),
        text=d.get("text", ""),
        attributes=dict(d.get("attributes", {})),
        images=tuple(ImageRef(**i) for i in d.get("images", ())),
    )


def capture_from_dict(d: dict[str, Any]) -> Capture:
    d = dict(d)
    d["fetched_at"] = from_iso(d["fetched_at"])
    return Capture(**d)


def enrichment_from_dict(d: dict[str, Any]) -> Enrichment:
    return Enrichment(
        phones=tuple(
            Phone(p["e164"], p["raw"], p["country"], tuple(p.get("methods", ())), _span(p.get("span")))
            for p in d.get("phones", ())
        ),
        identifiers=tuple(
            Identifier(i["kind"], i["value"], i["raw"], i.get("platform", ""), _span(i.get("span")))
            for i in d.get("identifiers", ())
        ),
        places=tuple(
            Place(p["name"], p["matched"], p["province"], p["country"], p["lat"], p["lon"],
                  _span(p.get("span")))
            for p in d.get("places", ())
        ),
        attributes=tuple(
            Attribute(a["kind"], a["value"], a.get("unit", ""), _span(a.get("span")))
            for a in d.get("attributes", ())
        ),
        indicators=tuple(
            IndicatorHit(i["id"], i["label"], i["category"], i["weight"], i["evidence_level"],
                         i["explanation"], tuple(Span(**s) for s in i.get("spans", ())))
            for i in d.get("indicators", ())
        ),
        language=d.get("language", ""),
        catalogue_version=d.get("catalogue_version", ""),
        pipeline_version=d.get("pipeline_version", ""),
    )
