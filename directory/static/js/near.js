/* "Help near me": progressive enhancement of a form that works without JavaScript.
 *
 * locate.js adds "use my location"; this adds "search near here" by tapping the map, and
 * a live map whose markers come from /api/v1/locations for the visible area,
 * clustered per kind of place. Text from the directory is set with textContent, never as
 * HTML.
 */
(function () {
  "use strict";

  var form = document.getElementById("near-form");

  var mapElement = document.getElementById("near-map");
  if (!mapElement || typeof L === "undefined") { return; }
  var config = JSON.parse(mapElement.getAttribute("data-config") || "{}");
  var map = window.ProtectionDirectory.baseMap(mapElement, config);
  var textNode = window.ProtectionDirectory.textNode;

  // One clustered layer per group of kinds; the layer switcher shows and hides them.
  var GROUPS = [
    { key: "consular", label: "Consulates and embassies", kinds: ["consulate", "embassy"] },
    { key: "shelters", label: "Shelters", kinds: ["shelter"] },
    { key: "partners", label: "Partner organizations", kinds: ["civil_society", "government"] },
    { key: "international", label: "International organizations", kinds: ["international_org"] }
  ];
  var groupOfKind = {};
  var overlays = {};
  GROUPS.forEach(function (group) {
    group.layer = L.markerClusterGroup({ showCoverageOnHover: false, maxClusterRadius: 50 });
    group.layer.addTo(map);
    overlays[group.label] = group.layer;
    group.kinds.forEach(function (kind) { groupOfKind[kind] = group; });
  });
  var serverClusters = L.layerGroup().addTo(map);

  var routes = L.geoJSON(null, {
    style: function () {
      return { color: "#b91c1c", weight: 3, opacity: 0.8, dashArray: "6 4", className: "route-line" };
    },
    onEachFeature: function (feature, layer) { layer.bindTooltip(textNode(feature.properties.name)); }
  }).addTo(map);
  overlays["Migration routes"] = routes;
  fetch("/api/v1/routes", { credentials: "same-origin" })
    .then(function (response) { return response.ok ? response.json() : null; })
    .then(function (data) { if (data) { routes.addData(data); } });

  L.control.layers(null, overlays, { collapsed: true }).addTo(map);

  var legend = L.control({ position: "bottomleft" });
  legend.onAdd = function () {
    var box = L.DomUtil.create("div", "map-legend");
    GROUPS.forEach(function (group) {
      var row = L.DomUtil.create("div", "map-legend__row", box);
      L.DomUtil.create("span", "kind-icon kind-icon--" + group.kinds[0], row);
      row.appendChild(document.createTextNode(" " + group.label));
    });
    return box;
  };
  legend.addTo(map);

  function kindIcon(kind) {
    return L.divIcon({ className: "kind-icon kind-icon--" + kind, iconSize: [18, 18] });
  }

  function popupFor(properties) {
    var box = document.createElement("div");
    var link = document.createElement("a");
    link.href = "/places/" + properties.id;
    link.textContent = properties.name;
    box.appendChild(link);
    var kind = document.createElement("div");
    kind.textContent = (config.kinds || {})[properties.kind] || properties.kind;
    box.appendChild(kind);
    return box;
  }

  var pending = null;
  function loadArea() {
    var bounds = map.getBounds();
    var bbox = [
      Math.max(bounds.getWest(), -180), Math.max(bounds.getSouth(), -90),
      Math.min(bounds.getEast(), 180), Math.min(bounds.getNorth(), 90)
    ].map(function (value) { return value.toFixed(4); }).join(",");
    if (pending) { pending.abort(); }
    pending = new AbortController();
    fetch(config.areaUrl + "?bbox=" + bbox, { credentials: "same-origin", signal: pending.signal })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (data) {
        if (!data) { return; }
        GROUPS.forEach(function (group) { group.layer.clearLayers(); });
        serverClusters.clearLayers();
        data.features.forEach(function (feature) {
          var c = feature.geometry.coordinates;
          var p = feature.properties;
          if (p.cluster) {
            L.marker([c[1], c[0]], { icon: L.divIcon({
              className: "server-cluster", html: String(p.count), iconSize: [36, 36] }) })
              .on("click", function () { map.setView([c[1], c[0]], map.getZoom() + 2); })
              .addTo(serverClusters);
            return;
          }
          var group = groupOfKind[p.kind];
          if (!group) { return; }
          L.marker([c[1], c[0]], { icon: kindIcon(p.kind), title: p.name })
            .bindPopup(function () { return popupFor(p); })
            .addTo(group.layer);
        });
        mapElement.setAttribute("data-loaded", "true");
      })
      .catch(function () { /* an aborted or failed load: the next move tries again */ });
  }

  var moveTimer = null;
  map.on("moveend", function () {
    clearTimeout(moveTimer);
    moveTimer = setTimeout(loadArea, 250);
  });

  // The searcher's point and the numbered results of the list.
  var focus = [];
  if (config.origin) {
    var origin = [config.origin[1], config.origin[0]];
    L.circleMarker(origin, { radius: 8, color: "#fff", weight: 2, fillColor: "#111827",
                             fillOpacity: 1, className: "origin-marker" })
      .bindTooltip("You are searching from here").addTo(map);
    focus.push(origin);
  }
  (config.results || []).forEach(function (result) {
    var position = [result.coordinates[1], result.coordinates[0]];
    L.marker(position, { icon: L.divIcon({ className: "result-marker", html: String(result.rank),
                                          iconSize: [24, 24] }), zIndexOffset: 1000 })
      .bindTooltip(textNode(result.name)).addTo(map);
    focus.push(position);
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
    button.textContent = "Search near here";
    button.addEventListener("click", function () {
      window.ProtectionDirectory.searchAt(form, event.latlng.lat, event.latlng.lng);
    });
    L.popup().setLatLng(event.latlng).setContent(button).openOn(map);
  });
})();
