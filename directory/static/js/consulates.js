/* The maps of the consulate pages: "Find my consulate" and an office's district.
 *
 * The page hands its data over as JSON in #consulate-map[data-config]: the base-map
 * settings, the office {id, name, coordinates, url}, the district (a GeoJSON geometry or
 * null), the searcher's origin [lon, lat] (finder only) and the partners [{id, name, kind,
 * coordinates, url}] (office page only). Everything works without this script; it only
 * draws, when the map is first shown (map-panel.js). Text from the directory goes in with
 * textContent, never as HTML.
 */
(function () {
  "use strict";

  var element = document.getElementById("consulate-map");
  if (!element || typeof L === "undefined") { return; }
  var config = JSON.parse(element.getAttribute("data-config") || "{}");
  var ns = window.ProtectionDirectory;

  function link(url, text) {
    var anchor = document.createElement("a");
    anchor.href = url;
    anchor.textContent = text;
    return anchor;
  }

  ns.mapPanel(element, function () {
    var map = ns.baseMap(element, config);
    var focus = [];

    // Leaflet needs a view before it can draw vector layers: frame everything first.
    var district = config.district ? L.geoJSON(config.district, {
      interactive: false,
      style: function () {
        return { color: "#7c3aed", weight: 2, fillColor: "#a78bfa", fillOpacity: 0.25,
                 className: "district-area" };
      }
    }) : null;
    if (district && district.getBounds().isValid()) {
      focus.push(district.getBounds().getSouthWest(), district.getBounds().getNorthEast());
    }
    var office = config.office ? L.latLng(config.office.coordinates[1], config.office.coordinates[0])
                               : null;
    var origin = config.origin ? L.latLng(config.origin[1], config.origin[0]) : null;
    if (office) { focus.push(office); }
    if (origin) { focus.push(origin); }
    if (focus.length > 1) {
      map.fitBounds(L.latLngBounds(focus), { padding: [30, 30], maxZoom: 12 });
    } else if (focus.length === 1) {
      map.setView(focus[0], 10);
    } else {
      map.setView([17, -88], 4);
    }

    if (district) { district.addTo(map); }

    (config.partners || []).forEach(function (partner) {
      var position = [partner.coordinates[1], partner.coordinates[0]];
      L.marker(position, {
        icon: ns.kindIcon(partner.kind, "partner-marker"),
        title: partner.name
      }).bindPopup(function () { return link(partner.url, partner.name); }).addTo(map);
    });

    if (office) {
      L.marker(office, {
        icon: L.divIcon({ className: "office-marker", iconSize: [22, 22] }),
        title: config.office.name,
        zIndexOffset: 1000
      }).bindPopup(function () { return link(config.office.url, config.office.name); }).addTo(map);
    }

    if (origin) {
      L.circleMarker(origin, { radius: 8, color: "#fff", weight: 2, fillColor: "#111827",
                               fillOpacity: 1, className: "origin-marker" })
        .bindTooltip(ns.textNode(ns.t("searching_from_here"))).addTo(map);
    }
    element.setAttribute("data-loaded", "true");
    return map;
  });
})();
