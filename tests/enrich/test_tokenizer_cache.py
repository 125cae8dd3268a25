"""Warming spaCy's tokenizer cache (nlp.make_doc) changes the speed, never the tokens."""

from __future__ import annotations

import pytest
import spacy

from indexer.enrich import nlp as nlp_module
from indexer.enrich.nlp import make_doc

TEXTS = [
    "Vera (32) - Sweet and sensual\nCall or WhatsApp: +31 (0)6 1404 4746\nage: 32",
    "Nieuw in Den Haag :) bel 06-1234 5678, a.s. weekend 't hele weekend!",
    "Ich bin neu in Köln z.B. am Wochenende... 150€/h (nicht verhandelbar)",
    "e.g. 'tis a test -- with \u00a0 odd spaces,\tand tabs\n\n(32) (32) :) :)",
]


def _tokens(doc: spacy.tokens.Doc) -> list[tuple[str, str, str, str]]:
    return [(t.text, t.whitespace_, t.norm_, t.lower_) for t in doc]


@pytest.mark.parametrize("lang", ["nl", "en", "de"])
def test_warmed_tokens_equal_a_cold_tokenizer(lang: str) -> None:
    warm = spacy.blank(lang)
    docs = [make_doc(warm, text, "NL") for _ in range(3) for text in TEXTS]
    cold = [_tokens(spacy.blank(lang).make_doc(text)) for _ in range(3) for text in TEXTS]
    assert [_tokens(d) for d in docs] == cold
    assert all(d._.adtrace_text == t for d, t in zip(docs, TEXTS * 3, strict=True))


class _Recording:
    """spaCy's tokenizer, recording each text it is asked to tokenize."""

    def __init__(self, tokenizer: object) -> None:
        self.tokenizer, self.texts = tokenizer, []

    def __call__(self, text: str) -> spacy.tokens.Doc:
        self.texts.append(text)
        return self.tokenizer(text)  # type: ignore[operator]


def test_a_chunk_is_tokenized_alone_once_on_its_second_sighting() -> None:
    """The warming: a recurring chunk is tokenized on its own once (so spaCy caches it),
    a one-off chunk never; the text itself is tokenized whole every time. (What it saves
    is measured by benchmarks/enrich_speed.py and crawl_bench.py, not here.)"""
    nlp = spacy.blank("nl")
    recording = _Recording(nlp.tokenizer)
    nlp.tokenizer = recording
    for text in ("Vera (32) bel nu", "Anna (32) bel nu", "Vera (32) bel nu"):
        make_doc(nlp, text, "NL")
    alone = [t for t in recording.texts if " " not in t]
    assert sorted(alone) == ["(32)", "Vera", "bel", "nu"]  # Anna was seen once
    assert [t for t in recording.texts if " " in t] == [
        "Vera (32) bel nu", "Anna (32) bel nu", "Vera (32) bel nu"]


def test_the_count_of_chunks_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(nlp_module, "SIGHTINGS_MAX", 10)
    warm = spacy.blank("nl")
    for i in range(50):
        make_doc(warm, f"uniek{i} woord{i}", "NL")
    assert len(warm._adtrace_chunk_sightings) <= 12
