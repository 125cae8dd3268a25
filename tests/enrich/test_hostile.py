"""Hostile input never crashes enrichment (property-based, with hypothesis)."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from indexer.enrich.pipeline import Enricher
from indexer.model import AdFields


@pytest.fixture(scope="module")
def enricher() -> Enricher:
    return Enricher()


# Every Unicode block (surrogates excluded: they cannot reach us from decoded text),
# mixed with the characters the extractors care about.
_chars = st.characters(exclude_categories=("Cs",))
_ad_bits = st.sampled_from(["06", "+31", "0031", "@", "wa.me/", "[at]", "<div>", "</", "€", "jaar",
                            "twaalf", "O6", "I2", "🔥", "\u200d", "\ufe0f", "\u20e3", "\x00",
                            "Den Haag", "'s-", "A'dam", "http://", ".", "-", " ", "\n"])
_text = st.lists(st.one_of(st.text(_chars, max_size=40), _ad_bits), max_size=60).map("".join)
_country = st.one_of(st.sampled_from(["NL", "BE", "DE", "RO", "", "ZZ", "nl", "uk"]), st.text(max_size=4))


def _spans_are_true(fields: AdFields, e) -> None:
    doc = fields.document()
    spans = [x.span for g in (e.phones, e.identifiers, e.places, e.attributes) for x in g]
    spans += [s for h in e.indicators for s in h.spans]
    for span in spans:
        assert span is not None and doc[span.start:span.end] == span.text


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(title=_text, text=_text, attrs=st.dictionaries(st.text(max_size=10), _text, max_size=3),
       country=_country)
def test_any_text_in_any_country_gives_an_enrichment(enricher, title, text, attrs, country):
    fields = AdFields(title=title, text=text, attributes=attrs)
    e = enricher.enrich(fields, country)
    _spans_are_true(fields, e)
    assert e.catalogue_version


def test_binary_junk_deep_markup_and_huge_texts(enricher):
    junk = bytes(range(256)).decode("latin-1") * 50
    nested = "<div>" * 5_000 + "bel 06-12345678" + "</div>" * 5_000
    digits = "0" * 200_000
    emoji = "🔥" * 100_000
    many_units = " ".join(["06"] * 30_000)
    items = [(AdFields(text=t), "NL") for t in (junk, nested, digits, emoji, many_units)]
    out = list(enricher.enrich_many(items))
    assert len(out) == 5
    assert out[1].values("phone") == ["+31612345678"]
    for (fields, _), e in zip(items, out, strict=True):
        _spans_are_true(fields, e)
