#!/usr/bin/env bash
# `make run`: migrate, seed the demo, then run the web server and a real Celery worker
# (plus its beat) side by side until Ctrl-C, which stops both.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
HOST=${HOST:-127.0.0.1}
PORT=${PORT:-8000}
RUN_DIR=${FAULTLINE_RUN_DIR:-.run}
mkdir -p "$RUN_DIR/broker/queue" "$RUN_DIR/broker/processed" "$RUN_DIR/broker/control"

$BIN/python manage.py migrate --noinput -v 0
$BIN/python manage.py seed_demo

$BIN/celery -A config worker --beat --pool=solo --loglevel=info \
  --schedule "$RUN_DIR/celerybeat-schedule" >"$RUN_DIR/worker.log" 2>&1 &
WORKER=$!
$BIN/python manage.py runserver "$HOST:$PORT" --noreload &
WEB=$!

stop() {
  trap - INT TERM
  echo
  echo "stopping web server and worker"
  kill -TERM "$WEB" "$WORKER" 2>/dev/null || true
  wait "$WEB" "$WORKER" 2>/dev/null || true
}
trap stop INT TERM

sleep 2
echo
echo "Faultline is running at http://$HOST:$PORT/  (worker log: $RUN_DIR/worker.log)"
echo "Log in with one of the demo logins above. Ctrl-C stops the server and the worker."
# Wait until either process ends (or Ctrl-C), then stop the other one too.
wait -n "$WEB" "$WORKER" || true
stop
