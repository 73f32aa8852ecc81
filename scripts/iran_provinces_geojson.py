"""Cut the console's map of Iran's provinces out of Natural Earth's admin-1 GeoJSON: keep one
feature per province named as `app.web.provinces` names it, and round coordinates to 3 decimals
(about 100 m, finer than a country-wide choropleth shows) so the file stays small.

Usage: python scripts/iran_provinces_geojson.py SOURCE.json DEST.json"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from app.web.provinces import PROVINCES, province

DECIMALS = 3

Ring = list[list[float]]


def _rounded_ring(ring: Ring) -> Ring | None:
    points: Ring = []
    for lon, lat, *_ in ring:
        point = [round(lon, DECIMALS), round(lat, DECIMALS)]
        if not points or point != points[-1]:
            points.append(point)
    # A ring needs three distinct corners and its closing point; smaller ones vanish at this scale.
    return points if len(points) >= 4 and points[0] == points[-1] else None


def _rounded_polygons(geometry: dict[str, Any]) -> list[list[Ring]]:
    coordinates = geometry["coordinates"]
    polygons = [coordinates] if geometry["type"] == "Polygon" else coordinates
    kept: list[list[Ring]] = []
    for polygon in polygons:
        outer, *holes = polygon
        rounded_outer = _rounded_ring(outer)
        if rounded_outer is not None:
            rounded_holes = [r for r in map(_rounded_ring, holes) if r is not None]
            kept.append([rounded_outer, *rounded_holes])
    return kept


def extract(source: dict[str, Any]) -> dict[str, Any]:
    features: list[dict[str, Any]] = []
    for feature in source["features"]:
        source_name = feature["properties"].get("name")
        if source_name is None:
            # Natural Earth's nameless "Admin-1 minor island" pieces belong to no province.
            print(f"skipped a nameless {feature['properties'].get('featurecla')}", file=sys.stderr)
            continue
        entry = province(source_name)
        if entry is None:
            raise SystemExit(f"{source_name!r} in the source names no province we know")
        geometry = {"type": "MultiPolygon", "coordinates": _rounded_polygons(feature["geometry"])}
        properties = {"name": entry.name, "name_fa": entry.name_fa}
        features.append({"type": "Feature", "properties": properties, "geometry": geometry})
    names = sorted(f["properties"]["name"] for f in features)
    if names != sorted(p.name for p in PROVINCES):
        raise SystemExit(f"the source's provinces differ from ours: {names}")
    return {"type": "FeatureCollection", "features": features}


def main() -> None:
    source_path, dest_path = map(Path, sys.argv[1:3])
    collection = extract(json.loads(source_path.read_text(encoding="utf-8")))
    dest_path.write_text(
        json.dumps(collection, ensure_ascii=False, separators=(",", ":")), encoding="utf-8"
    )


if __name__ == "__main__":
    main()
