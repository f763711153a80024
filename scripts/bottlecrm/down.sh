#!/usr/bin/env bash
# Stop what bottlecrm_up.sh started (by PID file), optionally wipe the directory.
BCRM_DIR=${BCRM_DIR:-/var/lib/cdq-bottlecrm}  # root-owned state, not a shared temp dir
if [ -f "$BCRM_DIR/run/gunicorn.pid" ]; then
  pid=$(cat "$BCRM_DIR/run/gunicorn.pid"); kill "$pid" 2>/dev/null
  for i in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
fi
[ -f "$BCRM_DIR/redis/redis.pid" ] && kill "$(cat "$BCRM_DIR/redis/redis.pid")" 2>/dev/null
[ -f "$BCRM_DIR/pgdata/postmaster.pid" ] && \
  runuser -u postgres -- /usr/lib/postgresql/15/bin/pg_ctl -D "$BCRM_DIR/pgdata" -m fast -w stop
[ "${1:-}" = "--wipe" ] && rm -rf "$BCRM_DIR"
true
