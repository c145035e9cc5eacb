#!/usr/bin/env bash
# The GPU benchmark in one command (about 3 minutes on one NVIDIA H200): trains
# and scores the benchmark file (1,000,000 generated transactions, CSV, through
# the CLI) and an MNIST model on the GPU with mixed precision, the same on the
# CPU, and writes rows/s, images/s, peak GPU memory and whether CPU and GPU
# scores agree within 1e-4 to docs/results/gpu.md and gpu.json.
#
# Runs with the Python whose torch sees the GPU (PYTHON, default python3; the
# project importable from it or from this checkout). Reads ../shared/data for
# the ADBench, NSL-KDD and MNIST parts (skipped when absent). Extra arguments go
# to scripts/bench_gpu.py, e.g. --out DIR or --rows N.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PY="${PYTHON:-python3}"
if ! "$PY" -c "import sys, torch; sys.exit(0 if torch.cuda.is_available() else 1)"; then
    echo "bench_gpu.sh: no CUDA GPU visible to $PY (torch.cuda.is_available() is false); nothing was written" >&2
    exit 2
fi
cd "$ROOT"
export PYTHONPATH="$ROOT${PYTHONPATH:+:$PYTHONPATH}"
exec "$PY" scripts/bench_gpu.py "$@"
