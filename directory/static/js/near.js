/* "Help near me": progressive enhancement of a form that works without JavaScript.
 *
 * locate.js adds "use my location"; this adds "search near here" by tapping the map, and
 * a live map whose markers come from /api/v1/locations for the visible area (area-layer.js,
 * clustered per kind of place, named and coloured by the server's vocabulary). Text from
 * the directory is set with textContent, never as HTML. The map is created when it is first
 * shown (map-panel.js): at once beside the list, on a phone when "Show on map" is tapped.
 */
(function () {
  "use strict";

  var form = document.getElementById("near-form");
  var ns = window.ProtectionDirectory;

  var mapElement = document.getElementById("near-map");
  if (!mapElement || typeof L === "undefined" || !ns || !ns.baseMap) { return; }
  var config = JSON.parse(mapElement.getAttribute("data-config") || "{}");
  ns.mapPanel(mapElement, draw);

  function draw() {
    var map = ns.baseMap(mapElement, config);

    // The places of the visible area, clustered per kind (area-layer.js), and the routes.
    var overlays = {};
    var places = ns.areaLayer(map, config);
    Object.keys(places.overlays).forEach(function (label) {
      overlays[label] = places.overlays[label];
    });
    overlays[ns.t("migration_routes")] = ns.routesLayer(map, config.routesUrl);
    L.control.layers(null, overlays, { collapsed: true }).addTo(map);

    var legend = L.control({ position: "bottomleft" });
    legend.onAdd = function () {
      var box = L.DomUtil.create("div", "map-legend");
      ns.kinds.forEach(function (kind) {
        var row = L.DomUtil.create("div", "map-legend__row", box);
        row.appendChild(ns.swatch(kind.key));
        row.appendChild(document.createTextNode(" " + kind.plural));
      });
      return box;
    };
    legend.addTo(map);

    // The searcher's point and the numbered results of the list.
    var focus = [];
    if (config.origin) {
      var origin = [config.origin[1], config.origin[0]];
      L.circleMarker(origin, { radius: 8, color: "#fff", weight: 2, fillColor: "#111827",
                               fillOpacity: 1, className: "origin-marker" })
        .bindTooltip(ns.textNode(ns.t("searching_from_here"))).addTo(map);
      focus.push(origin);
    }
    ns.resultMarkers(config.results || [], "result-marker")
      .forEach(function (marker) {
        marker.addTo(map);
        focus.push(marker.getLatLng());
      });
    if (focus.length > 1) {
      map.fitBounds(focus, { padding: [30, 30], maxZoom: 13 });
    } else if (focus.length === 1) {
      map.setView(focus[0], 11);
    } else {
      map.setView([17, -88], 4);
    }

    // Tap the map: offer to search from there (a tap alone never reloads the page).
    map.on("click", function (event) {
      var button = document.createElement("button");
      button.type = "button";
      button.className = "search-here";
      button.textContent = ns.t("search_near_here");
      button.addEventListener("click", function () {
        ns.searchAt(form, event.latlng.lat, event.latlng.lng);
      });
      L.popup().setLatLng(event.latlng).setContent(button).openOn(map);
    });
    return map;
  }
})();
