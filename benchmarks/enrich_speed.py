"""Speed of enrichment on one core, beside blank spaCy tokenisation of the same texts.

Target (issue 4): at least 1,000 ads/s on one core for ads of about 100 words.
The ads are synthetic, about 100 words each, in Dutch, English and German, with the
things the pipeline looks for (phones, places, prices, indicators) mixed into filler.

    .venv/bin/python benchmarks/enrich_speed.py [--ads 3000]
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from indexer.enrich.pipeline import Enricher  # noqa: E402
from indexer.model import AdFields  # noqa: E402

FILLER = {
    "nl": ["ik", "ben", "een", "lieve", "sexy", "meid", "en", "ik", "wacht", "op", "jou", "voor", "een", "heerlijke", "tijd", "samen", "met", "mij", "in", "een", "discreet", "appartement", "kom", "gezellig", "langs", "en", "geniet", "van", "mijn", "service"],
    "en": ["i", "am", "a", "sweet", "sexy", "girl", "waiting", "for", "you", "for", "a", "lovely", "time", "together", "with", "me", "in", "a", "discreet", "apartment", "come", "and", "enjoy", "my", "service", "you", "will", "not", "regret", "it"],
    "de": ["ich", "bin", "ein", "süßes", "sexy", "mädchen", "und", "warte", "auf", "dich", "für", "eine", "schöne", "zeit", "mit", "mir", "in", "einer", "diskreten", "wohnung", "komm", "vorbei", "und", "genieße", "meinen", "service"],
}
BITS = ["bel 06-{a} {b}", "Nieuw in Den Haag", "150 euro per uur", "23 jaar", "100% echt",
        "wa.me/316{a}{b}", "in Amsterdam", "O6 I{a}{b}", "Roemeense", "24/7", "insta: lisa{a}",
        "lisa{a}@mail.nl", "regio Utrecht", "30 min 80€", "zes een twee drie vier", "Köln"]


def make_ads(n: int, seed: int = 7) -> list[tuple[AdFields, str]]:
    rng = random.Random(seed)
    ads = []
    for _ in range(n):
        lang = rng.choice(list(FILLER))
        words = [rng.choice(FILLER[lang]) for _ in range(90)]
        for _ in range(4):
            bit = rng.choice(BITS).format(a=rng.randint(1000, 9999), b=rng.randint(1000, 9999))
            words.insert(rng.randrange(len(words)), bit)
        ads.append((AdFields(title=" ".join(words[:6]), text=" ".join(words[6:])), "NL"))
    return ads


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ads", type=int, default=3000)
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})  # one core
    ads = make_ads(args.ads)
    texts = [f.document() for f, _ in ads]
    words = sum(len(t.split()) for t in texts) / len(texts)
    enricher = Enricher()
    list(enricher.enrich_many(ads[:200]))  # warm up: build pipelines once
    from indexer.enrich.nlp import get_nlp

    nlp_blank = __import__("spacy").blank("nl")
    t0 = time.perf_counter()
    for _ in nlp_blank.pipe(texts, batch_size=64):
        pass
    t_tok = time.perf_counter() - t0
    t0 = time.perf_counter()
    out = list(enricher.enrich_many(ads, batch_size=64))
    t_full = time.perf_counter() - t0
    assert len(out) == len(ads) and get_nlp("nl")
    print(f"ads: {len(ads)}, mean words per ad: {words:.0f}, one core")
    print(f"blank spaCy tokenisation: {len(ads) / t_tok:8.0f} ads/s")
    print(f"full enrichment:          {len(ads) / t_full:8.0f} ads/s  (target >= 1000)")


if __name__ == "__main__":
    main()
