#!/usr/bin/env python
"""Peak memory and speed of `anomaly-gan score` on a file far larger than memory budgets.

Builds a CSV of about --gb gigabytes by repeating the body of a generated
1,000,000-row transactions file (ids repeat; the scorer does not care), trains a
small model on generated normal rows, then scores the file once with the CLI in
a child process and reports wall time, rows/s and the child's peak resident
memory. Needs --gb plus about 0.5 GB of free disk in --workdir.

Usage: python scripts/bench_large_file.py [--gb 5] [--workdir DIR] [--out FILE]
"""

from __future__ import annotations

import argparse
import platform
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

EXE = str(Path(sys.executable).parent / "anomaly-gan")
MEASURE = """
import resource, subprocess, sys, time
t = time.perf_counter()
code = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL).returncode
print(code, time.perf_counter() - t, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gb", type=float, default=5.0)
    parser.add_argument("--workdir", type=Path)
    parser.add_argument("--batch-rows", type=int, default=100_000)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()

    from anomaly_gan import GANomalyDetector, __version__, make_transactions

    work = Path(tempfile.mkdtemp(dir=args.workdir))
    try:
        unit = work / "unit.csv"
        make_transactions(1_000_000, fraud_rate=0.01, random_state=21).to_csv(
            unit, index=False
        )
        header, body = unit.read_bytes().split(b"\n", 1)
        big = work / "big.csv"
        copies = max(1, round(args.gb * 1e9 / len(body)))
        with big.open("wb") as fh:
            fh.write(header + b"\n")
            for _ in range(copies):
                fh.write(body)
        rows = copies * 1_000_000
        det = GANomalyDetector(
            epochs=5,
            id_cols=["transaction_id", "card_id"],
            timestamp_cols=["timestamp"],
            exclude_cols=["fraud_type", "is_fraud"],
            random_state=0,
        ).fit(make_transactions(20_000, fraud_rate=0.0, random_state=22))
        model = det.save(work / "model")
        # A small wrapper process runs the CLI: a child forked from this (large)
        # process would inherit its peak RSS, which survives exec.
        command = [
            EXE,
            "score",
            "--model",
            str(model),
            "--data",
            str(big),
            "--out",
            str(work / "scores.csv"),
            "--batch-rows",
            str(args.batch_rows),
            "--quiet",
        ]
        result = subprocess.run(
            [sys.executable, "-c", MEASURE, *command],
            capture_output=True,
            text=True,
            check=False,
        )
        code, seconds_text, peak_kib = [*result.stdout.split(), "", "", ""][:3]
        if code != "0":
            raise SystemExit(result.stderr)
        seconds = float(seconds_text)
        peak_mb = int(peak_kib) / 1024
        size_gb = big.stat().st_size / 1e9
        out_gb = (work / "scores.csv").stat().st_size / 1e9
    finally:
        shutil.rmtree(work, ignore_errors=True)
    report = "\n".join(
        [
            f"`anomaly-gan score` on a {size_gb:.2f} GB CSV ({rows:,} rows, batches of {args.batch_rows:,}): "
            f"{seconds:.0f} s, {rows / seconds:,.0f} rows/s, peak RSS {peak_mb:,.0f} MB; output {out_gb:.2f} GB.",
            "",
            f"Machine: {platform.machine()}, Python {platform.python_version()}, anomaly-gan {__version__}. One run.",
        ]
    )
    print(report)
    if args.out:
        args.out.write_text(report + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
