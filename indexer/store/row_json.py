"""JSON of model dataclasses for store rows: the text ``json.dumps(to_dict(obj),
ensure_ascii=False)`` gives, made without its per-value overhead.

Why: ``indexer.model.to_dict`` asks ``dataclasses.is_dataclass`` and ``fields`` of every
value it meets (17 calls per stored version, most on empty tuples) and copies every list;
at ingest rates that was a fifth of all the CPU a version cost. Here the C encoder walks
the values itself (tuples and lists as arrays, dicts, strings, numbers) and calls back
only for a dataclass (its fields, looked up once per class) or a datetime (``to_iso``,
as ``to_dict`` does). Anything else fails as ``json.dumps(to_dict(...))`` would, so the
output is the same text for every input (tests/store/test_row_json.py compares them).
"""

from __future__ import annotations

import dataclasses
import json
from datetime import datetime
from typing import Any

from indexer.model import to_iso

_FIELDS: dict[type, tuple[str, ...]] = {}


def _fields_of(obj: Any) -> dict[str, Any]:
    """The encoder's fallback: a dataclass as its fields (one level; the encoder goes on)."""
    kind = type(obj)
    names = _FIELDS.get(kind)
    if names is None:
        if isinstance(obj, datetime):
            return to_iso(obj)  # type: ignore[return-value]  # encoded as a string
        if not dataclasses.is_dataclass(obj) or isinstance(obj, type):
            raise TypeError(f"Object of type {kind.__name__} is not JSON serializable")
        names = _FIELDS[kind] = tuple(f.name for f in dataclasses.fields(obj))
    return {name: getattr(obj, name) for name in names}


_ENCODER = json.JSONEncoder(ensure_ascii=False, default=_fields_of)


def dumps(obj: Any) -> str:
    """``json.dumps(to_dict(obj), ensure_ascii=False)``, faster."""
    return _ENCODER.encode(obj)
