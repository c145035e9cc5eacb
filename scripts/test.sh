#!/usr/bin/env bash
# Set everything up (virtual environment, project, test tools) and run the test suite.
# Extra arguments go to pytest, e.g. scripts/test.sh -k preprocessing
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
. "$ROOT/scripts/_setup_env.sh" dev
cd "$ROOT"
# The dashboard's browser test drives Debian's Chromium (Playwright's own browser
# download does not work offline). Install it when we can (root, apt); without
# it that one test is skipped with the reason.
if ! command -v chromium >/dev/null 2>&1 && [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    echo "[setup] installing chromium for the browser test"
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
        || echo "[setup] chromium could not be installed; the browser test will be skipped"
fi
exec "$VENV/bin/python" -m pytest "$@"
