/* The consular-districts layer of the overview map, one nationality at a time.
 *
 * ProtectionDirectory.districtsLayer(map, picker) wires the picker (a form, hidden until
 * this runs, whose action is /api/v1/districts): choosing a country fetches its districts
 * and draws them, each with the name of the office that serves it (set as text, never as
 * HTML); a click opens the office's staff page. Returns the layer, for a layer switcher.
 */
(function () {
  "use strict";

  var ns = window.ProtectionDirectory = window.ProtectionDirectory || {};
  if (typeof L === "undefined") { return; }

  ns.districtsLayer = function (map, picker) {
    var select = picker.elements.nationality;
    var status = document.getElementById("district-status");
    var layer = L.geoJSON(null, {
      style: function (feature) {
        return { color: "#7c3aed", weight: 1.5, fillColor: "#a78bfa", fillOpacity: 0.15,
                 dashArray: feature.properties.origin === "official" ? null : "4 3",
                 className: "district-area district-area--" + feature.properties.origin };
      },
      onEachFeature: function (feature, area) {
        var p = feature.properties;
        area.bindTooltip(function () {
          return ns.textNode(p.name + " (" + p.city + ")" +
            (p.origin === "official" ? "" : " · computed district"));
        }, { sticky: true });
        area.on("click", function () {
          window.location.href = "/consulates/" + encodeURIComponent(p.location_id);
        });
      }
    }).addTo(map);

    picker.hidden = false;
    picker.addEventListener("submit", function (event) { event.preventDefault(); });
    select.addEventListener("change", function () {
      layer.clearLayers();
      status.textContent = "";
      if (!select.value) { return; }
      status.textContent = "Loading…";
      fetch(picker.action + "?nationality=" + encodeURIComponent(select.value),
            { credentials: "same-origin" })
        .then(function (response) { return response.ok ? response.json() : null; })
        .then(function (data) {
          if (!data) { status.textContent = "The districts could not be loaded."; return; }
          layer.addData(data);
          // Under the markers, above the country outlines (which stay at the very back).
          layer.bringToBack();
          map.eachLayer(function (other) {
            if (other.options && other.options.className === "country-outline") {
              other.bringToBack();
            }
          });
          status.textContent = data.features.length
            ? data.features.length + " districts. Dashed: computed (the area nearest each office)."
            : "No districts are known for this country yet.";
          picker.setAttribute("data-loaded", String(data.features.length));
        })
        .catch(function () { status.textContent = "The districts could not be loaded."; });
    });
    return layer;
  };
})();
