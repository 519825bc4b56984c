/* "Use my location" for every search form that starts from a place.
 *
 * A form marked data-locate holds hidden inputs name=lat and name=lon, a town field
 * name=q and a hidden button [data-locate-button]. Without JavaScript the button stays
 * hidden and the town field works alone. With it, the button asks the browser for the
 * position, fills lat/lon, clears the town and submits; the position goes only to our
 * server, in the query string, which is never logged. Typing a town clears an earlier
 * position. window.ProtectionDirectory.searchAt(form, lat, lon) lets a map tap do the same.
 */
(function () {
  "use strict";

  function searchAt(form, lat, lon) {
    form.elements.lat.value = lat.toFixed(5);
    form.elements.lon.value = lon.toFixed(5);
    if (form.elements.q) { form.elements.q.value = ""; }
    form.submit();
  }

  // The page's words (map-base.js, loaded on every page with this script), read when needed.
  function say(key) {
    var ns = window.ProtectionDirectory;
    return ns && ns.t ? ns.t(key) : key;
  }

  function wire(form) {
    var button = form.querySelector("[data-locate-button]");
    var town = form.elements.q;
    if (town) {
      town.addEventListener("input", function () {
        form.elements.lat.value = "";
        form.elements.lon.value = "";
      });
    }
    if (!button || !("geolocation" in navigator)) { return; }
    var label = button.textContent;
    button.hidden = false;
    button.addEventListener("click", function () {
      button.disabled = true;
      button.textContent = button.getAttribute("data-busy-label") || say("locating");
      navigator.geolocation.getCurrentPosition(
        function (position) { searchAt(form, position.coords.latitude, position.coords.longitude); },
        function () {
          button.disabled = false;
          button.textContent = label;
          var note = document.createElement("p");
          note.className = "problem";
          note.setAttribute("role", "alert");
          note.textContent = button.getAttribute("data-failed-label") ||
            say("position_unavailable");
          form.appendChild(note);
        },
        { enableHighAccuracy: false, timeout: 20000, maximumAge: 300000 }
      );
    });
  }

  Array.prototype.forEach.call(document.querySelectorAll("form[data-locate]"), wire);
  window.ProtectionDirectory = window.ProtectionDirectory || {};
  window.ProtectionDirectory.searchAt = searchAt;
})();
