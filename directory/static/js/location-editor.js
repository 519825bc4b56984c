/* The location editor's map (workspace, templates/workspace/location_edit.html).
 *
 * The form works without JavaScript: the latitude and longitude are typed. With it, the
 * map section is shown with a draggable marker at the point: a click on the map moves the
 * marker there, and dragging moves it too; both fill the latitude and longitude fields
 * (six decimals, about 10 cm). Typing in those fields moves the marker. What happened is
 * said in a polite live region, so a screen reader user hears the new point.
 *
 * The opening hours: without JavaScript every day shows its state and its time fields.
 * With it, the days are shown only for "Day by day", and a day's time fields only when
 * it is "Open from … to …", so a phone's page is a third as long.
 */
(function () {
  "use strict";

  var ns = window.ProtectionDirectory = window.ProtectionDirectory || {};

  function showWhenChecked(radios, wanted, target) {
    function update() {
      var checked = null;
      radios.forEach(function (radio) { if (radio.checked) { checked = radio.value; } });
      target.hidden = checked !== wanted;
    }
    radios.forEach(function (radio) { radio.addEventListener("change", update); });
    update();
  }

  function hours() {
    var days = document.querySelector(".week-days");
    if (!days) { return; }
    var modes = Array.prototype.slice.call(document.querySelectorAll("input[name='hours-mode']"));
    showWhenChecked(modes, "weekly", days);
    Array.prototype.forEach.call(days.querySelectorAll("fieldset.day"), function (day) {
      var ranges = day.querySelector(".ranges");
      var states = Array.prototype.slice.call(day.querySelectorAll("input[type=radio]"));
      // A day with an error keeps its fields in sight.
      if (ranges && !day.classList.contains("field--error")) {
        showWhenChecked(states, "hours", ranges);
      }
    });
  }

  function start() {
    hours();
    var element = document.getElementById("location-map");
    var section = document.getElementById("location-map-section");
    var latField = document.getElementById("lat");
    var lonField = document.getElementById("lon");
    var status = document.getElementById("location-map-status");
    if (!element || !section || !latField || !lonField || typeof L === "undefined" || !ns.baseMap) {
      return;
    }
    var config = JSON.parse(element.getAttribute("data-config") || "{}");
    section.hidden = false;
    var map = ns.baseMap(element, config);

    function typed() {
      var lat = parseFloat(String(latField.value).replace(",", "."));
      var lon = parseFloat(String(lonField.value).replace(",", "."));
      if (!isFinite(lat) || !isFinite(lon) || Math.abs(lat) > 90 || Math.abs(lon) > 180) {
        return null;
      }
      return L.latLng(lat, lon);
    }

    var start = typed() || L.latLng(config.lat, config.lon);
    map.setView(start, 13);
    var marker = L.marker(start, {
      draggable: true,
      autoPan: true,
      title: ns.t("drag_to_move"),
      alt: ns.t("drag_to_move"),
      keyboard: true
    }).addTo(map);

    function fill(latlng) {
      var lat = Math.round(latlng.lat * 1e6) / 1e6;
      var lon = Math.round(L.Util.wrapNum(latlng.lng, [-180, 180], true) * 1e6) / 1e6;
      latField.value = String(lat);
      lonField.value = String(lon);
      status.textContent = ns.t("point_set", { lat: ns.number(lat, { maximumFractionDigits: 6 }),
                                               lon: ns.number(lon, { maximumFractionDigits: 6 }) });
    }

    marker.on("dragend", function () { fill(marker.getLatLng()); });
    map.on("click", function (event) {
      marker.setLatLng(event.latlng);
      fill(event.latlng);
    });

    function follow() {
      var latlng = typed();
      if (!latlng) { return; }
      marker.setLatLng(latlng);
      map.panTo(latlng);
    }
    latField.addEventListener("change", follow);
    lonField.addEventListener("change", follow);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
}());
