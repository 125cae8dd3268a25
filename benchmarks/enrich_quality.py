"""Quality of enrichment, measured: precision, recall and F1 per field on the labelled set.

Targets (issue 4): phones F1 >= 0.97, places F1 >= 0.90, indicators precision >= 0.90.
The set is ``evaluation/evalset.jsonl`` (see ``evaluation/build_evalset.py`` for how it
was made and labelled). Errors are listed with ``--errors`` so each miss can be read.

    .venv/bin/python benchmarks/enrich_quality.py [--errors]
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from indexer.enrich.pipeline import Enricher  # noqa: E402
from indexer.model import AdFields, Enrichment  # noqa: E402

EVALSET = ROOT / "evaluation" / "evalset.jsonl"
TARGETS = {"phones": ("f1", 0.97), "places": ("f1", 0.90), "indicators": ("precision", 0.90)}


def predicted(e: Enrichment) -> dict[str, set[str]]:
    return {
        "phones": {p.e164 for p in e.phones},
        "places": {p.name for p in e.places},
        "indicators": {i.id for i in e.indicators},
        "ages": {a.value for a in e.attributes if a.kind == "age"},
        "identifiers": {i.value for i in e.identifiers if i.kind in ("email", "handle")},
    }


def score(tp: int, fp: int, fn: int) -> tuple[float, float, float]:
    p = tp / (tp + fp) if tp + fp else 1.0
    r = tp / (tp + fn) if tp + fn else 1.0
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


def evaluate(path: Path = EVALSET, show_errors: bool = False) -> dict[str, tuple[float, float, float]]:
    ads = [json.loads(line) for line in path.read_text("utf-8").splitlines() if line.strip()]
    enricher = Enricher()
    items = [(AdFields(title=a["title"], text=a["text"]), a["country"]) for a in ads]
    counts: dict[str, Counter[str]] = {}
    lang_ok = 0
    for ad, e in zip(ads, enricher.enrich_many(items), strict=True):
        lang_ok += e.language == ad["lang"]
        for field, got in predicted(e).items():
            gold = set(ad["gold"].get(field, []))
            c = counts.setdefault(field, Counter())
            c["tp"] += len(got & gold)
            c["fp"] += len(got - gold)
            c["fn"] += len(gold - got)
            if show_errors and got != gold:
                print(f"{ad['id']} {field}: missed {sorted(gold - got)} extra {sorted(got - gold)}"
                      f"\n    {ad['title']} | {ad['text']}")
    results = {f: score(c["tp"], c["fp"], c["fn"]) for f, c in counts.items()}
    print(f"{len(ads)} labelled ads from {path.relative_to(ROOT)}")
    print(f"{'field':<12} {'precision':>9} {'recall':>7} {'F1':>6}   target")
    for field, (p, r, f1) in results.items():
        target = TARGETS.get(field)
        note = ""
        if target:
            value = {"precision": p, "f1": f1}[target[0]]
            note = f"{target[0]} >= {target[1]}: {'met' if value >= target[1] else 'NOT MET'}"
        print(f"{field:<12} {p:9.3f} {r:7.3f} {f1:6.3f}   {note}")
    print(f"language accuracy: {lang_ok / len(ads):.3f}")
    return results


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--errors", action="store_true", help="print every ad with an error")
    evaluate(show_errors=parser.parse_args().errors)
