"""Build seeds/countries.geojson: boundaries of the countries and territories of the Americas.

Source: Natural Earth 1:10m Admin 0 - Countries (public domain), as packaged in the npm
package world-atlas@2.0.2 (file countries-10m.json, TopoJSON; feature ids are ISO 3166-1
numeric codes). Names come from the PyPI package pycountry (ISO 3166-1 and its gettext
translations), with the small override tables below. The output is committed; the
application never downloads anything at run time.

Re-run (from the repository root; only needed to change the data or the rules below):

    mkdir -p /tmp/ne && (cd /tmp/ne && npm install world-atlas@2.0.2)
    python3 -m venv /tmp/cvenv && /tmp/cvenv/bin/pip install shapely pycountry
    /tmp/cvenv/bin/python seeds/build/countries.py \
        /tmp/ne/node_modules/world-atlas/countries-10m.json seeds/countries.geojson

(Built with shapely 2.2.0 and pycountry 26.2.16.)

How the conversion works:

* The TopoJSON is decoded here in plain Python (delta-decoded, de-quantized arcs; a negative
  arc index ~i means arc i reversed), so no JavaScript tool is needed.
* Simplification is done on the shared TopoJSON *arcs* (Douglas-Peucker with shapely,
  preserve_topology=True) before the rings are assembled, so two neighbours keep exactly
  the same border line: no gaps and no slivers appear between them. Land borders get a
  tolerance of BORDER_TOLERANCE degrees, coasts COAST_TOLERANCE, and coasts north of
  ARCTIC_LATITUDE ARCTIC_TOLERANCE. A ring that simplification would shrink or collapse
  (small islands) keeps its original arcs, so no Caribbean island is lost.
* Each geometry is repaired with make_valid, snapped to a 1e-4 degree grid (coordinates
  rounded to 4 decimals) with shapely.set_precision, checked with .is_valid, written as a
  MultiPolygon with counter-clockwise outer rings (RFC 7946), lon/lat WGS84.
* Natural Earth puts French Guiana, Guadeloupe and Martinique inside France, and Bonaire,
  Sint Eustatius and Saba inside the Netherlands; their polygons are split out here by
  bounding box into features of their own ISO codes (GF, GP, MQ, BQ).
* Natural Earth cuts the US naval base at Guantanamo Bay out of Cuba as a feature without
  an ISO code; it is merged back into CU (Cuba keeps sovereignty under the 1903 lease), so
  that no point of the island falls into no country.
* The US feature holds Alaska (with the Aleutians west of 180 degrees as separate
  polygons at positive longitudes) and Hawaii; no polygon crosses the antimeridian.

Properties of every feature: code (ISO alpha-2), iso_numeric (3-digit string), name_en,
name_es, name_fr, name_ht (Haitian Creole; the English name where no translation is known),
emergency_number (string or null). Features are sorted by code.
"""

from __future__ import annotations

import gettext
import json
import sys
from pathlib import Path

import pycountry
import shapely
from shapely.geometry import MultiPolygon, Polygon, mapping
from shapely.geometry.polygon import orient

# Douglas-Peucker tolerances (degrees) applied to the TopoJSON arcs. Land borders (arcs
# shared by two countries) are barely touched: they decide which country a point near a
# border crossing falls in. Coastlines are simplified more, and most north of 50 degrees
# (the Arctic coasts of Canada, Alaska and Greenland), to keep the file small.
BORDER_TOLERANCE = 0.002
COAST_TOLERANCE = 0.01
ARCTIC_TOLERANCE = 0.03
ARCTIC_LATITUDE = 50.0
GRID = 1e-4  # output coordinate grid (4 decimals)

