"""GeoJSON files: the features of a FeatureCollection, or a ``LoadError`` saying why not.

Each feature's geometry is then checked by ``geo.geojson.read_geometry``, the one validator
for geometries from outside.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from directory.io.loading import LoadError


def read_features(path: Path, error: type[LoadError] = LoadError) -> list[Any]:
    """The non-empty feature list of the FeatureCollection in ``path`` (not yet checked)."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as problem:
        raise error(f"{path.name}: not a readable JSON file: {problem}") from None
    if not isinstance(document, dict) or document.get("type") != "FeatureCollection":
        raise error(f"{path.name}: must be a GeoJSON FeatureCollection")
    features = document.get("features")
    if not isinstance(features, list) or not features:
        raise error(f"{path.name}: the FeatureCollection has no features")
    return features
