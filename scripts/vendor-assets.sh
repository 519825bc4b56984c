#!/usr/bin/env bash
# Copy the front-end files the pages use from node_modules/ into directory/static/vendor/.
#
# Why: public pages must load every script, style sheet and image from our own server. The
# npm registry is where the exact, locked versions come from (package-lock.json); this copy
# is what the app serves. The list is explicit so nothing unreviewed gets published.
set -euo pipefail
cd "$(dirname "$0")/.."
dest=directory/static/vendor
rm -rf "$dest.tmp" && mkdir -p "$dest.tmp/leaflet" "$dest.tmp/leaflet.markercluster"
cp node_modules/leaflet/dist/leaflet.js node_modules/leaflet/dist/leaflet.css "$dest.tmp/leaflet/"
cp -r node_modules/leaflet/dist/images "$dest.tmp/leaflet/images"
cp node_modules/leaflet/LICENSE "$dest.tmp/leaflet/LICENSE"
cp node_modules/leaflet.markercluster/dist/leaflet.markercluster.js \
   node_modules/leaflet.markercluster/dist/MarkerCluster.css \
   node_modules/leaflet.markercluster/dist/MarkerCluster.Default.css \
   node_modules/leaflet.markercluster/MIT-LICENCE.txt "$dest.tmp/leaflet.markercluster/"
rm -rf "$dest" && mv "$dest.tmp" "$dest"
echo "==> front-end assets copied to $dest"
