#!/usr/bin/env bash
# Set everything up (virtual environment, project, test tools) and run the test suite.
# Extra arguments go to pytest, e.g. scripts/test.sh -k preprocessing
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
. "$ROOT/scripts/_setup_env.sh" dev
cd "$ROOT"
exec "$VENV/bin/python" -m pytest "$@"
