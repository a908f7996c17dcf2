#!/usr/bin/env bash
# The whole suite on SQLite, then on PostgreSQL. Under CI=true the PostgreSQL run (and every service-backed and
# browser test) is required: nothing skips.
set -uo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
PG_URL=${DANDELION_TEST_PG_URL:-postgres://postgres@127.0.0.1:5432/dandelion}
status=0
# pytest-xdist: one worker per core (PYTEST_WORKERS=0 runs in this process, e.g. to debug)
XDIST=(-n "${PYTEST_WORKERS:-$(nproc)}")
[ "${PYTEST_WORKERS:-}" = "0" ] && XDIST=()

echo "== Test suite on SQLite"
env -u DATABASE_URL $BIN/pytest -q -p no:cacheprovider "${XDIST[@]}" "$@" || status=1

pg_up() { $BIN/python - "$PG_URL" <<'PY'
import sys, psycopg
try:
    psycopg.connect(sys.argv[1].replace("/dandelion", "/postgres"), connect_timeout=3).close()
except Exception as exc:
    print(f"PostgreSQL unreachable: {exc}", file=sys.stderr); sys.exit(1)
PY
}
if pg_up; then
  echo "== Test suite on PostgreSQL ($PG_URL)"
  DATABASE_URL=$PG_URL $BIN/pytest -q -p no:cacheprovider "${XDIST[@]}" -m "not browser" "$@" || status=1
elif [ "${CI:-}" = "true" ]; then
  echo "PostgreSQL is required under CI=true" >&2; status=1
else
  echo "== PostgreSQL not reachable: its run is skipped (it is required under CI=true)"
fi
exit $status
