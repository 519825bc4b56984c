/* The base of every map we draw by hand: Leaflet, the configured tile server (if any) and
 * our own country outlines, so a map stays readable when no tile server answers.
 *
 * ProtectionDirectory.baseMap(element, config) returns the Leaflet map; config holds
 * tiles (a URL template or null), attribution and outlinesUrl. ProtectionDirectory.textNode
 * wraps text for tooltips and popups (textContent, never HTML).
 */
(function () {
  "use strict";

  var ns = window.ProtectionDirectory = window.ProtectionDirectory || {};

  ns.textNode = function (text) {
    var span = document.createElement("span");
    span.textContent = text;
    return span;
  };

  ns.baseMap = function (element, config) {
    var map = L.map(element, { zoomControl: true, minZoom: 2, maxZoom: 19 });
    if (config.tiles) {
      L.tileLayer(config.tiles, { attribution: config.attribution, maxZoom: 19 }).addTo(map);
    }
    fetch(config.outlinesUrl || "/api/v1/countries/outlines", { credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (data) {
        if (!data) { return; }
        L.geoJSON(data, {
          interactive: false,
          style: function () {
            return { color: "#475569", weight: 1, fillColor: "#f1f5f9", fillOpacity: 0.6,
                     className: "country-outline" };
          }
        }).addTo(map).bringToBack();
      });
    return map;
  };
})();
