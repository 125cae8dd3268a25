"""The data model's pure rules: identity, fingerprints, evidence text, round trips."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from indexer.model import (
    AdFields,
    Capture,
    Enrichment,
    Identifier,
    ImageRef,
    IndicatorHit,
    Phone,
    Place,
    Span,
    ad_id_for,
    capture_from_dict,
    enrichment_from_dict,
    fields_from_dict,
    from_iso,
    to_dict,
    to_iso,
)


def test_ad_identity_is_deterministic_and_source_scoped():
    assert ad_id_for("velvet", "123") == ad_id_for("velvet", "123")
    assert ad_id_for("velvet", "123") != ad_id_for("board", "123")


def test_fingerprint_ignores_whitespace_and_attribute_order_but_not_content():
    a = AdFields("Lisa", "Nieuw  in\nAmsterdam", {"city": "Amsterdam", "age": "24"})
    b = AdFields("Lisa ", "Nieuw in Amsterdam", {"age": "24", "city": "Amsterdam"})
    c = AdFields("Lisa", "Nieuw in Utrecht", {"city": "Amsterdam", "age": "24"})
    assert a.fingerprint() == b.fingerprint()
    assert a.fingerprint() != c.fingerprint()


def test_fingerprint_changes_when_photos_change_not_when_reordered():
    one, two = ImageRef("a" * 64), ImageRef("b" * 64)
    base = AdFields("t", "x", {}, (one, two))
    assert base.fingerprint() == AdFields("t", "x", {}, (two, one)).fingerprint()
    assert base.fingerprint() != AdFields("t", "x", {}, (one,)).fingerprint()


def test_document_holds_title_text_and_attributes_for_evidence_spans():
    doc = AdFields("Title", "Body", {"phone": "06-12345678", "city": ""}).document()
    assert doc == "Title\nBody\nphone: 06-12345678"


def test_times_are_utc_and_naive_times_are_refused():
    ts = datetime(2026, 11, 1, 10, 0, tzinfo=timezone(timedelta(hours=1)))
    assert to_iso(ts) == "2026-11-01T09:00:00.000000Z"
    assert from_iso(to_iso(ts)) == ts
    with pytest.raises(ValueError, match="naive datetime"):
        to_iso(datetime(2026, 11, 1))


def test_capture_id_depends_on_url_time_and_payload():
    t = datetime(2026, 11, 1, tzinfo=UTC)
    c1 = Capture("http://x/1", t, 200, "f" * 64, "a.warc.gz", 0)
    assert c1.id == Capture("http://x/1", t, 200, "f" * 64, "b.warc.gz", 99).id
    assert c1.id != Capture("http://x/1", t + timedelta(seconds=1), 200, "f" * 64, "a", 0).id
    assert capture_from_dict(to_dict(c1)) == c1


def test_enrichment_round_trips_and_scores_are_the_visible_sum():
    span = Span(0, 4, "06-1")
    e = Enrichment(
        phones=(Phone("+31612345678", "06-12345678", "NL", ("separators",), span),),
        identifiers=(Identifier("email", "a@b.nl", "A@b.nl", "", None),),
        places=(Place("Amsterdam", "A'dam", "Noord-Holland", "NL", 52.37, 4.89, span),),
        indicators=(
            IndicatorHit("youth", "Youth", "victim", 1.5, "validated", "why", (span,)),
            IndicatorHit("trust", "Trust", "language", 1.0, "validated", "why", ()),
        ),
        language="nl",
        catalogue_version="2026.11",
    )
    assert enrichment_from_dict(to_dict(e)) == e
    assert e.risk_score == 2.5
    assert e.values("phone") == ["+31612345678"]
    assert e.values("email") == ["a@b.nl"]
    assert e.values("place") == ["Amsterdam"]


def test_fields_round_trip():
    f = AdFields("t", "x", {"city": "Utrecht"}, (ImageRef("c" * 64, "8f00", "http://s/1.jpg"),))
    assert fields_from_dict(to_dict(f)) == f
