"""Structured data on ad pages: JSON-LD and microdata, read where a source says so.

A source field selector ``jsonld:offers.price`` reads a dotted path from the page's
JSON-LD objects (the first object that has it; lists are searched item by item);
``microdata:price`` reads the first ``itemprop="price"`` (its ``content`` attribute,
else its text). The JSON is hostile input: bounded in size, parse errors ignored (the
page simply has no structured data), values flattened to plain text.
"""

from __future__ import annotations

import json
import re
from typing import Any

from parsel import Selector

MAX_JSONLD_CHARS = 512 * 1024
MAX_DEPTH = 8
_WS = re.compile(r"\s+")
JSONLD_PREFIX = "jsonld:"
MICRODATA_PREFIX = "microdata:"


def is_structured(expr: str) -> bool:
    return expr.strip().startswith((JSONLD_PREFIX, MICRODATA_PREFIX))


def jsonld_objects(sel: Selector) -> list[Any]:
    """Every JSON-LD object on the page (read before scripts are stripped); @graph flattened."""
    out: list[Any] = []
    for raw in sel.xpath('//script[@type="application/ld+json"]/text()').getall():
        if len(raw) > MAX_JSONLD_CHARS:
            continue
        try:
            data = json.loads(raw)
        except (ValueError, RecursionError):  # broken or absurdly nested: no data
            continue
        items = data if isinstance(data, list) else [data]
        for item in items:
            if isinstance(item, dict) and isinstance(item.get("@graph"), list):
                out.extend(item["@graph"])
            else:
                out.append(item)
    return out


def _walk(value: Any, path: list[str], depth: int = 0) -> Any:
    if depth > MAX_DEPTH:
        return None
    if not path:
        return value
    if isinstance(value, list):
        for item in value:
            found = _walk(item, path, depth + 1)
            if found not in (None, "", []):
                return found
        return None
    if isinstance(value, dict) and path[0] in value:
        return _walk(value[path[0]], path[1:], depth + 1)
    return None


def flatten(value: Any, depth: int = 0) -> str:
    """Plain text of a JSON value (lists joined with ', '; objects by their values)."""
    if value is None or depth > MAX_DEPTH:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float, str)):
        return _WS.sub(" ", str(value)).strip()
    if isinstance(value, list):
        return ", ".join(t for t in (flatten(v, depth + 1) for v in value) if t)
    if isinstance(value, dict):
        return ", ".join(t for k, v in value.items() if not str(k).startswith("@")
                         for t in [flatten(v, depth + 1)] if t)
    return ""


def jsonld_value(objects: list[Any], path: str) -> str:
    parts = [p for p in path.strip().split(".") if p]
    return flatten(_walk(objects, parts)) if parts else ""


def microdata_value(sel: Selector, prop: str) -> str:
    prop = prop.strip()
    if not re.fullmatch(r"[A-Za-z0-9_:\-./]+", prop):
        return ""
    for node in sel.xpath(f'//*[@itemprop="{prop}"]'):
        content = node.attrib.get("content")
        text = content if content is not None else " ".join(node.xpath(".//text()").getall())
        text = _WS.sub(" ", text).strip()
        if text:
            return text
    return ""


def structured_value(sel: Selector, objects: list[Any], expr: str) -> str:
    """The value of one ``jsonld:``/``microdata:`` selector ('' if the page lacks it)."""
    expr = expr.strip()
    if expr.startswith(JSONLD_PREFIX):
        return jsonld_value(objects, expr[len(JSONLD_PREFIX):])
    if expr.startswith(MICRODATA_PREFIX):
        return microdata_value(sel, expr[len(MICRODATA_PREFIX):])
    raise ValueError(f"not a structured-data selector: {expr!r}")
