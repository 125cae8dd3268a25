"""Every other ad linked to one ad, grouped by what links them: the same phone number,
e-mail address, handle or photo (archived image hash), in any version of the ad.

Linked ads outside the user's themes are left out (they do not exist for that user).
A value shared by very many ads (a wrongly read number, a site's logo) is capped and
flagged, so one bad extraction cannot turn the ad page into a wall of links.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from indexer.model import AdRecord, SourceInfo
from indexer.search.query import Hit
from webui.views.common import visible_hits

KIND_LABELS: dict[str, str] = {
    "phone": "Same phone number",
    "email": "Same e-mail address",
    "handle": "Same handle",
    "image": "Same photo",
}
MAX_PER_VALUE = 50


@dataclass(frozen=True)
class LinkGroup:
    kind: str
    label: str
    value: str
    hits: tuple[Hit, ...]  # other ads, newest first
    more: int  # how many more were left out


def link_values(record: AdRecord) -> list[tuple[str, str]]:
    """(kind, value) of every linking identifier over all versions, first seen first."""
    pairs: list[tuple[str, str]] = []
    for v in record.versions:
        pairs += [("phone", p.e164) for p in v.enrichment.phones]
        pairs += [(i.kind, i.value) for i in v.enrichment.identifiers if i.kind in KIND_LABELS]
        pairs += [("image", i.sha256) for i in v.fields.images]
    return list(dict.fromkeys(p for p in pairs if p[1]))


def linked_ads(store: Any, record: AdRecord, sources: dict[str, SourceInfo]) -> list[LinkGroup]:
    """One group per linking value that other ads share, in the order of KIND_LABELS.

    A value an analyst marked as wrongly extracted for this ad links nothing from it."""
    corrected = {(s.kind, s.value.casefold()) for s in store.suppressions(record.id)}
    groups = []
    for kind, value in link_values(record):
        if (kind, value.casefold()) in corrected:
            continue
        hits = [h for h in visible_hits(store.ads_for_identifier(kind, value), sources)
                if h.ad_id != record.id]
        if hits:
            groups.append(LinkGroup(kind, KIND_LABELS[kind], value, tuple(hits[:MAX_PER_VALUE]),
                                    max(0, len(hits) - MAX_PER_VALUE)))
    order = list(KIND_LABELS)
    return sorted(groups, key=lambda grp: order.index(grp.kind))
