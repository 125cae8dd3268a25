"""The indicator catalogue: versioned YAML data, validated on load.

Indicators are data so that analysts and reviewers can read, question and change them
without touching code (transparency rule 6: every indicator explained, every score
traceable). Loading checks every entry and names the entry at fault.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

DEFAULT_PATH = Path(__file__).parent / "data" / "indicators.yaml"
EVIDENCE_LEVELS = ("validated", "commonly_cited", "experimental")
DERIVATIONS = ("phone_obscured", "nationality_stated", "age_below", "price_below")


class CatalogueError(ValueError):
    """The catalogue file is malformed; the message names the file and the entry."""


@dataclass(frozen=True)
class Indicator:
    id: str
    label: dict[str, str]
    category: str
    weight: float
    evidence_level: str
    explanation: str
    patterns: dict[str, tuple[str, ...]] = field(default_factory=dict)
    token_patterns: dict[str, tuple[list[dict[str, Any]], ...]] = field(default_factory=dict)
    derive: str = ""
    threshold: float = 0.0

    def label_for(self, lang: str) -> str:
        return self.label.get(lang) or self.label.get("en") or self.id


@dataclass(frozen=True)
class Catalogue:
    version: str
    indicators: tuple[Indicator, ...]
    path: str

    def by_id(self, ind_id: str) -> Indicator:
        for ind in self.indicators:
            if ind.id == ind_id:
                return ind
        raise KeyError(ind_id)


def _derive(raw: Any, where: str) -> tuple[str, float]:
    if raw is None:
        return "", 0.0
    if isinstance(raw, str) and raw in DERIVATIONS:
        return raw, 0.0
    if isinstance(raw, dict) and len(raw) == 1:
        (key, value), = raw.items()
        if key in DERIVATIONS and isinstance(value, (int, float)):
            return key, float(value)
    raise CatalogueError(f"{where}: derive must be one of {DERIVATIONS} (with a number for "
                         f"age_below/price_below), got {raw!r}")


def _indicator(raw: Any, where: str) -> Indicator:
    if not isinstance(raw, dict):
        raise CatalogueError(f"{where}: an indicator must be a mapping")
    missing = {"id", "label", "category", "weight", "evidence_level", "explanation"} - set(raw)
    if missing:
        raise CatalogueError(f"{where}: missing {sorted(missing)}")
    where = f"{where} ({raw['id']})"
    if raw["evidence_level"] not in EVIDENCE_LEVELS:
        raise CatalogueError(f"{where}: evidence_level must be one of {EVIDENCE_LEVELS}")
    label = raw["label"]
    if not isinstance(label, dict) or not {"nl", "en"} <= set(label):
        raise CatalogueError(f"{where}: label needs 'nl' and 'en'")
    patterns = raw.get("patterns") or {}
    tokens = raw.get("token_patterns") or {}
    if not isinstance(patterns, dict) or not isinstance(tokens, dict):
        raise CatalogueError(f"{where}: patterns and token_patterns are mappings per language")
    derive, threshold = _derive(raw.get("derive"), where)
    if not (patterns or tokens or derive):
        raise CatalogueError(f"{where}: needs patterns, token_patterns or derive")
    try:
        weight = float(raw["weight"])
    except (TypeError, ValueError):
        raise CatalogueError(f"{where}: weight must be a number") from None
    return Indicator(
        id=str(raw["id"]), label={k: str(v) for k, v in label.items()},
        category=str(raw["category"]), weight=weight,
        evidence_level=raw["evidence_level"], explanation=" ".join(str(raw["explanation"]).split()),
        patterns={lang: tuple(str(p) for p in ps) for lang, ps in patterns.items()},
        token_patterns={lang: tuple(ps) for lang, ps in tokens.items()},
        derive=derive, threshold=threshold,
    )


@functools.lru_cache(maxsize=8)
def load_catalogue(path: Path = DEFAULT_PATH) -> Catalogue:
    """Read and check a catalogue file; cached, as every pipeline shares it."""
    try:
        with open(path, encoding="utf-8") as fh:
            data = yaml.safe_load(fh)
    except (OSError, yaml.YAMLError) as exc:
        raise CatalogueError(f"{path}: cannot read the catalogue: {exc}") from exc
    if not isinstance(data, dict) or "version" not in data or not isinstance(data.get("indicators"), list):
        raise CatalogueError(f"{path}: needs 'version' and a list of 'indicators'")
    inds = tuple(_indicator(raw, f"{path}: indicator {i}") for i, raw in enumerate(data["indicators"]))
    ids = [i.id for i in inds]
    dupes = sorted({i for i in ids if ids.count(i) > 1})
    if dupes:
        raise CatalogueError(f"{path}: duplicate indicator ids {dupes}")
    return Catalogue(str(data["version"]), inds, str(path))