# ISO 3166-1 alpha-2 codes of the Americas (UN M49 region 019: Northern America, Central
# America, the Caribbean and South America), as far as Natural Earth has land for them.
# Not included: UM (US Minor Outlying Islands: mostly in the Pacific), BV (Bouvet Island:
# not in the data).
# fmt: off
AMERICAS = [
    "AG", "AI", "AR", "AW", "BB", "BL", "BM", "BO", "BQ", "BR", "BS", "BZ", "CA", "CL",
    "CO", "CR", "CU", "CW", "DM", "DO", "EC", "FK", "GD", "GF", "GL", "GP", "GS", "GT",
    "GY", "HN", "HT", "JM", "KN", "KY", "LC", "MF", "MQ", "MS", "MX", "NI", "PA", "PE",
    "PM", "PR", "PY", "SR", "SV", "SX", "TC", "TT", "US", "UY", "VC", "VE", "VG", "VI",
]
# fmt: on

# Territories that Natural Earth includes in a European country: (parent numeric id,
# territory alpha-2, bounding box (min lon, min lat, max lon, max lat)). Every polygon of
# the parent west of -30 degrees must fall into exactly one of these boxes.
SPLIT_OUT = [
    ("250", "GF", (-55.0, 1.5, -51.0, 6.5)),  # French Guiana, from France
    ("250", "GP", (-62.0, 15.7, -60.8, 16.7)),  # Guadeloupe, from France
    ("250", "MQ", (-61.4, 14.2, -60.7, 15.0)),  # Martinique, from France
    ("528", "BQ", (-69.0, 11.8, -62.5, 18.0)),  # Bonaire, Sint Eustatius, Saba, from NL
]

# Features without an ISO id that are merged into a country: name in the data -> alpha-2.
MERGE_INTO = {"USNB Guantanamo Bay": "CU"}

# Common short names where pycountry's are clumsy.
NAME_EN = {
    "BO": "Bolivia",
    "VE": "Venezuela",
    "FK": "Falkland Islands",
    "MF": "Saint Martin",
    "SX": "Sint Maarten",
    "VG": "British Virgin Islands",
    "VI": "U.S. Virgin Islands",
}
NAME_ES = {
    "BO": "Bolivia",
    "VE": "Venezuela",
    "BM": "Bermudas",
    "BQ": "Bonaire, San Eustaquio y Saba",
    "MF": "San Martín",
    "SR": "Surinam",
    "SX": "Sint Maarten",
    "VG": "Islas Vírgenes Británicas",
    "VI": "Islas Vírgenes de los Estados Unidos",
}
NAME_FR = {
    "BO": "Bolivie",
    "VE": "Venezuela",
    "FK": "Îles Malouines (Falkland)",
    "MF": "Saint-Martin",
    "SX": "Sint Maarten",
    "VI": "Îles Vierges des États-Unis",
}
# Haitian Creole: pycountry's "ht" catalogue covers most of the region (Ayiti, Meksik,
# Etazini, Kanada, Gwatemala, Ondiras, Salvadò, Nikaragwa, Kostarika, Kolonbi, Venezwela,
# Ekwatè, Kiba, Brezil, Chili, Pewou, Bolivi, ...). Overrides here; where neither has a
# name, the English name is used.
NAME_HT = {
    "DO": "Repiblik Dominikèn",
}

# General emergency number (one number that reaches police, ambulance and fire), only
# where it is certain. null means: no single general number, or not certain; the app must
# then not show a number. Notes for a reviewer on the nulls:
#   AR 911 only in some provinces (107 ambulance, 100 fire, 101 police nationally)
#   BO 110 police; BR 190 police, 192 ambulance, 193 fire; CL 131 ambulance, 132 fire,
#   133 police; CU 106 police, 104 ambulance, 105 fire; GT 110 police, 122/123 fire;
#   HT 114 police; JM 119 police, 110 fire/ambulance; NI 118 police, 115 fire, 128 Red
#   Cross; PE 105 police, 116 fire, 106 ambulance; TT 999 police, 990 fire; BB 211 police;
#   GY 911 police, 912 fire, 913 ambulance; the other Caribbean islands not checked.
EMERGENCY = {
    "BM": "911",
    "BS": "911",  # 919 works as well
    "BZ": "911",
    "CA": "911",
    "CO": "123",
    "CR": "911",
    "DO": "911",
    "EC": "911",  # ECU 911
    "FK": "999",
    "GF": "112",
    "GP": "112",
    "HN": "911",
    "KY": "911",
    "MQ": "112",
    "MX": "911",
    "PA": "911",
    "PR": "911",
    "PY": "911",
    "SR": "115",
    "SV": "911",
    "US": "911",
    "UY": "911",
    "VE": "911",  # VEN 911
    "VI": "911",
}


