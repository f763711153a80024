#!/usr/bin/env bash
# Bring up a throw-away BottleCRM (django-crm 1.35.0) API on 127.0.0.1 for cdq's e2e tests.
# Adapted from ../shared/crm/bottlecrm_up.sh: pinned constraints, a lock (CI starts it in the background
# and the test fixture may call it again: the second caller waits, then finds it running), idempotent.
# Debian 12, run as root. Everything lives under $BCRM_DIR. Prints timings.
# Writes $BCRM_DIR/creds.env (BCRM_URL, PAT, ORG_ID, ...) and env.sh for the tests.
set -euo pipefail

BCRM_DIR=${BCRM_DIR:-/var/lib/cdq-bottlecrm}  # root-owned state, not a shared temp dir
HERE=$(cd "$(dirname "$0")" && pwd)
# The migrated-schema dump is a cache (~2 min of `migrate` saved); CI works without it.
BCRM_DB_CACHE=${BCRM_DB_CACHE-$HOME/.cache/cdq/bottlecrm/crm_migrated_django-crm-1.35.0.dump}
WORKERS=${BCRM_WORKERS:-4}
PY=${BCRM_PYTHON:-$(PYENV_VERSION=3.12.1 pyenv which python 2>/dev/null || command -v python3.12)}   # must be >= 3.12
PG_PORT=${BCRM_PG_PORT:-55433}
API_PORT=${BCRM_API_PORT:-58100}
USE_REDIS=${BCRM_USE_REDIS:-0}        # 0: in-memory Celery broker, no Redis needed
REDIS_PORT=${BCRM_REDIS_PORT:-56380}
PGBIN=/usr/lib/postgresql/15/bin

t0=$(date +%s)
mkdir -p "$BCRM_DIR"
exec 9>"$BCRM_DIR.lock"
flock 9
if [ -f "$BCRM_DIR/creds.env" ] && [ -f "$BCRM_DIR/run/gunicorn.pid" ] && kill -0 "$(cat "$BCRM_DIR/run/gunicorn.pid")" 2>/dev/null \
   && curl -fsS -o /dev/null "$(grep ^BCRM_URL= "$BCRM_DIR/creds.env" | cut -d= -f2)/healthz/" 2>/dev/null; then
  echo "BottleCRM already running (credentials in $BCRM_DIR/creds.env)"; exit 0
fi
step() { echo "[$(( $(date +%s) - t0 ))s] $*"; }

step "apt packages"
# libpango/libpangoft2 are NOT optional: weasyprint is imported when the URLconf loads,
# and without them every request fails (OSError: cannot load library 'libpango-1.0-0').
pkgs="postgresql-15 postgresql-client-15 libpango-1.0-0 libpangoft2-1.0-0"
[ "$USE_REDIS" = 1 ] && pkgs="$pkgs redis-server"
if ! dpkg -s $pkgs >/dev/null 2>&1; then
  apt-get update -q >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q $pkgs >/dev/null
fi
# apt's postgresql package auto-creates (and, where an init system runs, starts) a "main"
# cluster on 5432; we never use it: own cluster below, under $BCRM_DIR, on another port.

mkdir -p "$BCRM_DIR"/{run,pgsock,pglog}
cd "$BCRM_DIR"
chmod 755 "$BCRM_DIR"

step "venv + install django-crm==1.35.0 (${BCRM_INSTALLER:-uv})"
# celery[redis] pulls in `packaging`, which kombu's redis transport imports but django-crm
# does not declare: without it every POST /api/contacts/ is a 500 when the broker is redis://.
# uv (from PyPI) resolves exactly the same versions as pip, in ~5 s instead of ~35-45 s.
if ! [ -x "$BCRM_DIR/venv/bin/gunicorn" ]; then
  if [ "${BCRM_INSTALLER:-uv}" = uv ]; then
    export UV_CACHE_DIR=${UV_CACHE_DIR:-$BCRM_DIR/uv-cache}
    "$PY" -m venv "$BCRM_DIR/uvtool" && "$BCRM_DIR/uvtool/bin/pip" install -q uv
    "$BCRM_DIR/uvtool/bin/uv" venv -q -p "$PY" "$BCRM_DIR/venv"
    "$BCRM_DIR/uvtool/bin/uv" pip install -q -p "$BCRM_DIR/venv/bin/python" \
      django-crm==1.35.0 "celery[redis]" -c "$HERE/constraints.txt"
  else
    "$PY" -m venv "$BCRM_DIR/venv"
    "$BCRM_DIR/venv/bin/pip" install -q django-crm==1.35.0 "celery[redis]" -c "$HERE/constraints.txt"
  fi
fi

step "PostgreSQL 15 cluster on 127.0.0.1:$PG_PORT"
if ! [ -f "$BCRM_DIR/pgdata/PG_VERSION" ]; then
  mkdir -p "$BCRM_DIR/pgdata"
  chown postgres:postgres "$BCRM_DIR"/{pgdata,pgsock,pglog}
  runuser -u postgres -- $PGBIN/initdb -D "$BCRM_DIR/pgdata" -U postgres -A trust \
    --encoding=UTF8 --locale=C.UTF-8 >/dev/null
fi
# fsync etc. off: fine for a throw-away DB (migrate is CPU-bound, so this gains little).
runuser -u postgres -- $PGBIN/pg_ctl -D "$BCRM_DIR/pgdata" status >/dev/null 2>&1 ||
runuser -u postgres -- $PGBIN/pg_ctl -D "$BCRM_DIR/pgdata" -l "$BCRM_DIR/pglog/pg.log" -w \
  -o "-c listen_addresses=127.0.0.1 -p $PG_PORT -c unix_socket_directories=$BCRM_DIR/pgsock -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
  start >/dev/null 9>&-   # 9>&-: daemons must not inherit (and so hold) the lock

