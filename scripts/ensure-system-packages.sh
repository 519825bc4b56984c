#!/usr/bin/env bash
# Install the Debian packages the project needs when they are missing.
#
# Why a script: `make run` and `make test` must work on a fresh Debian machine, as root or
# as an ordinary user. We install with apt when we can (root, or passwordless sudo) and
# otherwise print the one command a person has to run. Packages already present are left
# alone, so a second run is instant.
#
# Usage: scripts/ensure-system-packages.sh [--with-db] [--with-browser] [--with-node] [--with-bench]
#        [--with-gdal]
set -euo pipefail

want=()
need_db=0; need_browser=0; need_node=0; need_bench=0; need_gdal=0
for arg in "$@"; do
  case "$arg" in
    --with-db) need_db=1 ;;
    --with-browser) need_browser=1 ;;
    --with-node) need_node=1 ;;
    --with-bench) need_bench=1 ;;
    --with-gdal) need_gdal=1 ;;
    *) echo "unknown option: $arg" >&2; exit 2 ;;
  esac
done

installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }

# PostgreSQL server + PostGIS: only needed when we start our own cluster.
if [ "$need_db" = 1 ]; then
  for pkg in postgresql-15 postgresql-15-postgis-3 postgresql-contrib; do
    installed "$pkg" || want+=("$pkg")
  done
fi
# Headless Chromium for the browser tests (Playwright drives it; it never downloads one).
if [ "$need_browser" = 1 ]; then
  installed chromium || want+=(chromium)
  # Fonts so pages render text in a fresh container.
  installed fonts-dejavu-core || want+=(fonts-dejavu-core)
fi
# Node.js + npm install the front-end assets (Leaflet & co.) from the npm registry.
if [ "$need_node" = 1 ]; then
  command -v npm >/dev/null 2>&1 || want+=(nodejs npm)
fi
# wrk, the HTTP load generator of `make bench` (bench/http_load.py), from Debian.
if [ "$need_bench" = 1 ]; then
  installed wrk || want+=(wrk)
fi
# GDAL's ogrinfo: the tests open every GeoJSON output with a third-party reader (issue 15).
if [ "$need_gdal" = 1 ]; then
  installed gdal-bin || want+=(gdal-bin)
fi
# The Python venv module (Debian splits it out of python3).
python3 -c "import venv, ensurepip" >/dev/null 2>&1 || want+=(python3-venv)

[ ${#want[@]} -eq 0 ] && exit 0

if [ "$(id -u)" = 0 ]; then
  SUDO=()
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  SUDO=(sudo -n)
else
  cat >&2 <<MSG

  These Debian packages are missing: ${want[*]}
  Install them once (this needs administrator rights), then run make again:

      sudo apt-get update && sudo apt-get install -y ${want[*]}

  Or point DATABASE_URL at an existing PostGIS database to skip the local cluster.

MSG
  exit 1
fi

echo "==> installing Debian packages: ${want[*]}"
export DEBIAN_FRONTEND=noninteractive
"${SUDO[@]}" apt-get update -qq
# The Debian postgresql package creates and starts a system-wide cluster "main"; we never
# use it, so ask the package not to create one where we can.
if [ ! -e /etc/postgresql-common/createcluster.conf ] && [ "$need_db" = 1 ]; then
  "${SUDO[@]}" mkdir -p /etc/postgresql-common
  echo "create_main_cluster = false" | "${SUDO[@]}" tee /etc/postgresql-common/createcluster.conf >/dev/null
fi
"${SUDO[@]}" apt-get install -y -qq --no-install-recommends "${want[@]}"
