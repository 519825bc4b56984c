/* The routes pages: the map of every route, and the map of one route with the corridor
 * searched and the numbered places ahead.
 *
 * The lists work without JavaScript; this only draws. The route line and the corridor come
 * in the page's data-config (built by the server), the routes list map fetches
 * /api/v1/routes. Each map is created when it is first shown (map-panel.js). Text from the
 * directory is set with textContent, never as HTML.
 */
(function () {
  "use strict";

  if (typeof L === "undefined" || !window.ProtectionDirectory) { return; }
  var ns = window.ProtectionDirectory;

  function configOf(element) {
    return JSON.parse(element.getAttribute("data-config") || "{}");
  }

  function routeLink(properties) {
    var link = document.createElement("a");
    link.href = "/routes/" + encodeURIComponent(properties.code);
    link.textContent = properties.name;
    return link;
  }

  // The routes list: every route, each a link to its page.
  var listElement = document.getElementById("routes-map");
  if (listElement) {
    ns.mapPanel(listElement, drawRoutes);
  }

  function drawRoutes() {
    var listConfig = configOf(listElement);
    var listMap = ns.baseMap(listElement, listConfig);
    listMap.setView([17, -88], 4);
    ns.fetchJSON(listConfig.routesUrl || "/api/v1/routes")
      .then(function (data) {
        if (!data) { return; }
        var layer = L.geoJSON(data, {
          style: function () {
            return { color: "#b91c1c", weight: 3, opacity: 0.85, className: "route-line" };
          },
          onEachFeature: function (feature, line) {
            line.bindTooltip(ns.textNode(feature.properties.name));
            line.bindPopup(function () { return routeLink(feature.properties); });
          }
        }).addTo(listMap);
        if (layer.getLayers().length) {
          listMap.fitBounds(layer.getBounds(), { padding: [20, 20] });
        }
        listElement.setAttribute("data-loaded", "true");
      });
    return listMap;
  }

  // One route: its line, the corridor searched, where you are and the numbered places.
  var element = document.getElementById("route-map");
  if (element) {
    ns.mapPanel(element, drawRoute);
  }

  function drawRoute() {
    var config = configOf(element);
    var map = ns.baseMap(element, config);
    var focus = L.featureGroup().addTo(map);

    if (config.corridor) {
      L.geoJSON(config.corridor, {
        interactive: false,
        style: function () {
          return { color: "#b91c1c", weight: 1, opacity: 0.5, fillColor: "#fca5a5",
                   fillOpacity: 0.25, className: "corridor-area" };
        }
      }).addTo(map);
    }
    var line = null;
    if (config.line) {
      line = L.geoJSON(config.line, {
        interactive: false,
        style: function () {
          return { color: "#b91c1c", weight: 4, opacity: 0.9, className: "route-line" };
        }
      }).addTo(map);
    }
    if (config.origin) {
      L.circleMarker([config.origin[1], config.origin[0]], {
        radius: 8, color: "#fff", weight: 2, fillColor: "#111827", fillOpacity: 1,
        className: "origin-marker"
      }).bindTooltip(ns.textNode(ns.t("you_are_here"))).addTo(focus);
    }
    ns.resultMarkers(config.results || [], "ahead-marker").forEach(function (marker) {
      marker.addTo(focus);
    });

    if (focus.getLayers().length > 1) {
      map.fitBounds(focus.getBounds(), { padding: [30, 30], maxZoom: 12 });
    } else if (line && line.getLayers().length) {
      map.fitBounds(line.getBounds(), { padding: [20, 20] });
    } else {
      map.setView([17, -88], 4);
    }
    element.setAttribute("data-loaded", "true");
    return map;
  }
})();
