/* The base of every map we draw by hand: Leaflet, the base map's tiles (if any) and our
 * own country outlines, so a map stays readable when no tile comes.
 *
 * Tiles come from our own origin (/tiles/{z}/{x}/{y}.png, a cache of the upstream tile
 * server that only our server asks), so no third party sees where a person looks.
 *
 * ProtectionDirectory.baseMap(element, config) returns the Leaflet map; config holds
 * tiles (our tile URL template, or null), attribution, maxZoom and outlinesUrl (asked with
 * detail=coarse below zoom 6 and detail=fine from zoom 6 on: countryOutlines).
 * ProtectionDirectory.textNode wraps text for tooltips and popups (textContent, never
 * HTML).
 *
 * The words come from the server in the page's language (directory/i18n/script_strings.py,
 * <body data-strings>): t(key, {name: value}) is one message with its %(name)s
 * placeholders filled in (the values as given: callers set textContent), tn(key, count) the
 * form of a counted message for that count (KEY_one or KEY_other, Intl.PluralRules) with
 * the count as %(count)s, number(value) a number as the page's language writes it, and
 * fetchJSON(url) asks our API in the page's language (Accept-Language: the API reads no
 * cookie) and gives its JSON, or null.
 *
 * The kinds of organization are named and coloured by the server (directory/places/
 * kinds.py), which hands them over in <body data-kinds>: ProtectionDirectory.kinds is that
 * list in legend order, kind(key) one entry, kindIcon(key) a marker icon of its colour and
 * swatch(key) a legend dot. Colours are set through element.style (CSSOM), which a strict
 * Content-Security-Policy allows, never as style attributes in markup.
 */
