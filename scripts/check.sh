#!/usr/bin/env bash
# Static checks: formatting, lint, types and import layers (STYLE.md section 9).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
. "$ROOT/scripts/_setup_env.sh" dev
cd "$ROOT"
"$VENV/bin/ruff" format --check anomaly_gan dashboard tests scripts
"$VENV/bin/ruff" check anomaly_gan dashboard tests scripts
"$VENV/bin/mypy"
"$VENV/bin/lint-imports"
echo "check.sh: all checks passed"
