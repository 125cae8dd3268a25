"""The indicator catalogue: versioned data, graded honestly, checked on load."""

from __future__ import annotations

from pathlib import Path

import pytest

from indexer.enrich.catalogue import CatalogueError, load_catalogue


def test_shipped_catalogue_holds_exactly_the_four_validated_indicators():
    cat = load_catalogue()
    assert cat.version
    validated = {i.id for i in cat.indicators if i.evidence_level == "validated"}
    assert validated == {"trust_language", "obscured_phone", "youth_language", "ethnicity_stated"}
    for ind in cat.indicators:
        assert ind.label["nl"] and ind.label["en"] and ind.explanation
        assert ind.patterns or ind.token_patterns or ind.derive


def test_indicators_the_study_found_not_predictive_carry_no_weight():
    cat = load_catalogue()
    for ind_id in ("movement_language", "age_under_23", "client_screening"):
        ind = cat.by_id(ind_id)
        assert ind.weight == 0 and ind.evidence_level == "commonly_cited"


def _write(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "cat.yaml"
    path.write_text(body, encoding="utf-8")
    return path


@pytest.mark.parametrize(("body", "message"), [
    ("version: 1\nindicators: [{id: a}]\n", "missing"),
    ("version: 1\nindicators:\n  - {id: a, label: {nl: x, en: y}, category: c, weight: 1,"
     " evidence_level: proven, explanation: e, patterns: {en: [x]}}\n", "evidence_level"),
    ("version: 1\nindicators:\n  - {id: a, label: {en: y}, category: c, weight: 1,"
     " evidence_level: validated, explanation: e, patterns: {en: [x]}}\n", "label needs"),
    ("version: 1\nindicators:\n  - {id: a, label: {nl: x, en: y}, category: c, weight: 1,"
     " evidence_level: validated, explanation: e}\n", "needs patterns"),
    ("version: 1\nindicators:\n  - {id: a, label: {nl: x, en: y}, category: c, weight: 1,"
     " evidence_level: validated, explanation: e, derive: magic}\n", "derive"),
    ("indicators: []\n", "needs 'version'"),
    ("version: [unclosed\n", "cannot read"),
])
def test_a_malformed_catalogue_is_refused_with_the_file_and_entry_named(tmp_path, body, message):
    path = _write(tmp_path, body)
    with pytest.raises(CatalogueError, match=message) as err:
        load_catalogue(path)
    assert str(path) in str(err.value)