(function () {
  "use strict";

  var ns = window.ProtectionDirectory = window.ProtectionDirectory || {};

  // <html lang>; Haitian Creole writes numbers as French does where the browser has no
  // data for it ("1 234,5").
  ns.language = document.documentElement.lang || "es";
  var locales = ns.language === "ht" ? ["ht", "fr"] : [ns.language];

  var strings = null;
  function has(key) {
    if (strings === null) {
      try { strings = JSON.parse(document.body.getAttribute("data-strings") || "{}"); }
      catch (error) { strings = {}; }
    }
    return Object.prototype.hasOwnProperty.call(strings, key);
  }

  ns.t = function (key, values) {
    var text = has(key) ? strings[key] : key;
    if (text.indexOf("%(") === -1) { return text; }
    // Python's %-formatting, which the translators know: %(name)s, and %% for a "%".
    return text.replace(/%(?:\(([A-Za-z_][A-Za-z0-9_]*)\)s|%)/g, function (whole, name) {
      if (!name) { return "%"; }
      return values && Object.prototype.hasOwnProperty.call(values, name)
        ? String(values[name]) : whole;
    });
  };

  // options: Intl.NumberFormat's (e.g. {useGrouping: false} for a count in a small disc).
  ns.number = function (value, options) {
    return new Intl.NumberFormat(locales, options).format(value);
  };

  var pluralRules = null;
  ns.tn = function (key, count, values) {
    pluralRules = pluralRules || new Intl.PluralRules(locales);
    var filled = { count: ns.number(count) };
    Object.keys(values || {}).forEach(function (name) { filled[name] = values[name]; });
    var form = key + "_" + pluralRules.select(count);
    return ns.t(has(form) ? form : key + "_other", filled);
  };

  ns.fetchJSON = function (url, options) {
    return fetch(url, {
      credentials: "same-origin",
      headers: { "Accept-Language": ns.language },
      signal: options && options.signal
    }).then(function (response) { return response.ok ? response.json() : null; });
  };

  ns.textNode = function (text) {
    var span = document.createElement("span");
    span.textContent = text;
    return span;
  };

  var kindList = JSON.parse(document.body.getAttribute("data-kinds") || "[]");
  var kindsByKey = {};
  kindList.forEach(function (kind) { kindsByKey[kind.key] = kind; });
  ns.kinds = kindList;
  ns.kind = function (key) {
    return kindsByKey[key] || { key: key, label: key, plural: key, color: "#64748b" };
  };

  ns.swatch = function (key) {
    var dot = document.createElement("span");
    dot.className = "kind-icon kind-icon--" + key;
    dot.style.backgroundColor = ns.kind(key).color;
    return dot;
  };

  if (typeof L === "undefined") { return; }

  // Leaflet's own words: the zoom buttons and the layer switcher (the popups' close button
  // and the credit's tooltip: baseMap).
  L.Control.Zoom.prototype.options.zoomInTitle = ns.t("zoom_in");
  L.Control.Zoom.prototype.options.zoomOutTitle = ns.t("zoom_out");
  var addLayers = L.Control.Layers.prototype.onAdd;
  L.Control.Layers.prototype.onAdd = function (map) {
    var container = addLayers.call(this, map);
    var toggle = container.querySelector(".leaflet-control-layers-toggle");
    if (toggle) { toggle.title = ns.t("layers"); }
    return container;
  };

  // A DivIcon whose element takes options.color as its background.
  var ColouredIcon = L.DivIcon.extend({
    createIcon: function (oldIcon) {
      var div = L.DivIcon.prototype.createIcon.call(this, oldIcon);
      div.style.backgroundColor = this.options.color;
      return div;
    }
  });
  ns.colouredIcon = function (options) { return new ColouredIcon(options); };

  ns.kindIcon = function (key, extraClass) {
    return new ColouredIcon({
      className: "kind-icon kind-icon--" + key + (extraClass ? " " + extraClass : ""),
      iconSize: [18, 18],
      color: ns.kind(key).color
    });
  };

  ns.baseMap = function (element, config) {
    var map = L.map(element, { zoomControl: true, minZoom: 2, maxZoom: 19 });
    map.on("popupopen", function (event) {
      var close = event.popup.getElement().querySelector(".leaflet-popup-close-button");
      if (close) { close.setAttribute("aria-label", ns.t("close")); }
    });
    var credit = map.attributionControl;
    if (credit && typeof credit.options.prefix === "string") {
      // Leaflet's own markup (a link and its flag), with its tooltip in our language.
      var prefix = document.createElement("span");
      prefix.innerHTML = credit.options.prefix;
      var leaflet = prefix.querySelector("a[title]");
      if (leaflet) {
        leaflet.title = ns.t("leaflet_title");
        credit.setPrefix(prefix.innerHTML);
      }
    }
    if (config.tiles) {
      L.tileLayer(config.tiles, {
        attribution: config.attribution, maxZoom: config.maxZoom || 19
      }).addTo(map);
    }
    countryOutlines(map, config.outlinesUrl || "/api/v1/countries/outlines");
    return map;
  };

  // The country outlines come simplified per zoom level (directory/places/countries.py):
  // "coarse" (about a third of the bytes) while the map is below FINE_OUTLINES_ZOOM, and
  // "fine" once it is at that zoom or more, asked once and drawn in place of the coarse
  // ones for good. A map whose first view is already that close asks "fine" alone.
  var FINE_OUTLINES_ZOOM = 6;

  // url with detail=<detail> added to its query string (before any #fragment).
  function withDetail(url, detail) {
    var hash = url.indexOf("#");
    var fragment = hash === -1 ? "" : url.slice(hash);
    var path = hash === -1 ? url : url.slice(0, hash);
    var separator = path.indexOf("?") === -1 ? "?" :
      (/[?&]$/.test(path) ? "" : "&");
    return path + separator + "detail=" + encodeURIComponent(detail) + fragment;
  }

  function countryOutlines(map, url) {
    var shown = null;          // the outlines on the map
    var fineShown = false;     // once true, nothing replaces them
    var fineAsked = false;

    function show(data, fine) {
      if (!data || fineShown) { return; }
      var layer = L.geoJSON(data, {
        interactive: false,
        style: function () {
          return { color: "#475569", weight: 1, fillColor: "#f1f5f9", fillOpacity: 0.6,
                   className: "country-outline" };
        }
      }).addTo(map);
      layer.bringToBack();
      if (shown) { map.removeLayer(shown); }
      shown = layer;
      fineShown = fine;
    }

    function askFine() {
      if (fineAsked || map.getZoom() < FINE_OUTLINES_ZOOM) { return; }
      fineAsked = true;
      map.off("zoomend", askFine);
      ns.fetchJSON(withDetail(url, "fine"))
        .then(function (data) { show(data, true); });
    }

    // Once the map has its first view (at once if it has one already).
    map.whenReady(function () {
      if (map.getZoom() < FINE_OUTLINES_ZOOM) {
        ns.fetchJSON(withDetail(url, "coarse"))
          .then(function (data) { show(data, false); });
        map.on("zoomend", askFine);
      } else {
        askFine();
      }
    });
  }

  // The numbered results of a list. Places that share one point (most demo points are town
  // centres) become one marker that lists them all, never a bare count or markers hiding
  // each other. results: [{rank, name, coordinates: [lon, lat], url}].
  ns.resultMarkers = function (results, className) {
    var groups = {};
    var order = [];
    results.forEach(function (result) {
      var key = result.coordinates[0].toFixed(5) + "," + result.coordinates[1].toFixed(5);
      if (!groups[key]) { groups[key] = []; order.push(key); }
      groups[key].push(result);
    });
    return order.map(function (key) {
      var group = groups[key];
      var ranks = group.map(function (result) { return result.rank; });
      var label = ranks.length > 3 ? ranks[0] + "–" + ranks[ranks.length - 1] : ranks.join(",");
      var list = document.createElement("div");
      if (group.length > 1) {
        var note = document.createElement("p");
        note.className = "shared-point";
        note.textContent = ns.tn("shared_point", group.length);
        list.appendChild(note);
      }
      var items = document.createElement("ol");
      items.className = "shared-point__list";
      group.forEach(function (result) {
        var item = document.createElement("li");
        item.value = result.rank;
        var link = document.createElement("a");
        link.href = result.url;
        link.textContent = result.name;
        item.appendChild(link);
        items.appendChild(item);
      });
      list.appendChild(items);
      var names = group.map(function (result) {
        return ns.t("numbered_place", { rank: ns.number(result.rank), name: result.name });
      });
      var width = Math.max(24, 10 + 8 * String(label).length);
      var marker = L.marker([group[0].coordinates[1], group[0].coordinates[0]], {
        icon: L.divIcon({
          className: className + (group.length > 1 ? " " + className + "--shared" : ""),
          html: String(label),
          iconSize: [width, 24]
        }),
        title: names.join("; "),
        zIndexOffset: 1000
      }).bindPopup(list);
      // One name fits a tooltip; a list is for the popup.
      return group.length === 1 ? marker.bindTooltip(ns.textNode(names[0])) : marker;
    });
  };

  // The migration routes (dashed red lines, each with its name as a tooltip).
  ns.routesLayer = function (map, url) {
    var layer = L.geoJSON(null, {
      style: function () {
        return { color: "#b91c1c", weight: 3, opacity: 0.8, dashArray: "6 4",
                 className: "route-line" };
      },
      onEachFeature: function (feature, line) {
        line.bindTooltip(ns.textNode(feature.properties.name));
      }
    }).addTo(map);
    ns.fetchJSON(url || "/api/v1/routes")
      .then(function (data) { if (data) { layer.addData(data); } });
    return layer;
  };
})();
