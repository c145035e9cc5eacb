#!/usr/bin/env bash
# One command from a fresh clone to a trained model and a scored file.
# Sets up .venv (CPU torch when none is installed), generates demo transactions
# into data/, trains on the normal rows, scores a fresh day and prints a summary.
#
# Environment: DEMO_ROWS (training rows, default 20000), DEMO_SCORE_ROWS
# (default 10000), DEMO_EPOCHS (default: by rule), ANOMALY_GAN_VENV (venv path),
# DEMO_HOME (where data/, models/ and outputs/ go; default: the project root).
# Options: --no-dashboard (do not start the dashboard at the end; it is also not
# started when stdin is not a terminal, as in CI).
set -euo pipefail
DASHBOARD=1
for arg in "$@"; do
    case "$arg" in
        --no-dashboard) DASHBOARD=0 ;;
        -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
        *) echo "demo.sh: unknown option '$arg' (see --help)" >&2; exit 2 ;;
    esac
done
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
. "$ROOT/scripts/_setup_env.sh" ""  # no extra; do not pass on our options
cd "$ROOT"
ROWS="${DEMO_ROWS:-20000}"
SCORE_ROWS="${DEMO_SCORE_ROWS:-10000}"
HOME_DIR="${DEMO_HOME:-$ROOT}"
DATA="$HOME_DIR/data"
MODEL="$HOME_DIR/models/demo"
OUT="$HOME_DIR/outputs"
mkdir -p "$DATA" "$OUT"
AG="$VENV/bin/anomaly-gan"

echo "== 1/5 generating demo transactions into data/"
"$AG" generate --rows "$ROWS" --fraud-rate 0.01 --random-state 0 --out "$DATA/transactions_train.parquet"
"$AG" generate --rows "$SCORE_ROWS" --fraud-rate 0.01 --random-state 1 --out "$DATA/transactions_fresh.csv"

echo "== 2/5 training on the normal rows (fraud-labelled rows are dropped)"
epochs=()
if [ -n "${DEMO_EPOCHS:-}" ]; then epochs=(--epochs "$DEMO_EPOCHS"); fi
"$AG" train --data "$DATA/transactions_train.parquet" --out "$MODEL" \
    --label-col is_fraud --id-cols transaction_id card_id --timestamp-cols timestamp \
    --exclude-cols fraud_type --random-state 0 "${epochs[@]}" \
    --register --promote --registry "$HOME_DIR/registry"

echo "== 3/5 scoring a fresh file"
"$AG" score --model "$MODEL" --data "$DATA/transactions_fresh.csv" --out "$OUT/demo_scores.csv" \
    --keep-cols is_fraud amount merchant_category country --label-col is_fraud \
    --summary-json "$OUT/demo_summary.json"

echo "== 4/5 summary"
"$VENV/bin/python" - "$OUT/demo_summary.json" "$MODEL" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
print(f"rows scored      {s['scored']:,} (rejected {s['rejected']:,})")
print(f"flagged          {s['flagged']:,} ({s['flagged'] / max(s['scored'], 1):.2%})")
if s.get("roc_auc") is not None:
    print(f"ROC-AUC          {s['roc_auc']:.4f} (against the generated fraud labels)")
    print(f"average precis.  {s['average_precision']:.4f}")
print(f"model            {sys.argv[2]}")
print(f"scores           {s['output']}")
d = s.get("drift")
if d:
    moved = ", ".join(d["drifted_features"]) or "none"
    print(f"drift            features drifted: {moved}; details in {s['drift_output']}")
PY

echo "== 5/5 drift of the fresh file against the training data (no scoring)"
"$AG" drift --model "$MODEL" --data "$DATA/transactions_fresh.csv" --json "$OUT/demo_drift.json"
echo "== the production version's model card (registry/versions/1/model_card.md)"
"$AG" registry --registry "$HOME_DIR/registry" card production

if [ "$DASHBOARD" = 1 ] && [ -t 0 ]; then
    echo "== starting the dashboard on the demo scores (Ctrl-C to stop)"
    exec "$AG" dashboard --scores "$OUT" --db "$OUT/verdicts.db" --registry "$HOME_DIR/registry"
fi