def decode_arcs(topo: dict) -> list[list[tuple[float, float]]]:
    """Delta-decode and de-quantize every arc of a quantized TopoJSON topology."""
    (sx, sy), (tx, ty) = topo["transform"]["scale"], topo["transform"]["translate"]
    arcs = []
    for arc in topo["arcs"]:
        x = y = 0
        points = []
        for dx, dy in arc:
            x += dx
            y += dy
            points.append((x * sx + tx, y * sy + ty))
        arcs.append(points)
    return arcs


def polygons_of(geometry: dict) -> list[list[list[int]]]:
    """The polygons of a TopoJSON geometry, each a list of rings, each a list of arc ids."""
    if geometry["type"] == "Polygon":
        return [geometry["arcs"]]
    if geometry["type"] == "MultiPolygon":
        return geometry["arcs"]
    return []  # null geometry


def ring_coords(ring: list[int], arcs: list[list[tuple[float, float]]]) -> list:
    coords: list[tuple[float, float]] = []
    for index in ring:
        points = arcs[index] if index >= 0 else arcs[~index][::-1]
        coords.extend(points if not coords else points[1:])
    return coords


def ring_area(coords: list) -> float:
    if len(coords) < 4:
        return 0.0
    return abs(shapely.area(shapely.polygons(coords)))


def arc_ids(geometry: dict) -> set[int]:
    return {i if i >= 0 else ~i for poly in polygons_of(geometry) for r in poly for i in r}


def tolerance(arc: list[tuple[float, float]], shared: bool) -> float:
    if shared:
        return BORDER_TOLERANCE
    if min(y for _, y in arc) >= ARCTIC_LATITUDE:
        return ARCTIC_TOLERANCE
    return COAST_TOLERANCE


def simplify_arcs(arcs, wanted: list[dict], everything: list[dict]):
    """Simplify the arcs used by the wanted geometries; keep the rings it would spoil."""
    uses: dict[int, int] = {}
    for g in everything:
        for i in arc_ids(g):
            uses[i] = uses.get(i, 0) + 1
    simple = list(arcs)
    for i in set().union(*(arc_ids(g) for g in wanted)):
        if len(arcs[i]) > 2:
            line = shapely.LineString(arcs[i])
            line = line.simplify(tolerance(arcs[i], uses[i] > 1), preserve_topology=True)
            simple[i] = list(line.coords)
    for geometry in wanted:
        for poly in polygons_of(geometry):
            for ring in poly:
                before = ring_area(ring_coords(ring, arcs))
                after = ring_area(ring_coords(ring, simple))
                if after < 0.5 * before or after > 1.5 * before:
                    for i in ring:
                        simple[i if i >= 0 else ~i] = arcs[i if i >= 0 else ~i]
    return simple


def to_shapely(polys: list, arcs) -> list[Polygon]:
    out = []
    for poly in polys:
        rings = [ring_coords(r, arcs) for r in poly]
        out.append(Polygon(rings[0], rings[1:]))
    return out


def clean(polys: list[Polygon]) -> MultiPolygon:
    """Valid MultiPolygon on the output grid, outer rings counter-clockwise."""
    geom = shapely.make_valid(MultiPolygon(polys))
    geom = shapely.set_precision(geom, GRID)
    parts = [g for g in getattr(geom, "geoms", [geom]) if isinstance(g, Polygon) and not g.is_empty]
    nested = [p for g in getattr(geom, "geoms", []) if isinstance(g, MultiPolygon) for p in g.geoms]
    result = MultiPolygon([orient(p, 1.0) for p in parts + nested])
    if not result.is_valid:
        result = shapely.make_valid(result)  # rounding can touch rings; repair once more
        result = MultiPolygon(
            [orient(p, 1.0) for p in getattr(result, "geoms", [result]) if isinstance(p, Polygon)]
        )
    assert result.is_valid, shapely.is_valid_reason(result)
    return result


