# Sourced by demo.sh and test.sh: create .venv if missing and install the project.
# Usage: . scripts/_setup_env.sh [EXTRA]   (EXTRA: "dev" for the test tools)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${ANOMALY_GAN_VENV:-$ROOT/.venv}"
PY="${PYTHON:-python3}"
if [ ! -x "$VENV/bin/python" ]; then
    echo "[setup] creating virtual environment in $VENV"
    "$PY" -m venv "$VENV"
fi
VPY="$VENV/bin/python"
# A CPU build of torch first: an unpinned torch would pull a multi-GB CUDA build.
if ! "$VPY" -c "import torch" >/dev/null 2>&1; then
    echo "[setup] installing torch==2.13.0 (CPU build)"
    "$VPY" -m pip install --quiet --disable-pip-version-check "torch==2.13.0"
fi
spec="$ROOT"
if [ -n "${1:-}" ]; then spec="$ROOT[$1]"; fi
# Reinstall only when pyproject.toml changed since the last install (keeps re-runs fast).
stamp="$VENV/.anomaly-gan-installed-${1:-base}"
if [ ! -f "$stamp" ] || [ "$ROOT/pyproject.toml" -nt "$stamp" ] \
    || ! "$VPY" -c "import anomaly_gan" >/dev/null 2>&1; then
    echo "[setup] installing anomaly-gan ${1:+with extra '$1'}"
    "$VPY" -m pip install --quiet --disable-pip-version-check -e "$spec"
    touch "$stamp"
fi
export PATH="$VENV/bin:$PATH"
