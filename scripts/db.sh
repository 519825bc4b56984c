#!/usr/bin/env bash
# The project-local PostgreSQL + PostGIS cluster used when DATABASE_URL is not set.
#
#   scripts/db.sh start   initialise (first time) and start the cluster; create the database
#   scripts/db.sh stop    stop it (data is kept)
#   scripts/db.sh url     print the DATABASE_URL that reaches it
#   scripts/db.sh shell   open psql on it
#
# Why a cluster of our own: the project must not depend on a system-wide PostgreSQL being
# installed, running or configured. Data lives in .pgdata/ (git-ignored), on its own port,
# listening on 127.0.0.1 only, with trust authentication (a development database).
# initdb and postgres refuse to run as root, so as root we run them as the "postgres"
# system user (created by Debian's postgresql-common).
#
# Searchers' positions and terms must not reach the server log either: psycopg2 writes the
# parameters into the SQL text, which PostgreSQL would log with any statement that fails or
# is cancelled. Each `start` checks the settings below and, unless they are all in force,
# writes them into the cluster's postgresql.auto.conf (ALTER SYSTEM) and reloads: a new
# cluster, one made before this rule and one already running all get them, without a
# restart (docs/postgresql-logging.md).
set -euo pipefail
cd "$(dirname "$0")/.."

PGPORT_LOCAL=${PGPORT_LOCAL:-54329}
DB_NAME=${DB_NAME:-protection_directory}
DATA=${PGDATA_LOCAL:-$PWD/.pgdata}
URL="postgresql://postgres@127.0.0.1:${PGPORT_LOCAL}/${DB_NAME}"

die() { echo "error: $*" >&2; exit 1; }

# What the server may log: never a statement's text, its parameters or details quoting them.
# (directory/privacy_check.py, `flask privacy check-db-logging`, checks the same list.)
LOG_SETTINGS=(
  log_min_error_statement=panic          # no STATEMENT line after an error or a cancel
  log_error_verbosity=terse              # no DETAIL / HINT / QUERY / CONTEXT lines
  log_statement=none
  log_min_duration_statement=-1
  log_min_duration_sample=-1
  log_transaction_sample_rate=0
  log_parameter_max_length=0
  log_parameter_max_length_on_error=0
  log_connections=off
  log_disconnections=off
  debug_print_parse=off
  debug_print_rewritten=off
  debug_print_plan=off
)

# The server binaries of the PostgreSQL version that has PostGIS installed.
bindir() {
  local so
  for so in /usr/lib/postgresql/*/lib/postgis-3.so; do
    [ -e "$so" ] && { dirname "$(dirname "$so")"; return; }
  done
  die "PostGIS for PostgreSQL is not installed (run: scripts/ensure-system-packages.sh --with-db)"
}

# Run a server binary as an unprivileged user: ourselves, or "postgres" when we are root.
as_owner() {
  if [ "$(id -u)" = 0 ]; then
    id postgres >/dev/null 2>&1 || useradd --system --home-dir /var/lib/postgresql --shell /bin/bash postgres
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

ensure_data_dir() {
  mkdir -p "$DATA"
  if [ "$(id -u)" = 0 ]; then
    chown postgres: "$DATA"
    # The postgres user must be able to reach the folder (a checkout under /root is not).
    runuser -u postgres -- test -x "$DATA" \
      || die "the postgres user cannot reach $DATA; set PGDATA_LOCAL to a folder it can (e.g. /var/tmp/protection-directory)"
  fi
  chmod 700 "$DATA"
}

start() {
  local bin; bin="$(bindir)/bin"
  ensure_data_dir
  if [ ! -s "$DATA/PG_VERSION" ]; then
    echo "==> initialising a local PostgreSQL cluster in $DATA (port $PGPORT_LOCAL)"
    as_owner "$bin/initdb" -D "$DATA" -U postgres --auth=trust --encoding=UTF8 --locale=C.UTF-8 >/dev/null
  fi
  if as_owner "$bin/pg_ctl" -D "$DATA" status >/dev/null 2>&1; then
    :
  else
    echo "==> starting the local PostgreSQL cluster on 127.0.0.1:$PGPORT_LOCAL"
    as_owner "$bin/pg_ctl" -D "$DATA" -l "$DATA/server.log" -w -t 60 \
      -o "-p $PGPORT_LOCAL -c listen_addresses=127.0.0.1 -k $DATA -c fsync=off -c max_connections=200" start >/dev/null \
      || { tail -20 "$DATA/server.log" >&2; die "the local cluster did not start"; }
  fi
  apply_log_settings
  if ! psql -h 127.0.0.1 -p "$PGPORT_LOCAL" -U postgres -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname='$DB_NAME'" | grep -q 1; then
    psql -h 127.0.0.1 -p "$PGPORT_LOCAL" -U postgres -d postgres -qc "CREATE DATABASE $DB_NAME"
  fi
}

# Unless a new session already sees LOG_SETTINGS, write them into postgresql.auto.conf and
# reload, then wait until a new session sees them (the reload is asynchronous), so that
# nothing connects before they are in force.
apply_log_settings() {
  local psql=(psql -h 127.0.0.1 -p "$PGPORT_LOCAL" -U postgres -d postgres -qtAX -v ON_ERROR_STOP=1)
  local commands=() check="SELECT true" setting name value _
  for setting in "${LOG_SETTINGS[@]}"; do
    name=${setting%%=*} value=${setting#*=}
    commands+=(-c "ALTER SYSTEM SET $name = '$value'")
    check+=" AND current_setting('$name') = '$value'"
  done
  [ "$("${psql[@]}" -c "$check")" = t ] && return 0
  echo "==> setting the cluster's logging so that no statement text reaches its log"
  "${psql[@]}" "${commands[@]}" -c "SELECT pg_reload_conf()" >/dev/null
  for _ in $(seq 50); do
    [ "$("${psql[@]}" -c "$check")" = t ] && return 0
    sleep 0.1
  done
  die "the cluster did not take the logging settings (see $DATA/postgresql.auto.conf)"
}

stop() {
  [ -s "$DATA/PG_VERSION" ] || return 0
  local bin; bin="$(bindir)/bin"
  if as_owner "$bin/pg_ctl" -D "$DATA" status >/dev/null 2>&1; then
    echo "==> stopping the local PostgreSQL cluster"
    as_owner "$bin/pg_ctl" -D "$DATA" -m fast -w stop >/dev/null
  fi
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  url) echo "$URL" ;;
  shell) exec psql "$URL" ;;
  *) echo "usage: $0 start|stop|url|shell" >&2; exit 2 ;;
esac
