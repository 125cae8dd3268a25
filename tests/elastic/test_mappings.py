"""The shipped mappings accept every document the code builds (dynamic: strict)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from indexer.model import from_iso
from indexer.store import elastic_bodies as b

KEYWORDISH = {"keyword"}


def check(doc: Any, props: dict[str, Any], path: str = "") -> None:
    """Fail if a field is unmapped (strict would refuse it) or its value cannot fit."""
    for key, value in doc.items():
        where = f"{path}{key}"
        assert key in props, f"{where} is written but not mapped"
        spec = props[key]
        for item in value if isinstance(value, list) else [value]:
            if item is not None:
                check_value(item, spec, where)


def check_value(value: Any, spec: dict[str, Any], where: str) -> None:
    kind = spec.get("type", "object")
    if kind in ("keyword", "text"):
        assert isinstance(value, str), f"{where}: {kind} needs a string, got {value!r}"
    elif kind == "date":
        assert isinstance(value, str) and from_iso(value).tzinfo is not None, where
    elif kind in ("integer", "long", "short"):
        assert isinstance(value, int) and not isinstance(value, bool), where
    elif kind == "float":
        assert isinstance(value, (int, float)) and not isinstance(value, bool), where
    elif kind == "boolean":
        assert isinstance(value, bool), where
    elif kind == "geo_point":
        assert set(value) == {"lat", "lon"} and -90 <= value["lat"] <= 90, where
    elif kind == "date_range":
        assert set(value) <= {"gt", "gte", "lt", "lte"} and value, where
        for v in value.values():
            from_iso(v)
    elif kind == "flattened":
        assert isinstance(value, dict), where
    elif kind == "object" and spec.get("enabled") is False:
        json.dumps(value)  # stored, not indexed: anything JSON goes
    elif kind == "object":
        assert isinstance(value, dict), where
        check(value, spec["properties"], where + ".")
    else:
        raise AssertionError(f"{where}: no check for mapping type {kind}")


def props(kind: str) -> dict[str, Any]:
    return b.load_mapping(kind)["mappings"]["properties"]


@pytest.mark.parametrize("kind", b.KINDS)
def test_every_mapping_is_strict_versioned_and_single_shard(kind: str) -> None:
    spec = b.load_mapping(kind)
    assert spec["mappings"]["dynamic"] == "strict"
    assert b.mapping_version(kind) >= 1
    assert spec["settings"]["number_of_shards"] == 1


def test_text_fields_have_dutch_english_and_folded_subfields() -> None:
    for field in ("title", "text"):
        spec = props("versions")[field]
        assert spec["type"] == "text"
        assert spec["fields"]["nl"]["analyzer"] == "dutch"
        assert spec["fields"]["en"]["analyzer"] == "english"
        assert spec["fields"]["folded"]["analyzer"] == "folded"
    folded = b.load_mapping("versions")["settings"]["analysis"]["analyzer"]["folded"]
    assert "asciifolding" in folded["filter"]


def test_version_document_fits_mapping(obs, enrichment, source) -> None:
    doc = b.version_doc(obs, enrichment, seq=1, theme=source.theme,
                        ad_first_seen=obs.capture.fetched_at,
                        absences=[b.absence(obs.capture.fetched_at)])
    check(doc, props("versions"))
    assert doc["locations"] == [{"lat": 52.09, "lon": 5.12}]
    assert props("versions")["locations"]["type"] == "geo_point"
    assert doc["phones"] == ["+31612345678"]


def test_ad_capture_source_audit_documents_fit_mapping(obs, source) -> None:
    at = obs.capture.fetched_at
    ad = b.ad_doc(obs, theme="trafficking", first_seen=at, last_seen=at, version_ids=["v1"],
                  fingerprint=obs.fields.fingerprint(),
                  absences=[b.absence(at, datetime(2026, 4, 1, tzinfo=UTC))])
    check(ad, props("ads"))
    check(b.capture_doc(obs.capture, obs.ad_id, "v1", obs.source_id), props("captures"))
    check(b.source_doc(source), props("sources"))
    audit = b.audit_doc(at, "ana", "search", params={"q": "utrecht"}, result_size=3)
    check(audit, props("audit"))


def test_checker_catches_an_unmapped_field(obs, enrichment) -> None:
    doc = b.version_doc(obs, enrichment, seq=1, theme="", ad_first_seen=obs.capture.fetched_at)
    doc["surprise"] = "x"
    with pytest.raises(AssertionError, match="surprise"):
        check(doc, props("versions"))


def test_painless_scripts_write_only_mapped_fields() -> None:
    for script in (b.LAST_SEEN_SCRIPT, b.CLOSE_VERSION_SCRIPT, b.AD_STATE_SCRIPT):
        for name in __import__("re").findall(r"ctx\._source\.(\w+)", script):
            assert name in props("versions"), name
