"""``Enricher``: ad fields in, ``Enrichment`` out. The one entry point others call.

The text read is ``AdFields.document()`` (title, text, then ``key: value`` attribute
lines), and every evidence span is an offset into it. Each ad's language is detected
first, so that it runs through the pipeline of its own language; batches go through
``nlp.pipe`` per language and come back in input order.

Hostile input never crashes enrichment: texts are cut to ``MAX_CHARS`` (evidence spans
stay true offsets into the document because the cut is a prefix), NUL and other control
characters are left in place, and a failure in one ad is logged and gives an empty
enrichment for that ad rather than losing the batch.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from pathlib import Path

from spacy.language import Language
from spacy.tokens import Doc

from indexer.enrich import language
from indexer.enrich.catalogue import Catalogue, Indicator, load_catalogue
from indexer.enrich.nlp import get_nlp, make_doc
from indexer.enrich.phones import is_obscured
from indexer.model import AdFields, Attribute, Enrichment, IndicatorHit, Phone, Span

log = logging.getLogger(__name__)

PIPELINE_VERSION = "enrich-1.0"
MAX_CHARS = 50_000  # longer ads exist only as junk; the first 50k characters are read
MAX_SPANS = 10  # evidence spans kept per indicator


class Enricher:
    """Builds its pipelines lazily, once per language, and reuses them for every ad."""

    def __init__(self, catalogue_path: Path | None = None) -> None:
        self.catalogue: Catalogue = load_catalogue(catalogue_path) if catalogue_path else load_catalogue()
        self._catalogue_arg = str(catalogue_path) if catalogue_path else ""

    @property
    def version(self) -> str:
        return f"{PIPELINE_VERSION}+catalogue-{self.catalogue.version}"

    def enrich(self, fields: AdFields, country: str) -> Enrichment:
        """Enrich one ad; ``country`` (ISO alpha-2) is the default region for phones."""
        return next(self.enrich_many([(fields, country)], batch_size=1))

    def enrich_many(self, items: Iterable[tuple[AdFields, str]],
                    batch_size: int = 64) -> Iterator[Enrichment]:
        """Enrich many ads, in order, in batches through ``nlp.pipe``."""
        batch: list[tuple[str, str]] = []
        for fields, country in items:
            batch.append((fields.document()[:MAX_CHARS], (country or "").upper()))
            if len(batch) >= batch_size:
                yield from self._run_batch(batch)
                batch = []
        if batch:
            yield from self._run_batch(batch)

    def _run_batch(self, batch: list[tuple[str, str]]) -> list[Enrichment]:
        langs = [language.detect(text) for text, _ in batch]
        out: list[Enrichment | None] = [None] * len(batch)
        for lang in dict.fromkeys(langs):
            idx = [i for i, lg in enumerate(langs) if lg == lang]
            nlp = get_nlp(lang, self._catalogue_arg)
            docs = [make_doc(nlp, *batch[i]) for i in idx]
            try:
                for i, doc in zip(idx, nlp.pipe(docs), strict=True):
                    out[i] = self._assemble(doc, lang)
            except Exception:  # one bad ad must not lose the batch: retry one by one
                log.exception("enrichment batch failed; retrying its %d ads one by one", len(idx))
                for i in idx:
                    out[i] = self._one_safely(nlp, batch[i], lang)
        return [e if e is not None else self._empty(lang) for e, lang in zip(out, langs, strict=True)]

    def _one_safely(self, nlp: Language, item: tuple[str, str], lang: str) -> Enrichment:
        try:
            return self._assemble(nlp(make_doc(nlp, *item)), lang)
        except Exception:
            log.exception("enrichment failed for an ad of %d characters", len(item[0]))
            return self._empty(lang)

    def _empty(self, lang: str) -> Enrichment:
        return Enrichment(language=lang, catalogue_version=self.catalogue.version,
                          pipeline_version=PIPELINE_VERSION)

    def _assemble(self, doc: Doc, lang: str) -> Enrichment:
        phones = tuple(doc._.adtrace_phones or ())
        attrs = tuple(doc._.adtrace_attributes or ())
        hits = self._indicators(doc._.adtrace_indicator_spans or {}, phones, attrs)
        return Enrichment(
            phones=phones,
            identifiers=tuple(doc._.adtrace_identifiers or ()),
            places=tuple(doc._.adtrace_places or ()),
            attributes=attrs,
            indicators=hits,
            language=lang,
            catalogue_version=self.catalogue.version,
            pipeline_version=PIPELINE_VERSION,
        )

    def _indicators(self, spans: dict[str, list[Span]], phones: tuple[Phone, ...],
                    attrs: tuple[Attribute, ...]) -> tuple[IndicatorHit, ...]:
        hits = []
        for ind in self.catalogue.indicators:
            found = _derived_spans(ind, phones, attrs) if ind.derive else spans.get(ind.id, [])
            if found:
                unique = sorted(set(found), key=lambda s: (s.start, s.end))[:MAX_SPANS]
                hits.append(IndicatorHit(ind.id, ind.label_for("en"), ind.category, ind.weight,
                                         ind.evidence_level, ind.explanation, tuple(unique)))
        return tuple(hits)


def _derived_spans(ind: Indicator, phones: tuple[Phone, ...], attrs: tuple[Attribute, ...]) -> list[Span]:
    """Evidence for indicators computed from other extractions (see the catalogue's header)."""
    if ind.derive == "phone_obscured":
        return [p.span for p in phones if p.span and is_obscured(p)]
    if ind.derive == "nationality_stated":
        return [a.span for a in attrs if a.kind == "nationality" and a.span]
    if ind.derive == "age_below":
        return [a.span for a in attrs if a.kind == "age" and a.span and int(a.value) < ind.threshold]
    if ind.derive == "price_below":
        return [a.span for a in attrs if a.kind == "price" and a.span and a.unit == "1h"
                and a.value.endswith(" EUR") and int(a.value.split()[0]) < ind.threshold]
    return []
