"""The vendored front-end files, as text to inline into the maps we hand over as a file.

``make`` copies Leaflet from npm (the versions of package-lock.json) into
``static/vendor/``. The pages link those files; a downloaded map cannot (it is opened from
a disk, maybe with no network), so it carries them inline. ``offline_assets()`` answers
folium's asset names: Leaflet's script and style sheet (with the style sheet's images as
``data:`` URIs), and ``None`` for what folium would add but our maps do not use (jQuery,
Bootstrap, Font Awesome). No Flask here: services call it.
"""

from __future__ import annotations

import base64
import functools
import re
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType

VENDOR_DIR = Path(__file__).resolve().parent / "static" / "vendor"

INLINED = {"leaflet": "leaflet/leaflet.js", "leaflet_css": "leaflet/leaflet.css"}
UNUSED = (
    "jquery",
    "bootstrap",
    "bootstrap_css",
    "glyphicons_css",
    "awesome_markers",
    "awesome_markers_css",
    "awesome_markers_font_css",
    "awesome_rotate_css",
)
_CSS_IMAGE = re.compile(r"url\((images/[\w.-]+\.png)\)")


class MissingVendorFileError(RuntimeError):
    """A vendored file is absent: the front-end assets were not installed."""


@functools.cache
def offline_assets() -> Mapping[str, str | None]:
    """folium's asset names mapped to the text to inline, or ``None`` (not needed)."""
    texts: dict[str, str | None] = dict.fromkeys(UNUSED)
    for name, relative in INLINED.items():
        path = VENDOR_DIR / relative
        text = _read(path)
        texts[name] = _inline_images(text, path.parent) if path.suffix == ".css" else text
    return MappingProxyType(texts)


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise MissingVendorFileError(
            f"{path} is missing: run `make` (it copies the front-end assets from npm)"
        ) from None


def _inline_images(css: str, folder: Path) -> str:
    """Leaflet's style sheet with its images as ``data:`` URIs (a file has no images/)."""

    def data_uri(match: re.Match[str]) -> str:
        image = folder / match.group(1)
        if not image.exists():
            raise MissingVendorFileError(f"{image} is missing: run `make`")
        encoded = base64.b64encode(image.read_bytes()).decode("ascii")
        return f"url(data:image/png;base64,{encoded})"

    return _CSS_IMAGE.sub(data_uri, css)