def in_box(poly: Polygon, box) -> bool:
    x0, y0, x1, y1 = poly.bounds
    return box[0] <= x0 and box[1] <= y0 and x1 <= box[2] and y1 <= box[3]


def round_coords(obj):
    if isinstance(obj, (list, tuple)):
        if obj and isinstance(obj[0], float):
            return [round(v, 4) for v in obj]
        return [round_coords(v) for v in obj]
    return obj


def names(code: str, translations: dict) -> dict:
    country = pycountry.countries.get(alpha_2=code)
    iso_name = country.name
    short = getattr(country, "common_name", iso_name)
    name_en = NAME_EN.get(code, short)
    name_es = NAME_ES.get(code) or translations["es"].gettext(iso_name)
    name_fr = NAME_FR.get(code) or translations["fr"].gettext(iso_name)
    name_ht = NAME_HT.get(code)
    if not name_ht:
        for candidate in (short, iso_name):
            translated = translations["ht"].gettext(candidate)
            if translated != candidate:
                name_ht = translated
                break
    return {
        "iso_numeric": country.numeric,
        "name_en": name_en,
        "name_es": name_es,
        "name_fr": name_fr,
        "name_ht": name_ht or name_en,
    }


def build(topo: dict) -> dict:
    numeric_to_code = {pycountry.countries.get(alpha_2=c).numeric: c for c in AMERICAS}
    parents = {parent for parent, _, _ in SPLIT_OUT}
    geometries = topo["objects"]["countries"]["geometries"]
    wanted = [
        g
        for g in geometries
        if g.get("id") in numeric_to_code
        or g.get("id") in parents
        or g.get("properties", {}).get("name") in MERGE_INTO
    ]
    arcs = simplify_arcs(decode_arcs(topo), wanted, geometries)

    pieces: dict[str, list[Polygon]] = {}
    for g in wanted:
        polys = to_shapely(polygons_of(g), arcs)
        if g.get("id") in parents:
            boxes = [(code, box) for parent, code, box in SPLIT_OUT if parent == g["id"]]
            for poly in polys:
                if poly.bounds[2] > -30:
                    continue  # the European part
                hits = [code for code, box in boxes if in_box(poly, box)]
                assert len(hits) == 1, (g["id"], poly.bounds, hits)
                pieces.setdefault(hits[0], []).extend([poly])
        elif g.get("id") in numeric_to_code:
            pieces.setdefault(numeric_to_code[g["id"]], []).extend(polys)
        else:
            pieces.setdefault(MERGE_INTO[g["properties"]["name"]], []).extend(polys)

    missing = sorted(set(AMERICAS) - set(pieces))
    assert not missing, f"no geometry for {missing}"

    translations = {
        lang: gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=[lang])
        for lang in ("es", "fr", "ht")
    }
    features = []
    for code in sorted(pieces):
        geom = clean(pieces[code])
        west, _, east, _ = geom.bounds
        assert west >= -180, (code, geom.bounds)
        assert east <= 180, (code, geom.bounds)
        assert all(p.bounds[2] - p.bounds[0] < 180 for p in geom.geoms), code
        properties = {
            "code": code,
            **names(code, translations),
            "emergency_number": EMERGENCY.get(code),
        }
        geometry = mapping(geom)
        features.append(
            {
                "type": "Feature",
                "properties": properties,
                "geometry": {
                    "type": "MultiPolygon",
                    "coordinates": round_coords(geometry["coordinates"]),
                },
            }
        )
    return {"type": "FeatureCollection", "features": features}


def main(argv: list[str]) -> int:
    if len(argv) != 3:
        print(__doc__)
        return 2
    topo = json.loads(Path(argv[1]).read_text(encoding="utf-8"))
    collection = build(topo)
    text = json.dumps(collection, ensure_ascii=False, separators=(",", ":"))
    # one feature per line keeps diffs of the committed file readable
    text = text.replace(',{"type":"Feature"', ',\n{"type":"Feature"')
    Path(argv[2]).write_text(text + "\n", encoding="utf-8")
    print(f"{len(collection['features'])} features, {len(text.encode()) / 1e6:.2f} MB -> {argv[2]}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
