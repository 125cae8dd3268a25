"""Enrichment: what an ad's text says, as evidence with spans.

``pipeline.Enricher`` is the entry point (``enrich``, ``enrich_many``). It detects each
ad's language (``language``), runs it through that language's spaCy pipeline (``nlp``:
blank pipelines plus adtrace's factory-registered components, a trained model when one
is installed) and returns an ``indexer.model.Enrichment``:

- ``phones``: hidden phone numbers normalised to E.164, with how they were hidden;
- ``identifiers``: e-mail addresses, URLs, social handles;
- ``attributes``: names, ages, prices with their unit of time, languages spoken,
  nationality or ethnicity, services (word lists in ``data/lexicon.yaml``);
- ``places``: the shipped gazetteer (``data/gazetteer.tsv``, built by
  ``data/build_gazetteer.py``; variants in ``data/place_aliases.tsv``);
- ``catalogue``: risk indicators as versioned data (``data/indicators.yaml``).

``adtrace enrich`` (``cli``) shows what the pipeline makes of any text. Quality and speed
are measured by ``benchmarks/enrich_quality.py`` and ``benchmarks/enrich_speed.py``.
"""
