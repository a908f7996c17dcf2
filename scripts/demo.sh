#!/usr/bin/env bash
# `make demo`: the worker, live demo traffic (plus real customer-care tweets when ../shared/datasets is there) and the
# web server, all stopped together with Ctrl+C.
set -uo pipefail
cd "$(dirname "$0")/.."
HOST=${1:-127.0.0.1}
PORT=${2:-8000}
BIN=.venv/bin
DATASETS=${DANDELION_DATASETS:-$(cd .. && pwd)/shared/datasets}
mkdir -p var/log
pids=()
cleanup() { trap - EXIT INT TERM; kill "${pids[@]}" 2>/dev/null; wait 2>/dev/null; echo "Dandelion stopped."; }
trap cleanup EXIT INT TERM

$BIN/dandelion worker >var/log/worker.log 2>&1 &
pids+=($!)
$BIN/dandelion demo-traffic --backfill 150 --rate 0.5 >var/log/demo-traffic.log 2>&1 &
pids+=($!)
TWCS="$DATASETS/twcs_customer_support/twcs_combined_10k.csv"
if [ -f "$TWCS" ]; then
  echo "Real data: replaying customer-care tweets from $TWCS into brand accounts under Business Services (var/log/replay.log)"
  $BIN/dandelion replay twcs "$TWCS" --create-accounts --unit business-services --network x --connector sandbox --limit 2000 --speed 120 --max-delay 3 --enqueue --no-progress >var/log/replay.log 2>&1 &
  pids+=($!)
fi

cat <<MSG

  Dandelion is starting on http://$HOST:$PORT/
  Log in as hana.hub (hub admin), fabien.spoke (spoke admin, France), hugo.helper (helper agent, France),
  mo.moderator (external moderator) ... password: dandelion-demo
  E-mails (invitations, password-reset links) are printed below. Logs: var/log/. Press Ctrl+C to stop.

MSG
$BIN/dandelion serve --host "$HOST" --port "$PORT"
