#!/usr/bin/env bash
# The browser tests drive Debian's Chromium through Playwright (Playwright cannot
# download its own browsers here). Install the package when we can, else say how.
set -euo pipefail
CHROMIUM=${CHROMIUM_PATH:-/usr/bin/chromium}
if [ -x "$CHROMIUM" ]; then
  exit 0
fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null; then
  echo "Chromium is missing: installing Debian's chromium package for the browser tests"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq chromium >/dev/null
  exit 0
fi
echo "Chromium is missing at $CHROMIUM. Install it with: sudo apt-get install -y chromium" >&2
echo "(or set CHROMIUM_PATH to a Chromium binary)." >&2
exit 1
