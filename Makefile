# Protection Directory — the two commands are `make run` and `make test`.
#
# Every target installs what it needs first (Debian packages, the Python virtual
# environment, the front-end assets) and skips what is already there. When DATABASE_URL is
# set it is used as it is; otherwise a project-local PostgreSQL + PostGIS cluster is started
# (data in .pgdata/, port $(PGPORT_LOCAL)).

SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV := .venv
PYTHON := $(VENV)/bin/python
FLASK := $(VENV)/bin/flask
STAMPS := .stamps
export PGPORT_LOCAL ?= 54329
export FLASK_APP := wsgi:app
# `make` runs the app for development: without SECRET_KEY it makes one up per process.
# Production (wsgi.py under gunicorn) refuses to start without SECRET_KEY.
export DIRECTORY_ENV ?= development

# The translations (directory/translations/, README "Languages"): each language's binary
# catalog is compiled from its .po when that changes; the .mo files are not committed.
CATALOGS := $(patsubst %.po,%.mo,$(wildcard directory/translations/*/LC_MESSAGES/messages.po))

ifeq ($(strip $(DATABASE_URL)),)
LOCAL_DB := 1
export DATABASE_URL := postgresql://postgres@127.0.0.1:$(PGPORT_LOCAL)/protection_directory
else
LOCAL_DB :=
endif

.PHONY: help run serve test lint format bench db db-shell migrate seed stop clean \
	i18n-extract i18n-update i18n-compile i18n-check

help: ## Show this list of targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

run: seed $(STAMPS)/assets $(CATALOGS) ## Set up, migrate, load the demo data and serve on http://127.0.0.1:5000
	@test "$$($(FLASK) users count 2>/dev/null)" != "0" || echo "No account exists yet: create one with \`$(FLASK) users create you@example.org --role secretariat\`"
	$(PYTHON) -m directory.devserver --host 127.0.0.1 --port 5000

serve: seed $(STAMPS)/assets $(CATALOGS) ## Like run, under gunicorn on http://127.0.0.1:8000 (gunicorn.conf.py)
	$(VENV)/bin/gunicorn wsgi:app

test: db $(STAMPS)/assets $(CATALOGS) ## Set up, then run every test (a fresh test database each run)
	@scripts/ensure-system-packages.sh --with-browser --with-db --with-gdal
	$(PYTHON) -m pytest

lint: $(STAMPS)/venv ## Check the code with ruff
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: $(STAMPS)/venv ## Rewrite the code in ruff's format
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

# `make bench SIZE=1000000`; `make bench SIZES=10000,100000,1000000` measures each size and
# draws docs/bench/latency-by-size.png.
SIZE ?= 10000
SIZES ?=

bench: db $(STAMPS)/bench ## Benchmarks over HTTP, SIZE places (bench/README.md); prints figures, never fails on them
	@scripts/ensure-system-packages.sh --with-bench
	$(PYTHON) bench/http_load.py --size $(SIZE) $(if $(SIZES),--sizes $(SIZES))

# The `bench` extra (matplotlib, for the plot) on top of the development install.
$(STAMPS)/bench: $(STAMPS)/venv
	$(PYTHON) -m pip install --quiet -c constraints.txt -e '.[dev,bench]'
	@touch $@

migrate: db ## Apply the database migrations
	$(FLASK) db upgrade

seed: migrate ## Load the demo data and the gazetteer, compute the consular districts (idempotent)
	$(FLASK) seed demo
	$(FLASK) gazetteer load
	$(FLASK) districts compute

db: $(STAMPS)/venv ## Make the database reachable (starts the local cluster unless DATABASE_URL is set)
ifeq ($(LOCAL_DB),1)
	@scripts/ensure-system-packages.sh --with-db
	@scripts/db.sh start
else
	@echo "==> using DATABASE_URL from the environment; no local cluster is started"
endif

db-shell: ## Open psql on the database
ifeq ($(LOCAL_DB),1)
	@scripts/db.sh shell
else
	psql "$(DATABASE_URL)"
endif

stop: ## Stop the local PostgreSQL cluster (its data is kept in .pgdata/)
	@scripts/db.sh stop

clean: stop ## Remove the virtual environment, assets and local database
	rm -rf $(VENV) $(STAMPS) node_modules directory/static/vendor directory/static-dist .pgdata

%/LC_MESSAGES/messages.mo: %/LC_MESSAGES/messages.po | $(STAMPS)/venv
	$(VENV)/bin/pybabel -q compile -i $< -o $@

i18n-extract: $(STAMPS)/venv ## Collect the messages of the code and templates into messages.pot
	@scripts/i18n.sh extract

i18n-update: i18n-extract ## Then bring the four catalogs (.po) in line with messages.pot
	@scripts/i18n.sh update

i18n-compile: $(CATALOGS) ## Compile the catalogs the app reads (make run/test do it too)

i18n-check: $(CATALOGS) ## Fail on a missing, untranslated or fuzzy message, or a stale .pot
	@scripts/i18n.sh check

$(STAMPS)/venv: pyproject.toml constraints.txt
	@scripts/ensure-system-packages.sh
	@test -x $(PYTHON) || python3 -m venv $(VENV)
	$(PYTHON) -m pip install --quiet --upgrade pip
	$(PYTHON) -m pip install --quiet -c constraints.txt -e '.[dev]'
	@mkdir -p $(STAMPS) && touch $@

# Our own scripts, styles and images: a change rebuilds directory/static-dist/.
STATIC_SOURCES := $(shell find directory/static -type f -not -path 'directory/static/vendor/*')

# npm packages into directory/static/vendor/, then directory/static-dist/ (what WhiteNoise
# serves): minified by esbuild, content-hashed copies and manifest.json, .gz and .br.
$(STAMPS)/assets: package.json package-lock.json scripts/vendor-assets.sh scripts/build-static.py $(STATIC_SOURCES) | $(STAMPS)/venv
	@scripts/ensure-system-packages.sh --with-node
	npm ci --no-audit --no-fund --ignore-scripts --loglevel=error
	@scripts/vendor-assets.sh
	$(PYTHON) scripts/build-static.py
	@mkdir -p $(STAMPS) && touch $@
