"""The local movement map: projection, the shipped outline, a route, escaped text."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

from webui.geo import default_projection, movement_svg, outline, route

T = datetime(2026, 3, 2, tzinfo=UTC)


@dataclass(frozen=True)
class Visit:
    name: str
    lat: float
    lon: float
    first_seen: datetime
    last_seen: datetime
    ads: int = 1


def test_projection_keeps_north_up_and_west_left() -> None:
    p = default_projection()
    amsterdam, antwerp, groningen = p.project(52.37, 4.9), p.project(51.22, 4.4), p.project(53.22, 6.57)
    assert antwerp[1] > amsterdam[1] > groningen[1]  # south is further down
    assert antwerp[0] < amsterdam[0] < groningen[0]  # west is further left
    assert 0 <= amsterdam[0] <= p.width and 0 <= amsterdam[1] <= p.height
    assert p.inside(52.37, 4.9) and not p.inside(44.43, 26.1)  # Bucharest is off the map


def test_shipped_outline_covers_the_low_countries_in_the_box() -> None:
    data = outline()
    assert {"NL", "BE", "LU", "DE", "FR"} <= set(data["countries"])
    p = default_projection()
    for ring in data["countries"].values():
        assert len(ring) >= 6 and all(p.inside(lat, lon) for lon, lat in ring)


def test_route_numbers_places_in_time_order_and_lists_those_off_the_map() -> None:
    visits = [Visit("Antwerpen", 51.22, 4.4, T.replace(day=5), T.replace(day=6)),
              Visit("Utrecht", 52.09, 5.12, T, T.replace(day=3)),
              Visit("Bucuresti", 44.43, 26.1, T.replace(day=4), T.replace(day=4))]
    stops, outside = route(visits, default_projection())
    assert [(s.n, s.name) for s in stops] == [(1, "Utrecht"), (2, "Antwerpen")]
    assert [v.name for v in outside] == ["Bucuresti"]


def test_svg_escapes_place_names_and_draws_the_route() -> None:
    svg = str(movement_svg([Visit('<script>alert(1)</script>"x', 52.0, 5.0, T, T),
                            Visit("Utrecht", 52.09, 5.12, T.replace(day=3), T.replace(day=3))]))
    assert "<script>" not in svg and "&lt;script&gt;" in svg and "&#34;x" in svg
    assert svg.count('class="stop"') == 2 and '<polyline class="route"' in svg
    assert re.search(r'<path class="land home" d="M[\d.]+,[\d.]+ L', svg)
    assert "http" not in svg.replace("http://www.w3.org/2000/svg", "")  # nothing to fetch


def test_an_empty_route_is_just_the_map() -> None:
    svg = str(movement_svg([]))
    assert "<svg" in svg and 'class="stop"' not in svg and "polyline" not in svg
