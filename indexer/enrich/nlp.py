"""spaCy pipelines and adtrace's custom components, registered as factories.

Every pipeline starts from ``spacy.blank(lang)`` (nothing is downloaded); when a trained
model such as ``nl_core_news_sm`` is installed, it is used instead for that language and
its named entities add names and places. Components write their findings to ``doc._``
extensions; ``pipeline.Enricher`` turns those into an ``Enrichment``.

Component order: ``adtrace_patterns`` (regex work over the text: identifiers, phones,
attributes), ``adtrace_places`` (gazetteer PhraseMatcher), ``adtrace_indicators``
(catalogue PhraseMatcher and Matcher). Shared data (gazetteer, catalogue, lexicon) is
loaded once per process and cached; pipelines are built lazily, once per language.
"""

from __future__ import annotations

import functools
import logging
import re
from pathlib import Path
from typing import Any

import spacy
from spacy.language import Language
from spacy.matcher import Matcher, PhraseMatcher
from spacy.tokens import Doc

from indexer.enrich import attributes, identifiers, phones, places
from indexer.enrich.catalogue import load_catalogue
from indexer.model import Attribute, Place, Span

log = logging.getLogger(__name__)

BLANK_LANGS = frozenset(["nl", "en", "de", "ro", "es", "fr", "it", "pl", "hu", "pt", "bg", "ru"])
TRAINED = {"nl": "nl_core_news_sm", "en": "en_core_web_sm", "de": "de_core_news_sm",
           "ro": "ro_core_news_sm", "es": "es_core_news_sm", "fr": "fr_core_news_sm"}
_PERSON = frozenset({"PER", "PERSON"})
_PLACE = frozenset({"GPE", "LOC"})

for _name in ("adtrace_text", "adtrace_country", "adtrace_identifiers", "adtrace_phones", "adtrace_attributes",
              "adtrace_places", "adtrace_indicator_spans"):
    if not Doc.has_extension(_name):
        Doc.set_extension(_name, default=None)


_LONG_RUN = re.compile(r"\S{64}")


def make_doc(nlp: Language, text: str, country: str) -> Doc:
    """A Doc for ``text`` that the tokenizer can handle, with the original text kept.

    spaCy's tokenizer is quadratic on very long runs without spaces (50,000 emoji take
    minutes), so such runs get a space every 64 characters *for tokenizing only*: the
    length is unchanged, so token offsets stay offsets into the original, which the
    components read from ``doc._.adtrace_text``.
    """
    tokenizable = _LONG_RUN.sub(lambda m: m.group()[:-1] + " ", text) if _LONG_RUN.search(text) else text
    _warm_tokenizer_cache(nlp, tokenizable)
    doc = nlp.make_doc(tokenizable)
    doc._.adtrace_text = text
    doc._.adtrace_country = country
    return doc


WARM_AFTER = 2  # sightings of a chunk before it is put in the tokenizer's cache
SIGHTINGS_MAX = 100_000  # chunks counted per pipeline (about 10 MB) before counting anew


def _warm_tokenizer_cache(nlp: Language, text: str) -> None:
    """Put ``text``'s recurring chunks in spaCy's tokenizer cache; the tokens are the same.

    The tokenizer caches the tokens of each whitespace-separated chunk, but stops caching
    for the rest of a text once any chunk in it hit a special case (spaCy issue #1250:
    the flag is per text, not per chunk), and nearly every ad has one early on (a
    bracket, a colon). So ads were tokenized affix by affix, chunk by chunk, every time:
    most of the tokenizer's cost. A chunk seen a second time is tokenized here on its
    own, where the flag covers only that chunk, so spaCy caches it exactly when it would
    have had the flag been per chunk (a chunk that involves a special case is never
    cached); the text's own tokenization then finds it in the cache. The cache's size
    stays spaCy's (``max_cache_size``); one-off chunks (numbers, names) are not warmed.
    """
    seen: dict[str, int] | None = getattr(nlp, "_adtrace_chunk_sightings", None)
    if seen is None or len(seen) > SIGHTINGS_MAX:
        seen = {}
        nlp._adtrace_chunk_sightings = seen  # type: ignore[attr-defined]
    tokenizer = nlp.tokenizer
    for chunk in text.split():
        n = seen.get(chunk, 0)
        if n < WARM_AFTER:
            seen[chunk] = n + 1
            if n + 1 == WARM_AFTER:
                tokenizer(chunk)


