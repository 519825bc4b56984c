/* The map beside a server-rendered list on a wide screen, one tap away on a phone.
 *
 * A map's section (_map.html map_panel) is [data-map-panel] and starts hidden, so without
 * JavaScript (or when Leaflet did not load) the list is the whole page and no blank box
 * stands where a map would be. ProtectionDirectory.mapPanel(element, init) shows it and
 * creates the map with init() (which returns the Leaflet map) the first time its element
 * is displayed: at once beside the list on a wide screen; on a phone (the CSS hides the
 * section below 701 px) only when the person taps "Show on map", so a phone on a weak
 * connection fetches no outlines, routes or markers it was not asked for. Leaflet measures
 * its element when it is created; a map shown again after being hidden, or after the
 * window crossed the breakpoint, is told its new size with invalidateSize().
 *
 * The buttons [data-map-toggle="map"] ("Show on map", in the list) and
 * [data-map-toggle="list"] ("Show list", above the map) are hidden until this runs. Once
 * "Show on map" has scrolled out of sight, a copy of it floats at the foot of the screen,
 * so the map stays one tap away anywhere in a long list. The map view is a history entry
 * (#map), so the phone's back button returns to the list, where the list was scrolled to.
 */
(function () {
  "use strict";

  var ns = window.ProtectionDirectory = window.ProtectionDirectory || {};
  var HASH = "#map";

  function displayed(element) {
    return element.offsetWidth > 0 && element.offsetHeight > 0;
  }

  function onMediaChange(query, listener) {
    if (!window.matchMedia) { return; }
    var list = window.matchMedia(query);
    if (list.addEventListener) { list.addEventListener("change", listener); }
    else if (list.addListener) { list.addListener(listener); }  // older Safari
  }

  // A copy of "Show on map" fixed at the foot of the screen while the button itself is out
  // of sight (the CSS shows it on a phone only).
  function floatingCopy(button) {
    if (!button || !window.IntersectionObserver) { return; }
    var copy = button.cloneNode(true);
    copy.classList.add("map-toggle--floating");
    copy.removeAttribute("id");
    button.parentNode.appendChild(copy);
    new window.IntersectionObserver(function (entries) {
      var entry = entries[entries.length - 1];
      // Hidden (not yet shown by this script, or in the map view): no copy either.
      copy.hidden = entry.isIntersecting || button.hidden || !entry.rootBounds ||
        entry.boundingClientRect.height === 0;
    }).observe(button);
  }

  ns.mapPanel = function (element, init) {
    var panel = element.closest ? element.closest("[data-map-panel]") : null;
    var map = null;

    function show() {
      if (!displayed(element)) { return; }
      if (map) { map.invalidateSize(); } else { map = init(); }
    }

    if (!panel) { show(); return; }
    var layout = panel.parentNode;
    floatingCopy(document.querySelector("[data-map-toggle=map]"));
    var toggles = document.querySelectorAll("[data-map-toggle]");
    var listScroll = 0;

    function setView(mapView) {
      if (layout.classList.contains("is-map-view") === mapView) { show(); return; }
      if (mapView) { listScroll = window.pageYOffset; }
      layout.classList.toggle("is-map-view", mapView);
      Array.prototype.forEach.call(toggles, function (button) {
        button.setAttribute("aria-expanded", String(mapView));
      });
      show();
      if (mapView) {
        window.scrollTo(0, 0);
        var back = panel.querySelector("[data-map-toggle=list]");
        if (back) { back.focus({ preventScroll: true }); }
      } else {
        window.scrollTo(0, listScroll);
      }
    }

    Array.prototype.forEach.call(toggles, function (button) {
      if (!button.classList.contains("map-toggle--floating")) { button.hidden = false; }
      button.setAttribute("aria-expanded", "false");
      button.addEventListener("click", function () {
        if (button.getAttribute("data-map-toggle") === "map") {
          if (window.location.hash !== HASH && window.history.pushState) {
            window.history.pushState({ mapView: true }, "", HASH);
          }
          setView(true);
        } else if (window.history.state && window.history.state.mapView) {
          window.history.back();  // popstate below shows the list
        } else {
          if (window.location.hash === HASH && window.history.replaceState) {
            window.history.replaceState(null, "", window.location.pathname + window.location.search);
          }
          setView(false);
        }
      });
    });
    window.addEventListener("popstate", function () {
      setView(window.location.hash === HASH);
    });

    panel.hidden = false;
    if (window.location.hash === HASH) {
      setView(true);
    } else {
      show();
    }
    // Across the breakpoint the section appears or disappears: create or resize the map.
    onMediaChange("(min-width: 701px)", show);
  };
})();
