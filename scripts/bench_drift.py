#!/usr/bin/env python
"""What drift monitoring costs `anomaly-gan score`, measured on one file in one run.

Generates a transactions CSV (1,000,000 rows by default), trains a model on
50,000 generated normal rows, then times in fresh child processes, alternating,
--repeats times each: `score` (drift on, the default), `score --no-drift`, and
`drift` (the features' drift alone, no scoring). Reports the medians, the
overhead of drift as a share of the scoring time, and writes JSON with --out.

Usage: python scripts/bench_drift.py [--rows N] [--repeats N] [--out FILE]
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

EXE = str(Path(sys.executable).parent / "anomaly-gan")


def timed(argv: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()

    from anomaly_gan import GANomalyDetector, __version__, make_transactions

    with tempfile.TemporaryDirectory() as tmp:
        tmpdir = Path(tmp)
        data = tmpdir / "transactions.csv"
        make_transactions(args.rows, fraud_rate=0.01, random_state=11).to_csv(
            data, index=False
        )
        det = GANomalyDetector(
            id_cols=["transaction_id", "card_id"],
            timestamp_cols=["timestamp"],
            exclude_cols=["fraud_type", "is_fraud"],
            random_state=0,
            device="cpu",
            epochs=3,
        ).fit(make_transactions(50_000, fraud_rate=0.0, random_state=12))
        model = str(det.save(tmpdir / "model"))
        base = [EXE, "score", "--model", model, "--data", str(data), "--quiet"]
        runs = {
            "score (drift on)": [*base, "--out", str(tmpdir / "a.csv")],
            "score --no-drift": [*base, "--out", str(tmpdir / "b.csv"), "--no-drift"],
            "drift (features only)": [
                EXE,
                "drift",
                "--model",
                model,
                "--data",
                str(data),
            ],
        }
        seconds: dict[str, list[float]] = {name: [] for name in runs}
        for _ in range(args.repeats):
            for name, argv in runs.items():
                seconds[name].append(timed(argv))
        report = json.loads((tmpdir / "a.csv.drift.json").read_text())
    medians = {name: float(np.median(v)) for name, v in seconds.items()}
    on, off = medians["score (drift on)"], medians["score --no-drift"]
    result = {
        "rows": args.rows,
        "repeats": args.repeats,
        "seconds": seconds,
        "median_seconds": medians,
        "drift_overhead": on / off - 1,
        "drifted_features": report["drifted_features"],
        "machine": f"{platform.machine()}, {platform.python_version()}, anomaly-gan {__version__}",
    }
    for name, value in medians.items():
        print(f"{name:<24} {value:7.1f} s  ({args.rows / value:,.0f} rows/s)")
    print(f"drift adds {result['drift_overhead']:+.1%} to scoring time")
    if args.out:
        args.out.write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
