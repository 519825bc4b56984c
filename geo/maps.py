"""Maps built on the server with folium, rendered as one self-contained HTML file.

The pages of the site draw their maps in the browser from our own scripts; folium is for
the maps we hand over as a file (a consular district with its partners, for staff to keep
and open offline). Such a file must work from a disk with no network, and must not make the
reader's browser talk to anybody but the configured tile server. So:

* every script and style sheet folium asks for is looked up in ``assets`` (folium's asset
  name to its text, or ``None`` for one the map does not need) and written inline; an
  asset we do not know stops the build (``UnknownAssetError``) instead of silently linking
  a public CDN;
* data (names, contact details) travels as JSON and is set with ``textContent`` in the
  browser, never parsed as HTML;
* our elements emit their scripts exactly once. folium renders an element's macro output
  and then parses that output as a Jinja template again, so a name such as ``{{ 7*7 }}``
  would be evaluated on the server; ``_RawScript`` elements skip that second pass.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import folium
from branca.element import Element, MacroElement
from folium.elements import JSCSSMixin
from folium.map import Layer
from jinja2 import Template
from markupsafe import escape
from shapely.geometry import shape


class UnknownAssetError(LookupError):
    """folium asked for a script or style sheet that has no inline copy configured."""


@dataclass(frozen=True, slots=True)
class Marker:
    """One point on the map: a title and a few lines of plain text for its popup.

    The text is set with ``textContent`` in the browser, never parsed as HTML, so names
    coming from the directory cannot inject markup.
    """

    lon: float
    lat: float
    title: str
    lines: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class MarkerLayer:
    """A group of markers shown and hidden together (one per kind of place)."""

    key: str
    label: str
    color: str
    markers: list[Marker] = field(default_factory=list)
    radius: int = 6


@dataclass(frozen=True, slots=True)
class TileSource:
    """A raster tile server; the only host besides ours that a map may contact."""

    url: str
    attribution: str
    max_zoom: int = 19


@dataclass(frozen=True, slots=True)
class LegendEntry:
    label: str
    color: str


class _Raw(Element):
    """Text placed in the document as it is (already rendered, already escaped)."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self._text = text

    def render(self, **kwargs: Any) -> str:
        return self._text


class _RawScript(MacroElement):
    """An element whose ``script`` macro output goes into the page once, unparsed.

    ``MacroElement.render`` wraps the output in ``Element(output)``, which compiles it as a
    template: data inside it would be evaluated. Subclasses render their own ``show``.
    """

    def render(self, **kwargs: Any) -> None:
        script = self._template.module.__dict__["script"](self, kwargs)
        self.get_root().script.add_child(_Raw(str(script)), name=self.get_name())


class PointLayer(_RawScript, Layer):
    """Circle markers from one compact GeoJSON object, with lazily built popups.

    folium's own markers emit a block of JavaScript per marker and build popups with
    jQuery; this sends the points once as data and needs nothing but Leaflet.
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }} = L.geoJSON({{ this.data|tojson }}, {
            pointToLayer: function (feature, latlng) {
                return L.circleMarker(latlng, {{ this.style|tojson }});
            },
            onEachFeature: function (feature, marker) {
                var p = feature.properties;
                marker.bindTooltip(function () {
                    var tip = document.createElement("span");
                    tip.textContent = p.title;
                    return tip;
                });
                marker.bindPopup(function () {
                    var box = document.createElement("div");
                    var title = document.createElement("strong");
                    title.textContent = p.title;
                    box.appendChild(title);
                    p.lines.forEach(function (text) {
                        var line = document.createElement("div");
                        line.textContent = text;
                        box.appendChild(line);
                    });
                    return box;
                }, {maxWidth: 300});
            }
        });
        {%- if this.show %}
        {{ this.get_name() }}.addTo({{ this._parent.get_name() }});
        {%- endif %}
        {% endmacro %}
        """
    )

    def __init__(self, layer: MarkerLayer, *, show: bool = True) -> None:
        super().__init__(name=layer.label, overlay=True, control=True, show=show)
        self._name = "PointLayer"
        self.data = {
            "type": "FeatureCollection",
            "features": [
                {
                    "type": "Feature",
                    "geometry": {"type": "Point", "coordinates": [marker.lon, marker.lat]},
                    "properties": {"title": marker.title, "lines": list(marker.lines)},
                }
                for marker in layer.markers
            ],
        }
        self.style = {
            "radius": layer.radius,
            "color": "#ffffff",
            "weight": 1,
            "fillColor": layer.color,
            "fillOpacity": 0.9,
            "className": f"place-marker place-marker--{layer.key}",
        }


