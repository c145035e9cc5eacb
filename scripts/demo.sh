#!/usr/bin/env bash
# One command from a fresh clone to a trained model and a scored file.
# Sets up .venv (CPU torch when none is installed), generates demo transactions
# into data/, trains on the normal rows, scores a fresh day and prints a summary.
#
# Environment: DEMO_ROWS (training rows, default 20000), DEMO_SCORE_ROWS
# (default 10000), DEMO_EPOCHS (default: by rule), ANOMALY_GAN_VENV (venv path),
# DEMO_HOME (where data/, models/ and outputs/ go; default: the project root).
# Options: --no-dashboard (do not start the dashboard at the end; it is also not
# started when stdin is not a terminal, as in CI); --network (the security
# analysts' demo instead: Zeek connection logs of a small organisation, trained
# on normal traffic, a fresh day with five attack patterns scored, the recall of
# each pattern at the threshold printed; DEMO_ROWS default 40000, two days).
set -euo pipefail
DASHBOARD=1
NETWORK=0
for arg in "$@"; do
    case "$arg" in
        --no-dashboard) DASHBOARD=0 ;;
        --network) NETWORK=1 ;;
        -h|--help) sed -n '2,15p' "$0"; exit 0 ;;
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

if [ "$NETWORK" = 1 ]; then
    ROWS="${DEMO_ROWS:-40000}"
    SCORE_ROWS="${DEMO_SCORE_ROWS:-20000}"
    MODEL="$HOME_DIR/models/network_demo"
    REGISTRY="$HOME_DIR/registry_network"
    echo "== 1/4 generating Zeek conn logs into data/ (normal traffic; a fresh day with attacks)"
    "$AG" generate --kind network --rows "$ROWS" --attack-rate 0 --random-state 0 \
        --out "$DATA/network_train.log.gz"
    "$AG" generate --kind network --rows "$SCORE_ROWS" --attack-rate 0.02 --random-state 1 \
        --start 2026-11-05 --out "$DATA/network_fresh.json"
    echo "== 2/4 training on the normal traffic (network features derived from the log)"
    epochs=()
    if [ -n "${DEMO_EPOCHS:-}" ]; then epochs=(--epochs "$DEMO_EPOCHS"); fi
    "$AG" train --data "$DATA/network_train.log.gz" --out "$MODEL" \
        --label-col is_attack --exclude-cols attack_type --random-state 0 "${epochs[@]}" \
        --register --promote --registry "$REGISTRY"
    echo "== 3/4 scoring the fresh day (Zeek JSON lines); entities are source hosts"
    "$AG" score --model "$MODEL" --data "$DATA/network_fresh.json" --out "$OUT/network_scores.csv" \
        --keep-cols attack_type --label-col is_attack --summary-json "$OUT/network_summary.json"
    echo "== 4/4 recall of each attack pattern at the threshold"
    "$VENV/bin/python" - "$OUT/network_scores.csv" "$OUT/network_summary.json" <<'PY'
import json, sys
import pandas as pd
scores = pd.read_csv(sys.argv[1], usecols=["attack_type", "is_anomaly", "id.orig_h"])
s = json.load(open(sys.argv[2]))
attacks = scores[scores["attack_type"] != "normal"]
normal = scores[scores["attack_type"] == "normal"]
print(f"connections      {s['scored']:,} (rejected {s['rejected']:,}); flagged {s['flagged']:,}")
print(f"ROC-AUC          {s['roc_auc']:.4f}; average precision {s['average_precision']:.4f}")
print(f"false alarms     {normal['is_anomaly'].mean():.2%} of normal connections")
for name, group in attacks.groupby("attack_type"):
    print(f"  {name:<14} recall {group['is_anomaly'].mean():.3f} ({int(group['is_anomaly'].sum())} of {len(group)})")
top = scores[scores["is_anomaly"] == 1]["id.orig_h"].value_counts().head(3)
print("most flagged source hosts: " + ", ".join(f"{h} ({n})" for h, n in top.items()))
PY
    if [ "$DASHBOARD" = 1 ] && [ -t 0 ]; then
        echo "== starting the dashboard on the network scores (Network page; Ctrl-C to stop)"
        exec "$AG" dashboard --scores "$OUT" --db "$OUT/verdicts.db" --registry "$REGISTRY"
    fi
    exit 0
fi

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
