#!/usr/bin/env python
"""Scoring throughput on Dask: 1 and 2 local workers next to the single-process job.

In one run, on this machine:
1. generates a transactions dataset (2,000,000 rows by default) as Parquet and
   trains a model on 50,000 generated normal rows (2 epochs: speed, not quality);
2. times `anomaly-gan score` end to end (a fresh process each time, cluster
   start-up included), --repeats times each:
   - `--engine local` (the streaming job, one process, torch on 1 thread),
   - `--engine dask --workers 1` and `--engine dask --workers 2` (one thread each);
3. checks that the outputs hold the same rows and reports the median seconds and
   rows/s, and the ratios to the single-process job.

Usage: python scripts/bench_dask.py [--rows N] [--repeats N] [--out FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

EXE = str(Path(sys.executable).parent / "anomaly-gan")


def timed(argv: list[str]) -> float:
    started = time.perf_counter()
    result = subprocess.run(argv, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - started
    if result.returncode != 0:
        msg = f"failed ({result.returncode}): {' '.join(argv)}\n{result.stderr}"
        raise SystemExit(msg)
    return seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--partition-mb", type=float, default=8.0)
    parser.add_argument("--out", type=Path, help="write the results as JSON here")
    args = parser.parse_args()

    import dask
    import pandas as pd
    import torch

    from anomaly_gan import GANomalyDetector, __version__, make_transactions

    with tempfile.TemporaryDirectory() as tmp:
        tmpdir = Path(tmp)
        data = tmpdir / "transactions.parquet"
        make_transactions(args.rows, fraud_rate=0.01, random_state=21).to_parquet(
            data, row_group_size=50_000
        )
        train = make_transactions(50_000, fraud_rate=0.0, random_state=22)
        model = tmpdir / "model"
        GANomalyDetector(
            epochs=2,
            random_state=0,
            device="cpu",
            id_cols=["transaction_id", "card_id"],
            timestamp_cols=["timestamp"],
            exclude_cols=["fraud_type"],
            label_col="is_fraud",
        ).fit(train).save(model)
        base = [EXE, "score", "--model", str(model), "--data", str(data), "--quiet"]
        runs = {
            "local (1 process)": [
                *base, "--out", str(tmpdir / "one.parquet"), "--threads", "1",
            ],
            "dask, 1 worker": [
                *base, "--out", str(tmpdir / "d1"), "--engine", "dask",
                "--workers", "1", "--partition-mb", str(args.partition_mb),
            ],
            "dask, 2 workers": [
                *base, "--out", str(tmpdir / "d2"), "--engine", "dask",
                "--workers", "2", "--partition-mb", str(args.partition_mb),
            ],
        }  # fmt: skip
        seconds = {name: [] for name in runs}
        for _ in range(args.repeats):
            for name, argv in runs.items():
                seconds[name].append(timed(argv))
        one = pd.read_parquet(tmpdir / "one.parquet", columns=["anomaly_score"])
        for folder in ("d1", "d2"):
            other = pd.read_parquet(tmpdir / folder, columns=["anomaly_score"])
            if not one.equals(other):
                msg = f"outputs differ: one.parquet vs {folder}"
                raise SystemExit(msg)
        parts = len(list((tmpdir / "d2").glob("part-*.parquet")))

    base_s = statistics.median(seconds["local (1 process)"])
    rows = []
    for name, values in seconds.items():
        median = statistics.median(values)
        rows.append(
            {
                "run": name,
                "seconds": round(median, 2),
                "rows_per_s": round(args.rows / median),
                "speed_vs_local": round(base_s / median, 2),
                "all_seconds": [round(v, 2) for v in values],
            }
        )
    report = {
        "rows": args.rows,
        "partitions": parts,
        "partition_mb": args.partition_mb,
        "repeats": args.repeats,
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, {platform.python_version()}",
        "anomaly_gan": __version__,
        "torch": torch.__version__,
        "dask": dask.__version__,
        "load_average_at_end": os.getloadavg()[0],
        "results": rows,
    }
    print(f"{args.rows:,} rows, {parts} partitions, median of {args.repeats}")
    print("| run | seconds | rows/s | speed vs local |")
    print("|---|---|---|---|")
    for r in rows:
        print(
            f"| {r['run']} | {r['seconds']} | {r['rows_per_s']:,} | {r['speed_vs_local']}x |"
        )
    if args.out:
        args.out.write_text(json.dumps(report, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
