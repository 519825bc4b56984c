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
  if (typeof L === "undefined" || !ns.fetchJSON) { return; }

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
          var names = { office: p.name, city: p.city };
          return ns.textNode(p.origin === "official" ? ns.t("district_office", names)
                                                     : ns.t("district_office_computed", names));
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
      status.textContent = ns.t("loading");
      ns.fetchJSON(picker.action + "?nationality=" + encodeURIComponent(select.value))
        .then(function (data) {
          if (!data) { status.textContent = ns.t("districts_failed"); return; }
          layer.addData(data);
          // Under the markers, above the country outlines (which stay at the very back).
          layer.bringToBack();
          map.eachLayer(function (other) {
            if (other.options && other.options.className === "country-outline") {
              other.bringToBack();
            }
          });
          status.textContent = data.features.length
            ? ns.tn("districts_shown", data.features.length)
            : ns.t("no_districts");
          picker.setAttribute("data-loaded", String(data.features.length));
        })
        .catch(function () { status.textContent = ns.t("districts_failed"); });
    });
    return layer;
  };
})();
