"""Hand-made observations and enrichments for the store contract (no enricher involved)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from indexer.model import (
    AdFields,
    Capture,
    Enrichment,
    Identifier,
    ImageRef,
    IndicatorHit,
    Observation,
    Phone,
    Place,
    SourceInfo,
    short_hash,
)

DAY1 = date(2026, 3, 2)
SOURCES = (
    SourceInfo("alpha", "Alpha Ads", "trafficking", "NL", "http://alpha.test", "public ads", "officer"),
    SourceInfo("beta", "Beta Ads", "trafficking", "BE", "http://beta.test"),
    SourceInfo("gamma", "Gamma Board", "other", "NL", "http://gamma.test"),
)
PLACES = {
    "Utrecht": Place("Utrecht", "Utrecht", "Utrecht", "NL", 52.09, 5.12),
    "Amsterdam": Place("Amsterdam", "A'dam", "Noord-Holland", "NL", 52.37, 4.9),
    "Antwerpen": Place("Antwerpen", "Antwerp", "Antwerpen", "BE", 51.22, 4.4),
}


def at(day: int, hour: int = 12, minute: int = 0) -> datetime:
    """Day 1 is DAY1; times in UTC."""
    return datetime.combine(DAY1 + timedelta(days=day - 1), datetime.min.time(), UTC).replace(
        hour=hour, minute=minute)


def obs(source: str, site_ad_id: str, when: datetime, text: str, title: str = "Ad",
        attrs: dict[str, str] | None = None, images: tuple[str, ...] = ()) -> Observation:
    url = f"http://{source}.test/ad/{site_ad_id}"
    body = f"{title}|{text}|{sorted((attrs or {}).items())}"
    cap = Capture(url=url, fetched_at=when, status=200,
                  sha256=short_hash(body, length=64), warc_file=f"{source}/crawl.warc.gz",
                  warc_offset=len(body), warc_length=100, content_type="text/html")
    fields = AdFields(title=title, text=text, attributes=dict(attrs or {}),
                      images=tuple(ImageRef(sha256=s) for s in images))
    return Observation(source, site_ad_id, url, cap, fields)


def enr(phones: tuple[str, ...] = (), places: tuple[str, ...] = (), indicators: tuple[tuple[str, float], ...] = (),
        lang: str = "nl", emails: tuple[str, ...] = (), handles: tuple[str, ...] = ()) -> Enrichment:
    return Enrichment(
        phones=tuple(Phone(p, p, "NL") for p in phones),
        identifiers=tuple(Identifier("email", e, e) for e in emails)
        + tuple(Identifier("handle", h, h, platform=h.split(":")[0]) for h in handles),
        places=tuple(PLACES[p] for p in places),
        indicators=tuple(IndicatorHit(i, i.replace("_", " "), "test", w, "commonly_cited", "why")
                         for i, w in indicators),
        language=lang,
        catalogue_version="test-1",
    )


PHONE_A = "+31612345678"
PHONE_B = "+32470123456"
PHONE_C = "+31687654321"


def seed(store) -> None:
    """A small world: six ads over three sources, with versions and a removal."""
    for s in SOURCES:
        store.upsert_source(s)
    w = store.write
    w(obs("alpha", "a1", at(1), "Sweet girl new in town, call now", "Lisa in Utrecht",
          {"city": "Utrecht", "age": "21"}, images=("img1",)),
      enr((PHONE_A,), ("Utrecht",), (("new_in_town", 0.5), ("youth", 2.0))))
    w(obs("alpha", "a2", at(1, 14), "Discreet massage in Amsterdam centrum", "Massage Amsterdam",
          {"city": "Amsterdam"}),
      enr((PHONE_C,), ("Amsterdam",), (), lang="en", emails=("mia@example.test",)))
    w(obs("beta", "b1", at(2), "Nouvelle fille à Antwerpen, trustworthy and real", "Nina",
          {"city": "Antwerpen"}),
      enr((PHONE_B,), ("Antwerpen",), (("trustworthy", 1.5), ("youth", 2.0), ("obscured_phone", 1.0)),
          lang="en", handles=("telegram:nina",)))
    w(obs("beta", "b2", at(2, 15), "Real girl, new in town Antwerpen", "Eva", {"city": "Antwerpen"}),
      enr((PHONE_A,), ("Antwerpen",), (("new_in_town", 0.5),), lang="en"))
    w(obs("gamma", "g1", at(3), "Utrecht escort service, english spoken", "Escort Utrecht"),
      enr((), ("Utrecht",), (), lang="en"))
    w(obs("alpha", "a3", at(3, 9), "Massage salon ontspanning Utrecht", "Salon",
          {"city": "Utrecht"}),
      enr((), ("Utrecht",), ()))