def source_text(doc: Doc) -> str:
    return doc._.adtrace_text if doc._.adtrace_text is not None else doc.text


@Language.factory("adtrace_patterns")
def make_patterns(nlp: Language, name: str) -> Any:
    """Identifiers, phones and attributes: character-level work, done by compiled regexes."""
    lex = attributes.load_lexicon()

    def component(doc: Doc) -> Doc:
        text = source_text(doc)
        idents = identifiers.find_identifiers(text)
        masked = [(i.span.start, i.span.end) for i in idents if i.span and i.kind != "handle"]
        doc._.adtrace_identifiers = idents
        doc._.adtrace_phones = phones.find_phones(text, doc._.adtrace_country or "", masked)
        attrs = attributes.find_attributes(text, lex)
        if doc.has_annotation("ENT_IOB"):
            attrs += _entity_names(doc, attrs)
        doc._.adtrace_attributes = attrs
        return doc

    return component


def _entity_names(doc: Doc, attrs: list[Attribute]) -> list[Attribute]:
    """Names from a trained model's PERSON entities, when a trained model runs."""
    known = {a.value.lower() for a in attrs if a.kind == "name"}
    out = []
    for ent in doc.ents:
        if ent.label_ in _PERSON and ent.text.lower() not in known:
            known.add(ent.text.lower())
            out.append(Attribute("name", ent.text, "", Span(ent.start_char, ent.end_char, ent.text)))
    return out


@Language.factory("adtrace_places")
def make_places(nlp: Language, name: str) -> Any:
    gaz = places.load_gazetteer()

    def component(doc: Doc) -> Doc:
        country = (doc._.adtrace_country or "").upper()
        found = places.find_places(source_text(doc), country, gaz)
        if doc.has_annotation("ENT_IOB"):
            found += _entity_places(doc, country, gaz, {p.name for p in found})
        doc._.adtrace_places = found
        return doc

    return component


def _entity_places(doc: Doc, country: str, gaz: places.Gazetteer, known: set[str]) -> list[Place]:
    """Places a trained model tagged that the word rules passed over (gazetteer only)."""
    out = []
    for ent in doc.ents:
        entry = gaz.resolve(ent.text, country) if ent.label_ in _PLACE else None
        if entry is not None and entry.name not in known:
            known.add(entry.name)
            out.append(places.to_place(entry, ent.text, ent.start_char, ent.end_char))
    return out


@Language.factory("adtrace_indicators", default_config={"catalogue_path": ""})
def make_indicators(nlp: Language, name: str, catalogue_path: str) -> Any:
    cat = load_catalogue(Path(catalogue_path)) if catalogue_path else load_catalogue()
    phrases = PhraseMatcher(nlp.vocab, attr="LOWER")
    tokens = Matcher(nlp.vocab)
    for ind in cat.indicators:
        texts = [p for ps in ind.patterns.values() for p in ps]
        if texts:
            phrases.add(ind.id, list(nlp.tokenizer.pipe(texts)))
        pats = [p for ps in ind.token_patterns.values() for p in ps]
        if pats:
            tokens.add(ind.id, pats)

    def component(doc: Doc) -> Doc:
        text = source_text(doc)
        hits: dict[str, list[Span]] = {}
        matches = phrases(doc) if len(phrases) else []
        if len(tokens):
            matches += tokens(doc)
        for match_id, start, end in matches:
            span = doc[start:end]
            hits.setdefault(nlp.vocab.strings[match_id], []).append(
                Span(span.start_char, span.end_char, text[span.start_char:span.end_char]))
        doc._.adtrace_indicator_spans = hits
        return doc

    return component


@functools.lru_cache(maxsize=32)
def get_nlp(lang: str, catalogue_path: str = "") -> Language:
    """The pipeline for one language, built once: blank, or a trained model if installed."""
    base = lang if lang in BLANK_LANGS else "xx"
    model = TRAINED.get(base)
    if model and spacy.util.is_package(model):
        nlp = spacy.load(model, exclude=["parser", "lemmatizer", "textcat", "senter"])
        log.info("using trained spaCy model %s for %s", model, lang)
    else:
        nlp = spacy.blank(base)
    nlp.add_pipe("adtrace_patterns")
    nlp.add_pipe("adtrace_places")
    nlp.add_pipe("adtrace_indicators", config={"catalogue_path": catalogue_path})
    return nlp
