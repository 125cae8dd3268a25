"""row_json.dumps writes exactly the text json.dumps(to_dict(...)) wrote before it, for
every model value a store row holds (so stored rows and exports do not change)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from indexer.model import (
    AdFields,
    Capture,
    Enrichment,
    IndicatorHit,
    Phone,
    Place,
    Span,
    to_dict,
)
from indexer.store import row_json


def reference(obj: object) -> str:
    return json.dumps(to_dict(obj), ensure_ascii=False)


@settings(max_examples=150, deadline=None)
@given(st.from_type(Enrichment))
def test_any_enrichment_gives_the_reference_text(enrichment):
    assert row_json.dumps(enrichment) == reference(enrichment)


@settings(max_examples=150, deadline=None)
@given(st.from_type(AdFields))
def test_any_ad_fields_give_the_reference_text(fields):
    assert row_json.dumps(fields) == reference(fields)


def test_hostile_text_datetimes_and_plain_dicts_match():
    span = Span(0, 5, "\ue000<b>\"x\"</b>\u2028")
    e = Enrichment(phones=(Phone("+31612345678", "06-1234 5678", "NL", ("separators",), span),),
                   places=(Place("Utrecht", "utrecht", "Utrecht", "NL", 52.09, 5.12, None),),
                   indicators=(IndicatorHit("youth", "Youth", "age", 2.5, "validated", "é",
                                            (span, span)),), language="nl")
    cap = Capture("http://x/1", datetime(2026, 1, 2, 3, 4, 5, 6, tzinfo=UTC), 200, "a" * 64,
                  "f.warc.gz", 10)
    summary = {"phones": ["+31612345678"], "thumbnail": "", "n": [1, 2.5, None, True]}
    for obj in (e, cap, summary, AdFields("t", "b", {"city": "Zürich"}), [e, (cap,)]):
        assert row_json.dumps(obj) == reference(obj)


def test_what_json_cannot_write_fails_the_same_way():
    for bad in ({"x": {1, 2}}, AdFields("t", "b", {"when": datetime(2026, 1, 1).date()})):
        with pytest.raises(TypeError):
            reference(bad)
        with pytest.raises(TypeError, match="not JSON serializable"):
            row_json.dumps(bad)
