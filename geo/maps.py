"""Map builders on folium/Leaflet, serving every asset from our own server.

folium links Leaflet, jQuery, Bootstrap and its plugins from public CDNs by default. The
people who use this map may be on a weak, watched or metered connection, and our promise is
that a public page talks to no host but ours (and the configured tile server). So every
asset folium asks for is looked up in ``asset_urls``; an asset we do not need is dropped,
and one we do not know stops the build (``UnknownAssetError``) instead of silently loading
from a CDN.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import folium
from branca.element import Element
from folium.elements import JSCSSMixin
from folium.map import Layer
from jinja2 import Template
from markupsafe import Markup


class UnknownAssetError(LookupError):
    """folium asked for a script or style sheet that has no local copy configured."""


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


@dataclass(frozen=True, slots=True)
class TileSource:
    """A raster tile server; the only host besides ours that a public page may contact."""

    url: str
    attribution: str
    max_zoom: int = 19


@dataclass(frozen=True, slots=True)
class MapFragments:
    """The parts of a rendered folium figure, to place inside our own page template.

    ``head`` holds the asset links and styles, ``body`` the map's element and ``script``
    a complete ``<script>`` element that builds the map.
    """

    head: Markup
    body: Markup
    script: Markup
    map_id: str


class RemoteGeoJsonLayer(Layer):
    """A GeoJSON overlay fetched from ``url`` after the page loads (with ``fetch``).

    folium's own non-embedded GeoJson uses a synchronous jQuery request; this keeps the
    page free of jQuery and never blocks rendering. Every path gets ``class_name`` so
    styles and tests can find it.
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }} = L.geoJSON(null, {
            interactive: false,
            style: function () { return {{ this.style|tojson }}; }
        });
        {%- if this.show %}
        {{ this.get_name() }}.addTo({{ this._parent.get_name() }});
        {%- endif %}
        fetch({{ this.url|tojson }}, {credentials: "same-origin"})
            .then(function (response) {
                if (!response.ok) { throw new Error("HTTP " + response.status); }
                return response.json();
            })
            .then(function (data) {
                {{ this.get_name() }}.addData(data);
                {{ this.get_name() }}.bringToBack();
            })
            .catch(function (error) { console.warn("layer not loaded:", error); });
        {% endmacro %}
        """
    )

    def __init__(
        self, url: str, name: str, style: Mapping[str, Any], *, class_name: str, show: bool = True
    ) -> None:
        super().__init__(name=name, overlay=True, control=True, show=show)
        self._name = "RemoteGeoJson"
        self.url = url
        self.style = {**style, "className": class_name}


class PointLayer(Layer):
    """Circle markers from one compact GeoJSON object, with lazily built popups.

    folium's own markers emit a block of JavaScript per marker and build popups with
    jQuery; this sends the points once as data (a fraction of the bytes on a weak
    connection) and needs nothing but Leaflet.
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
                }, {maxWidth: 280});
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
            "radius": 6,
            "color": "#ffffff",
            "weight": 1,
            "fillColor": layer.color,
            "fillOpacity": 0.9,
            "className": f"place-marker place-marker--{layer.key}",
        }


def localize_assets(root: Element, asset_urls: Mapping[str, str | None]) -> None:
    """Point every script and style sheet of the figure at our own server.

    ``asset_urls`` maps folium's asset names (``leaflet``, ``leaflet_css``,
    ``markerclusterjs``…) to a local URL, or to ``None`` for an asset the page does not use.
    """
    for element in _walk(root):
        if not isinstance(element, JSCSSMixin):
            continue
        element.default_js = _local(element.default_js, asset_urls)
        element.default_css = _local(element.default_css, asset_urls)


def _local(
    assets: Iterable[tuple[str, str]], asset_urls: Mapping[str, str | None]
) -> list[tuple[str, str]]:
    localized = []
    for name, remote_url in assets:
        if name not in asset_urls:
            raise UnknownAssetError(f"no local copy configured for {name!r} ({remote_url})")
        local_url = asset_urls[name]
        if local_url is not None:
            localized.append((name, local_url))
    return localized


def _walk(element: Element) -> Iterable[Element]:
    yield element
    for child in list(element._children.values()):
        yield from _walk(child)


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


def add_lines(fmap: folium.Map, collection: Mapping[str, Any], *, name: str, color: str) -> None:
    """Add a GeoJSON FeatureCollection of lines (routes) with a tooltip from ``name``."""
    style = {
        "color": color,
        "weight": 3,
        "opacity": 0.8,
        "dashArray": "6 4",
        "className": "route-line",
    }
    folium.GeoJson(
        dict(collection),
        name=name,
        style_function=lambda _feature: style,
        tooltip=folium.GeoJsonTooltip(fields=["name"], labels=False),
    ).add_to(fmap)


def render_fragments(fmap: folium.Map, asset_urls: Mapping[str, str | None]) -> MapFragments:
    """Render the map into head, body and script parts for a Jinja page."""
    folium.LayerControl(collapsed=True).add_to(fmap)
    figure = fmap.get_root()
    localize_assets(figure, asset_urls)
    figure.render()
    return MapFragments(
        head=Markup(figure.header.render()),
        body=Markup(figure.html.render()),
        script=Markup("<script>\n") + Markup(figure.script.render()) + Markup("\n</script>"),
        map_id=fmap.get_name(),
    )


__all__ = [
    "MapFragments",
    "Marker",
    "MarkerLayer",
    "PointLayer",
    "RemoteGeoJsonLayer",
    "TileSource",
    "UnknownAssetError",
    "add_lines",
    "add_marker_layers",
    "base_map",
    "localize_assets",
    "render_fragments",
]
