"""The Enricher end to end: spaCy pipelines, spans into document(), batches, versions."""

from __future__ import annotations

import pytest

from indexer.enrich.catalogue import load_catalogue
from indexer.enrich.nlp import get_nlp
from indexer.enrich.pipeline import MAX_CHARS, Enricher
from indexer.model import AdFields, enrichment_from_dict, to_dict


@pytest.fixture(scope="module")
def enricher() -> Enricher:
    return Enricher()


AD = AdFields(
    title="Nieuw in Den Haag! Lisa 21 jaar",
    text=("Hoi ik ben Lisa, jonge Roemeense meid, 100% echt. Bel O6 I2345678 of "
          "wa.me/32470123456. 150 euro per uur. Ik spreek Engels."),
    attributes={"city": "'s-Gravenhage", "phone": "+31 (0)6 8765 4321"},
)


def _all_spans(e):
    for group in (e.phones, e.identifiers, e.places, e.attributes):
        for item in group:
            yield item.span
    for hit in e.indicators:
        yield from hit.spans


def test_one_ad_enriched_with_every_span_pointing_into_its_document(enricher):
    e = enricher.enrich(AD, "NL")
    doc = AD.document()
    for span in _all_spans(e):
        assert span is not None and doc[span.start:span.end] == span.text
    assert e.values("phone") == ["+31612345678", "+32470123456", "+31687654321"]
    assert e.values("place") == ["Den Haag"]
    assert e.language == "nl"
    ids = {h.id for h in e.indicators}
    assert {"trust_language", "obscured_phone", "youth_language", "ethnicity_stated",
            "movement_language", "age_under_23"} <= ids
    assert e.risk_score == round(sum(h.weight for h in e.indicators), 3) == 8.0
    assert e.catalogue_version == load_catalogue().version
    assert e.pipeline_version


def test_an_enrichment_survives_a_round_trip_through_dicts(enricher):
    e = enricher.enrich(AD, "NL")
    assert enrichment_from_dict(to_dict(e)) == e


def test_batches_come_back_in_input_order_across_languages(enricher):
    items = [
        (AdFields(text="I am new in town, call me 06 12345678, I am very sexy"), "NL"),
        (AdFields(text="Ik ben nieuw in de stad, bel mij 06 87654321 voor een afspraak"), "NL"),
        (AdFields(text="Ich bin neu in der Stadt, ruf mich an: 0151 23456789 und komm"), "DE"),
        (AdFields(text="Sunt nouă în oraș, suna la 0721 234 567 pentru o întâlnire"), "RO"),
        (AdFields(text=""), "NL"),
    ]
    out = list(enricher.enrich_many(items, batch_size=2))
    assert [e.language for e in out] == ["en", "nl", "de", "ro", "und"]
    assert [e.values("phone") for e in out] == [
        ["+31612345678"], ["+31687654321"], ["+4915123456789"], ["+40721234567"], []]
    assert out == [enricher.enrich(f, c) for f, c in items]


def test_pipelines_are_blank_spacy_with_adtrace_components_built_once():
    nlp = get_nlp("nl")
    assert nlp.pipe_names[-3:] == ["adtrace_patterns", "adtrace_places", "adtrace_indicators"]
    assert get_nlp("nl") is nlp
    assert nlp.lang == "nl"


def test_a_custom_catalogue_changes_indicators_and_version(tmp_path):
    path = tmp_path / "cat.yaml"
    path.write_text(
        "version: test-7\nindicators:\n  - {id: sunny, label: {nl: zon, en: sun}, category: c,"
        " weight: 1.5, evidence_level: experimental, explanation: test, patterns: {en: [sunny day]}}\n"
        "  - {id: rainy, label: {nl: regen, en: rain}, category: c, weight: 0.5,"
        " evidence_level: experimental, explanation: test,"
        " token_patterns: {en: [[{LOWER: {IN: [rain, rainy]}}, {IS_PUNCT: true, OP: '?'}, {LOWER: night}]]}}\n",
        encoding="utf-8")
    e = Enricher(path).enrich(AdFields(text="What a Sunny Day in Utrecht, and a rainy night"), "NL")
    assert [(h.id, h.weight, h.spans[0].text) for h in e.indicators] == [
        ("sunny", 1.5, "Sunny Day"), ("rainy", 0.5, "rainy night")]
    assert e.catalogue_version == "test-7" and e.risk_score == 2.0


def test_a_huge_text_is_cut_not_refused(enricher):
    text = ("bel 0612345678 " * 10_000)
    e = enricher.enrich(AdFields(text=text), "NL")
    assert e.values("phone") == ["+31612345678"]
    assert all(s.end <= MAX_CHARS for s in _all_spans(e))


def test_trie_patterns_match_exactly_their_words():
    import re

    from indexer.enrich.trie import trie_pattern

    words = ["een", "eenentwintig", "elf", "twee", "tweeëntwintig", "twaalf"]
    rx = re.compile(r"\b(?:" + trie_pattern(words) + r")\b")
    assert all(rx.fullmatch(w) for w in words)
    assert [m.group() for m in rx.finditer("een elfje twee twaalfde eenentwintig")] == [
        "een", "twee", "eenentwintig"]


def test_named_entities_add_names_and_gazetteer_places_when_a_model_tags_them():
    """The path a trained model takes, driven here by a rule-based entity ruler."""
    import spacy

    from indexer.enrich.nlp import make_doc

    nlp = spacy.blank("en")
    ruler = nlp.add_pipe("entity_ruler")
    ruler.add_patterns([{"label": "PERSON", "pattern": "Ramona"},
                        {"label": "GPE", "pattern": "Goes"},
                        {"label": "GPE", "pattern": "Atlantis"}])
    for name in ("adtrace_patterns", "adtrace_places", "adtrace_indicators"):
        nlp.add_pipe(name)
    text = "Goes is where Ramona waits for you, not Atlantis"
    doc = nlp(make_doc(nlp, text, "NL"))
    assert [(a.kind, a.value) for a in doc._.adtrace_attributes] == [("name", "Ramona")]
    # the word rules alone refuse "Goes" without a place cue; the model's entity is trusted,
    # and Atlantis is tagged but not in the gazetteer, so it has no place to point at
    assert [p.name for p in doc._.adtrace_places] == ["Goes"]
    assert get_nlp("nl")(make_doc(get_nlp("nl"), text, "NL"))._.adtrace_places == []
