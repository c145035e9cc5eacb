#!/usr/bin/env python
"""End-to-end scoring speed and memory of `anomaly-gan score`, next to the I/O floor.

In one run, on this machine:
1. generates a transactions CSV (1,000,000 rows by default) and trains a model on
   50,000 generated normal rows (training rows/s per epoch are reported too);
2. times, each in a fresh child process and --repeats times:
   - `pyarrow`: pyarrow.csv reads the whole file and writes it back as CSV
     (the input/output floor of BENCHMARK.md);
   - `anomaly-gan score`: the CLI end to end (read, preprocess, score, explain,
     write CSV), with the default batch size;
3. reports the median seconds, rows/s and peak resident memory (the child's
   ru_maxrss), and the ratio of the two.

Usage: python scripts/bench_scoring.py [--rows N] [--repeats N] [--out FILE]
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

ROOT = Path(__file__).resolve().parents[1]
EXE = str(Path(sys.executable).parent / "anomaly-gan")

# Runs argv as a child; prints its wall seconds and peak RSS (KiB).
MEASURE = """
import resource, subprocess, sys, time
t = time.perf_counter()
code = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE).returncode
print(code, time.perf_counter() - t, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
"""

PYARROW_COPY = """
import sys, pyarrow.csv as c
c.write_csv(c.read_csv(sys.argv[1]), sys.argv[2])
"""


def measure(argv: list[str]) -> tuple[float, float]:
    out = subprocess.run(
        [sys.executable, "-c", MEASURE, *argv],
        capture_output=True,
        text=True,
        check=True,
    )
    code, seconds, peak = out.stdout.split()
    if code != "0":
        msg = f"command failed ({code}): {' '.join(argv)}"
        raise SystemExit(msg)
    return float(seconds), int(peak) / 1024


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--train-rows", type=int, default=50_000)
    parser.add_argument(
        "--train-epochs",
        type=int,
        default=5,
        help="epochs of the timed training (default 5: the median per-epoch rate "
        "leaves out the first epoch's warm-up; scoring cost does not depend on it)",
    )
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()

    import numpy as np
    import pyarrow
    import torch

    from anomaly_gan import GANomalyDetector, __version__, make_transactions

    with tempfile.TemporaryDirectory() as tmp:
        tmpdir = Path(tmp)
        data = tmpdir / "transactions.csv"
        make_transactions(args.rows, fraud_rate=0.01, random_state=11).to_csv(
            data, index=False
        )
        train = make_transactions(args.train_rows, fraud_rate=0.0, random_state=12)
        det = GANomalyDetector(
            id_cols=["transaction_id", "card_id"],
            timestamp_cols=["timestamp"],
            exclude_cols=["fraud_type", "is_fraud"],
            random_state=0,
            device="cpu",
            epochs=args.train_epochs,
        )
        started = time.perf_counter()
        det.fit(train)
        fit_seconds = time.perf_counter() - started
        model = det.save(tmpdir / "model")
        train_speed = float(np.median([h["rows_per_s"] for h in det.history_]))

        results: dict[str, list[tuple[float, float]]] = {"pyarrow": [], "score": []}
        for _ in range(args.repeats):
            results["pyarrow"].append(
                measure(
                    [
                        sys.executable,
                        "-c",
                        PYARROW_COPY,
                        str(data),
                        str(tmpdir / "copy.csv"),
                    ]
                )
            )
            results["score"].append(
                measure(
                    [
                        EXE,
                        "score",
                        "--model",
                        str(model),
                        "--data",
                        str(data),
                        "--out",
                        str(tmpdir / "scores.csv"),
                        "--quiet",
                    ]
                )
            )
        size_mb = data.stat().st_size / 1e6

    def med(name: str) -> tuple[float, float]:
        runs = sorted(results[name])
        return runs[len(runs) // 2][0], max(r[1] for r in runs)

    io_s, io_mb = med("pyarrow")
    sc_s, sc_mb = med("score")
    lines = [
        f"Scoring {args.rows:,} generated transactions ({size_mb:.0f} MB CSV, 19 columns) end to end; "
        f"median of {args.repeats} runs, each in a fresh process.",
        "",
        "| command | seconds | rows/s | peak RSS MB |",
        "|---|---|---|---|",
        f"| pyarrow read + write CSV (I/O floor) | {io_s:.2f} | {args.rows / io_s:,.0f} | {io_mb:.0f} |",
        f"| `anomaly-gan score` (read, preprocess, score, top-3 reasons, write CSV) | {sc_s:.2f} | {args.rows / sc_s:,.0f} | {sc_mb:.0f} |",
        "",
        f"Scoring takes {sc_s / io_s:.1f}x the I/O floor's time.",
        "",
        f"Training (CPU, {torch.get_num_threads()} threads): {args.train_rows:,} rows, {len(det.history_)} epoch(s) in "
        f"{fit_seconds:.1f} s; median {train_speed:,.0f} rows/s per epoch "
        f"(hidden {list(det.sizes_.hidden_dims)}, latent {det.sizes_.latent_dim}, batch {det.sizes_.batch_size}).",
        "",
        f"Machine: {platform.machine()}, {torch.get_num_threads()} torch threads; Python {platform.python_version()}, "
        f"torch {torch.__version__}, pyarrow {pyarrow.__version__}, anomaly-gan {__version__}.",
    ]
    report = "\n".join(lines)
    print(report)
    if args.out:
        args.out.write_text(report + "\n")
        (args.out.with_suffix(".json")).write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
