/* The overview map of the home page: the places of the visible area by kind (area-layer.js),
 * the migration routes, the country outlines, and the consular districts of a chosen
 * country (districts-layer.js).
 *
 * The page hands its settings over as JSON in #overview-map[data-config] (tiles,
 * attribution, areaUrl, outlinesUrl, routesUrl, center [lon, lat], zoom) and carries no
 * place itself. The map is created when it is first shown (map-panel.js): at once on a wide
 * screen, on a phone when "Show the map" is tapped.
 */
(function () {
  "use strict";

  var element = document.getElementById("overview-map");
  var ns = window.ProtectionDirectory;
  if (!element || typeof L === "undefined" || !ns || !ns.areaLayer) { return; }
  var config = JSON.parse(element.getAttribute("data-config") || "{}");

  ns.mapPanel(element, function () {
    var map = ns.baseMap(element, config);

    var overlays = {};
    var places = ns.areaLayer(map, config);
    Object.keys(places.overlays).forEach(function (label) {
      overlays[label] = places.overlays[label];
    });
    overlays[ns.t("migration_routes")] = ns.routesLayer(map, config.routesUrl);
    var picker = document.querySelector(".district-picker");
    if (picker && ns.districtsLayer) {
      overlays[ns.t("consular_districts")] = ns.districtsLayer(map, picker);
    }
    L.control.layers(null, overlays, { collapsed: true }).addTo(map);

    // A phone's narrow map shows the same region one zoom level out.
    var center = config.center || [-88, 17];
    var zoom = (config.zoom || 4) - (element.clientWidth < 500 ? 1 : 0);
    map.setView([center[1], center[0]], zoom);
    return map;
  });
})();
