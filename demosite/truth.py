"""The ground truth of a world on one day, as JSON-ready data.

Tests and benchmarks match crawled ads to this by ``(site, site_ad_id)``.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from demosite.data import SITE_COUNTRY, SITE_TOWNS, TOWN_BY_SLUG

if TYPE_CHECKING:
    from demosite.world import Ad, Version, World

SOURCE_IDS = {"velvet": "demo-velvet", "board": "demo-board"}


def ad_path(site: str, ad: Ad, version: Version) -> str:
    """The ad's URL path on its site (the site id is in it)."""
    if site == "velvet":
        return f"/velvet/ad/{ad.site_ad_id}-{version.slug}.html"
    return f"/board/view?adid={ad.site_ad_id}"


def image_path(site: str, photo: str) -> str:
    return f"/velvet/img/{photo}.png" if site == "velvet" else f"/board/media/{photo}.jpg"


def events(ad: Ad, day: int) -> list[dict[str, Any]]:
    """What happened to the ad up to ``day``: appear, change (with kinds), remove, return."""
    out: list[dict[str, Any]] = [{"day": ad.first_day, "kind": "appear"}]
    out += [{"day": c.day, "kind": "change", "changed": list(c.kinds)} for c in ad.changes]
    if ad.removed_day is not None:
        out.append({"day": ad.removed_day, "kind": "remove"})
    if ad.return_day is not None:
        out.append({"day": ad.return_day, "kind": "return"})
    return sorted((e for e in out if e["day"] <= day), key=lambda e: (e["day"], e["kind"]))


def version_truth(site: str, v: Version) -> dict[str, Any]:
    return {
        "fields": v.fields(),
        "phones": [asdict(p) for p in v.phones],
        "place": {"name": v.town, "country": v.country, "written": v.town_written,
                  "section": v.town_slug},
        "age": v.age,
        "email": v.email,
        "handle": {"platform": v.handle_platform, "value": v.handle} if v.handle else None,
        "images": [image_path(site, p) for p in v.photos],
        "photos": list(v.photos),
        "indicators": {k: list(e) for k, e in v.indicators.items()},
        "hostile": v.hostile or None,
        "lang": v.lang,
    }


def ad_truth(world: World, i: int, day: int) -> dict[str, Any] | None:
    """One ad's truth as of ``day``; None if it has not appeared yet."""
    ad = world.ad(i)
    if ad.first_day > day:
        return None
    live = ad.live_on(day)
    version = world.last_version(ad, day)
    assert version is not None  # it appeared on or before ``day``
    return {
        "index": i, "site": ad.site, "source_id": SOURCE_IDS[ad.site],
        "site_ad_id": ad.site_ad_id, "url_path": ad_path(ad.site, ad, version),
        "status": "live" if live else "removed",
        "first_day": ad.first_day,
        "removed_day": ad.removed_day if ad.removed_day is not None and ad.removed_day <= day
        else None,
        "return_day": ad.return_day if ad.return_day is not None and ad.return_day <= day
        else None,
        "events": events(ad, day),
        "template_of": world.template_of(i),
        "version_count": world.version_count_until(ad, day),
        "version": version_truth(ad.site, version),
    }


def world_truth(world: World, day: int) -> dict[str, Any]:
    if not 0 <= day < world.days:
        raise ValueError(f"day {day} outside 0..{world.days - 1}")
    ads = [t for i in range(world.n_ads) if (t := ad_truth(world, i, day)) is not None]
    return {
        "seed": world.seed, "n_ads": world.n_ads, "days": world.days,
        "start": world.start.isoformat(), "day": day, "date": world.date_of(day).isoformat(),
        "sites": {s: {"source_id": SOURCE_IDS[s], "country": SITE_COUNTRY[s],
                      "sections": {t: TOWN_BY_SLUG[t].name for t in SITE_TOWNS[s]},
                      "live": len(world.live_ads(s, day))} for s in SITE_TOWNS},
        "ads": ads,
    }
