/* The places of the visible area, shared by the overview map and "Help near me".
 *
 * ProtectionDirectory.areaLayer(map, config) asks config.areaUrl (/api/v1/locations) for
 * the places inside the map's bounds after every move. Up to the server's limit they come
 * as points: one marker per place in its kind's colour (the server's vocabulary, see
 * map-base.js), clustered in the browser, one entry per kind in the layer switcher. Past
 * it the server sends grid clusters, drawn as numbered circles that zoom in when tapped. So a page never carries the places
 * itself, and the browser never holds more than one area's worth.
 *
 * Returns {overlays: {plural label: layer}} for a layer switcher. Sets data-loaded="true" on
 * the map's element once an area has been drawn. Popups are built with textContent and
 * link to the place's own page.
 */
(function () {
  "use strict";

  var ns = window.ProtectionDirectory;
  if (typeof L === "undefined" || !ns || !ns.baseMap) { return; }

  // Clusters mix kinds, so they wear no kind's colour: a dark disc sized by its count.
  function clusterIcon(cluster) {
    var count = cluster.getChildCount();
    var size = count < 10 ? 30 : count < 100 ? 36 : 42;
    return L.divIcon({ html: ns.number(count, { useGrouping: false }), className: "marker-cluster place-cluster",
                       iconSize: [size, size] });
  }

  function popupFor(properties) {
    var box = document.createElement("div");
    box.className = "place-popup";
    var link = document.createElement("a");
    link.href = "/places/" + encodeURIComponent(properties.id);
    link.textContent = properties.name;
    box.appendChild(link);
    var kind = document.createElement("div");
    kind.className = "place-popup__kind";
    kind.textContent = ns.kind(properties.kind).label;
    box.appendChild(kind);
    return box;
  }

  function bboxOf(map) {
    var bounds = map.getBounds();
    return [
      Math.max(bounds.getWest(), -180), Math.max(bounds.getSouth(), -90),
      Math.min(bounds.getEast(), 180), Math.min(bounds.getNorth(), 90)
    ].map(function (value) { return value.toFixed(4); }).join(",");
  }

  ns.areaLayer = function (map, config) {
    var element = map.getContainer();
    // One cluster layer for every kind, so nearby places of different kinds share a
    // cluster instead of stacking one per kind. The layer switcher gets a stand-in layer
    // per kind; adding or removing it adds or removes that kind's markers.
    var cluster = L.markerClusterGroup({
      showCoverageOnHover: false, maxClusterRadius: 50, iconCreateFunction: clusterIcon
    }).addTo(map);
    var markersOf = {};
    var shown = {};
    var overlays = {};
    ns.kinds.forEach(function (kind) {
      var toggle = L.layerGroup();
      toggle.on("add", function () {
        shown[kind.key] = true;
        cluster.addLayers(markersOf[kind.key] || []);
      });
      toggle.on("remove", function () {
        shown[kind.key] = false;
        cluster.removeLayers(markersOf[kind.key] || []);
      });
      toggle.addTo(map);
      overlays[kind.plural] = toggle;
    });
    var serverClusters = L.layerGroup().addTo(map);

    function draw(data) {
      cluster.clearLayers();
      serverClusters.clearLayers();
      markersOf = {};
      data.features.forEach(function (feature) {
        var c = feature.geometry.coordinates;
        var p = feature.properties;
        if (p.cluster) {
          L.marker([c[1], c[0]], { icon: L.divIcon({
            className: "server-cluster", html: ns.number(Number(p.count), { useGrouping: false }),
            iconSize: [36, 36] }) })
            .on("click", function () { map.setView([c[1], c[0]], map.getZoom() + 2); })
            .addTo(serverClusters);
          return;
        }
        if (!(p.kind in shown)) { return; }
        var marker = L.marker([c[1], c[0]], { icon: ns.kindIcon(p.kind, "place-marker"),
                                              title: p.name });
        marker.bindPopup(function () { return popupFor(p); });
        (markersOf[p.kind] = markersOf[p.kind] || []).push(marker);
      });
      // addLayers clusters a whole batch at once: far faster than one addLayer per marker.
      Object.keys(markersOf).forEach(function (key) {
        if (shown[key]) { cluster.addLayers(markersOf[key]); }
      });
      element.setAttribute("data-loaded", "true");
    }

    var pending = null;
    function load() {
      if (pending) { pending.abort(); }
      pending = new AbortController();
      ns.fetchJSON(config.areaUrl + "?bbox=" + bboxOf(map), { signal: pending.signal })
        .then(function (data) { if (data) { draw(data); } })
        .catch(function () { /* an aborted or failed load: the next move tries again */ });
    }

    var moveTimer = null;
    map.on("moveend", function () {
      clearTimeout(moveTimer);
      moveTimer = setTimeout(load, 250);
    });
    return { overlays: overlays, load: load };
  };
})();