class InfoPanel(_RawScript):
    """A box on the map: a title, lines of text and a legend of coloured dots.

    Everything is set with ``textContent`` and ``element.style`` from JSON data.
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function () {
            var content = {{ this.content|tojson }};
            var panel = L.control({position: {{ this.position|tojson }}});
            panel.onAdd = function () {
                var box = L.DomUtil.create("div", "info-panel");
                box.style.cssText = "background:#fff;padding:6px 10px;border-radius:4px;" +
                    "box-shadow:0 1px 4px rgba(0,0,0,.3);max-width:22rem;font:13px/1.4 " +
                    "system-ui,sans-serif;color:#1e293b";
                L.DomEvent.disableClickPropagation(box);
                L.DomEvent.disableScrollPropagation(box);
                var title = document.createElement("strong");
                title.textContent = content.title;
                box.appendChild(title);
                content.lines.forEach(function (text) {
                    var line = document.createElement("div");
                    line.textContent = text;
                    box.appendChild(line);
                });
                content.legend.forEach(function (entry) {
                    var row = document.createElement("div");
                    var dot = document.createElement("span");
                    dot.style.cssText = "display:inline-block;width:10px;height:10px;" +
                        "border-radius:50%;margin-right:6px;border:1px solid #fff;" +
                        "box-shadow:0 0 0 1px #94a3b8";
                    dot.style.backgroundColor = entry.color;
                    row.appendChild(dot);
                    row.appendChild(document.createTextNode(entry.label));
                    box.appendChild(row);
                });
                return box;
            };
            panel.addTo({{ this._parent.get_name() }});
        })();
        {% endmacro %}
        """
    )

    def __init__(
        self,
        title: str,
        lines: Iterable[str] = (),
        legend: Iterable[LegendEntry] = (),
        *,
        position: str = "topright",
    ) -> None:
        super().__init__()
        self._name = "InfoPanel"
        self.position = position
        self.content = {
            "title": title,
            "lines": list(lines),
            "legend": [{"label": entry.label, "color": entry.color} for entry in legend],
        }


def base_map(*, center: tuple[float, float], zoom: int, tiles: TileSource | None) -> folium.Map:
    """An empty map; ``center`` is (lon, lat). Without tiles only our own layers show."""
    lon, lat = center
    fmap = folium.Map(
        location=[lat, lon],
        zoom_start=zoom,
        tiles=None,
        control_scale=True,
        prefer_canvas=False,
        width="100%",
        height="100%",
    )
    if tiles is not None:
        folium.TileLayer(
            tiles=tiles.url, attr=tiles.attribution, name="Map", max_zoom=tiles.max_zoom
        ).add_to(fmap)
    return fmap


def add_marker_layers(fmap: folium.Map, layers: Iterable[MarkerLayer]) -> None:
    """Add one toggleable layer of circle markers per ``MarkerLayer``."""
    for layer in layers:
        PointLayer(layer).add_to(fmap)


def add_area(
    fmap: folium.Map,
    geometry: Mapping[str, Any],
    *,
    name: str,
    style: Mapping[str, Any],
    fit: bool = True,
) -> None:
    """Add a (multi)polygon as a non-interactive layer; with ``fit``, frame the map on it."""
    fixed = dict(style)
    folium.GeoJson(
        {"type": "Feature", "properties": {}, "geometry": dict(geometry)},
        name=name,
        style_function=lambda _feature: fixed,
        interactive=False,
    ).add_to(fmap)
    if fit:
        west, south, east, north = shape(geometry).bounds
        fmap.fit_bounds([[south, west], [north, east]])


def render_standalone(fmap: folium.Map, assets: Mapping[str, str | None], *, title: str) -> str:
    """The map as one HTML document whose scripts and styles are all inline."""
    folium.LayerControl(collapsed=False).add_to(fmap)
    figure = fmap.get_root()
    inline_assets(figure, assets)
    figure.header.add_child(_Raw(f"<title>{escape(title)}</title>"), name="title", index=0)
    return figure.render()


def inline_assets(root: Element, assets: Mapping[str, str | None]) -> None:
    """Replace every script and style sheet link of the figure by the asset's text."""
    scripts: dict[str, str] = {}
    styles: dict[str, str] = {}
    for element in _walk(root):
        if not isinstance(element, JSCSSMixin):
            continue
        _collect(element.default_js, assets, scripts)
        _collect(element.default_css, assets, styles)
        element.default_js = []
        element.default_css = []
    for name, text in styles.items():
        css = text.replace("</style", "<\\/style")
        root.header.add_child(_Raw(f"<style>\n{css}\n</style>"), name=f"inline-{name}")
    for name, text in scripts.items():
        js = text.replace("</script", "<\\/script")
        root.header.add_child(_Raw(f"<script>\n{js}\n</script>"), name=f"inline-{name}")


def _collect(
    links: Iterable[tuple[str, str]], assets: Mapping[str, str | None], into: dict[str, str]
) -> None:
    for name, remote_url in links:
        if name not in assets:
            raise UnknownAssetError(f"no inline copy configured for {name!r} ({remote_url})")
        text = assets[name]
        if text is not None:
            into.setdefault(name, text)


def _walk(element: Element) -> Iterable[Element]:
    yield element
    for child in list(element._children.values()):
        yield from _walk(child)


__all__ = [
    "InfoPanel",
    "LegendEntry",
    "Marker",
    "MarkerLayer",
    "PointLayer",
    "TileSource",
    "UnknownAssetError",
    "add_area",
    "add_marker_layers",
    "base_map",
    "inline_assets",
    "render_standalone",
]