# Non-superuser application role: a superuser silently bypasses the RLS policies.
psql -q -h 127.0.0.1 -p "$PG_PORT" -U postgres -v ON_ERROR_STOP=1 <<'SQL'
SELECT 'CREATE DATABASE crm_db' WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname='crm_db')\gexec
DO $$BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname='crm_user') THEN
  CREATE ROLE crm_user LOGIN PASSWORD 'crm_password'; END IF; END$$;
GRANT ALL PRIVILEGES ON DATABASE crm_db TO crm_user;
\connect crm_db
GRANT ALL ON SCHEMA public TO crm_user;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT ALL ON TABLES TO crm_user;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT ALL ON SEQUENCES TO crm_user;
SQL

if [ "$USE_REDIS" = 1 ]; then
  step "redis on 127.0.0.1:$REDIS_PORT"
  mkdir -p "$BCRM_DIR/redis"
  redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --daemonize yes --save '' --appendonly no \
    --dir "$BCRM_DIR/redis" --pidfile "$BCRM_DIR/redis/redis.pid" --logfile "$BCRM_DIR/redis/redis.log" 9>&-
  BROKER=redis://127.0.0.1:$REDIS_PORT/0; RESULTS=$BROKER
else
  BROKER=memory://; RESULTS=cache+memory://   # tasks (notification e-mails) are dropped
fi

cat > "$BCRM_DIR/env.sh" <<EOF
export DJANGO_SETTINGS_MODULE=crm.settings
export SECRET_KEY=e2e-only-not-secret-0123456789abcdefghijklmnopqrstuvwxyz
export ENV_TYPE=dev DEBUG=False ALLOWED_HOSTS=localhost,127.0.0.1
export DBNAME=crm_db DBUSER=crm_user DBPASSWORD=crm_password DBHOST=127.0.0.1 DBPORT=$PG_PORT
export CELERY_BROKER_URL=$BROKER CELERY_RESULT_BACKEND=$RESULTS
export PATH=$BCRM_DIR/venv/bin:\$PATH
EOF
. "$BCRM_DIR/env.sh"
cd "$BCRM_DIR/run"     # settings' LOGGING writes server.log + security_audit.log into the CWD

# Optional cache: BCRM_DB_CACHE=/path/crm_migrated.dump. If the file exists the migrated
# schema is restored from it (~1 s instead of ~2 min of `migrate`); if not, it is written
# after migrating. `migrate` still runs (a ~6 s no-op when the dump is current).
export PGPASSWORD=crm_password
ntables=$(psql -h 127.0.0.1 -p "$PG_PORT" -U crm_user -d crm_db -Atc \
  "select count(*) from pg_tables where schemaname='public'")
if [ -n "${BCRM_DB_CACHE:-}" ] && [ -f "$BCRM_DB_CACHE" ] && [ "$ntables" = 0 ]; then
  step "restore migrated schema from $BCRM_DB_CACHE"
  pg_restore -h 127.0.0.1 -p "$PG_PORT" -U crm_user -d crm_db --no-owner --no-privileges "$BCRM_DB_CACHE"
fi
step "migrate (253 migrations, ~2 min CPU-bound on a fresh DB)"
django-admin migrate --noinput >"$BCRM_DIR/migrate.log"
if [ -n "${BCRM_DB_CACHE:-}" ] && [ ! -f "$BCRM_DB_CACHE" ]; then
  mkdir -p "$(dirname "$BCRM_DB_CACHE")"
  # as the superuser: FORCE ROW LEVEL SECURITY makes pg_dump fail for the owner role
  pg_dump -h 127.0.0.1 -p "$PG_PORT" -U postgres -d crm_db --no-owner --no-privileges -Fc \
    -f "$BCRM_DB_CACHE.tmp" && mv "$BCRM_DB_CACHE.tmp" "$BCRM_DB_CACHE"
fi
django-admin manage_rls --verify-user | grep -q "properly configured" || { echo "DB role is a superuser: RLS bypassed"; exit 1; }

step "bootstrap org + admin user + personal access token"
python "$HERE/bootstrap.py" "${BCRM_EMAIL:-e2e@example.com}" "${BCRM_ORG:-E2E Org}" >"$BCRM_DIR/creds.env.tmp"
mv "$BCRM_DIR/creds.env.tmp" "$BCRM_DIR/creds.env"


echo "BCRM_URL=http://127.0.0.1:$API_PORT" >>"$BCRM_DIR/creds.env"
step "gunicorn on 127.0.0.1:$API_PORT"
gunicorn crm.wsgi:application --bind "127.0.0.1:$API_PORT" --workers "$WORKERS" --timeout 60 \
  --no-control-socket --daemon --pid "$BCRM_DIR/run/gunicorn.pid" \
  --access-logfile "$BCRM_DIR/run/access.log" --error-logfile "$BCRM_DIR/run/gunicorn.err" 9>&-
for i in $(seq 1 150); do
  curl -fsS -o /dev/null "http://127.0.0.1:$API_PORT/healthz/" 2>/dev/null && break; sleep 0.2
done
. "$BCRM_DIR/creds.env"
code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $PAT" "$BCRM_URL/api/contacts/?limit=1")
[ "$code" = 200 ] || { echo "smoke test failed: HTTP $code"; tail -30 "$BCRM_DIR/run/gunicorn.err"; exit 1; }
step "ready: $BCRM_URL  (credentials in $BCRM_DIR/creds.env)"
