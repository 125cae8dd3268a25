"""The movement map, drawn locally: lat/lon → SVG over country outlines that ship with adtrace.

Why no tile server: an analyst's browser must not ask any outside host for anything,
and a closed police network has no tiles. The outline (``webui/data/outline.json``) is
hand-simplified from known border points — rough (5-10 km) but enough to see that a
number moved from Utrecht to Antwerp. Projection: equirectangular with the longitude
scaled by cos(mid-latitude), which keeps the Low Countries' shape at this size.

Every piece of text that reaches the SVG (place names come from ads) is escaped here.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

from markupsafe import Markup

OUTLINE = Path(__file__).resolve().parent / "data" / "outline.json"


@cache
def outline() -> dict[str, Any]:
    with OUTLINE.open(encoding="utf-8") as fh:
        return json.load(fh)


@dataclass(frozen=True)
class Projection:
    lon_min: float
    lon_max: float
    lat_min: float
    lat_max: float
    width: float = 420.0

    @property
    def scale(self) -> float:
        mid = math.radians((self.lat_min + self.lat_max) / 2)
        return self.width / ((self.lon_max - self.lon_min) * math.cos(mid))

    @property
    def height(self) -> float:
        return round((self.lat_max - self.lat_min) * self.scale, 1)

    def inside(self, lat: float, lon: float) -> bool:
        return self.lat_min <= lat <= self.lat_max and self.lon_min <= lon <= self.lon_max

    def project(self, lat: float, lon: float) -> tuple[float, float]:
        """SVG coordinates (y grows southwards) of a point."""
        mid = math.radians((self.lat_min + self.lat_max) / 2)
        x = (lon - self.lon_min) * math.cos(mid) * self.scale
        y = (self.lat_max - lat) * self.scale
        return round(x, 1), round(y, 1)


def default_projection(width: float = 420.0) -> Projection:
    box = outline()["box"]
    return Projection(box["lon_min"], box["lon_max"], box["lat_min"], box["lat_max"], width)


def path_d(points: Sequence[Sequence[float]], proj: Projection) -> str:
    """An SVG path for one closed ring of (lon, lat) points."""
    xy = [proj.project(lat, lon) for lon, lat in points]
    return "M" + " L".join(f"{x},{y}" for x, y in xy) + " Z"


@dataclass(frozen=True)
class Stop:
    """One place on the route, numbered in the order the identifier reached it."""

    n: int
    name: str
    x: float
    y: float
    first_seen: datetime
    last_seen: datetime
    ads: int


def route(visits: Iterable[Any], proj: Projection) -> tuple[list[Stop], list[Any]]:
    """Visits (anything with name, lat, lon, first_seen, last_seen, ads) in time order →
    the stops on the map and the visits that fall outside it (listed, not drawn)."""
    stops: list[Stop] = []
    outside: list[Any] = []
    for v in sorted(visits, key=lambda v: (v.first_seen, v.name)):
        if not proj.inside(v.lat, v.lon):
            outside.append(v)
            continue
        x, y = proj.project(v.lat, v.lon)
        stops.append(Stop(len(stops) + 1, v.name, x, y, v.first_seen, v.last_seen, v.ads))
    return stops, outside


def _day(ts: datetime) -> str:
    return ts.strftime("%Y-%m-%d")


def movement_svg(visits: Iterable[Any], proj: Projection | None = None,
                 title: str = "Places over time") -> Markup:
    """The whole map as inline SVG: outlines, the route in time order, numbered stops."""
    proj = proj or default_projection()
    stops, _ = route(visits, proj)
    data = outline()
    parts = [Markup('<svg class="movement" xmlns="http://www.w3.org/2000/svg" role="img" '
                    'viewBox="0 0 {w} {h}" width="{w}" height="{h}">').format(
                        w=proj.width, h=proj.height),
             Markup("<title>{}</title>").format(title)]
    for code, ring in data["countries"].items():
        cls = "land home" if code in ("NL", "BE") else "land"
        parts.append(Markup('<path class="{}" d="{}"><title>{}</title></path>').format(
            cls, path_d(ring, proj), code))
    for name, ring in data.get("water", {}).items():
        parts.append(Markup('<path class="water" d="{}"><title>{}</title></path>').format(
            path_d(ring, proj), name))
    if len(stops) > 1:
        pts = " ".join(f"{s.x},{s.y}" for s in stops)
        parts.append(Markup('<polyline class="route" points="{}"/>').format(pts))
    for s in stops:
        label = f"{s.n}. {s.name}: {_day(s.first_seen)} – {_day(s.last_seen)}, {s.ads} ad(s)"
        parts.append(Markup(
            '<g class="stop"><title>{label}</title><circle cx="{x}" cy="{y}" r="7"/>'
            '<text x="{x}" y="{ty}" text-anchor="middle">{n}</text>'
            '<text class="name" x="{nx}" y="{ny}">{name}</text></g>').format(
                label=label, x=s.x, y=s.y, ty=round(s.y + 3.5, 1), n=s.n,
                nx=round(s.x + 9, 1), ny=round(s.y - 8, 1), name=s.name))
    parts.append(Markup("</svg>"))
    return Markup("").join(parts)
