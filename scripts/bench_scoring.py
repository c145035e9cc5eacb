#!/usr/bin/env python
"""End-to-end scoring speed and memory of `anomaly-gan score`, next to the I/O floor.

In one run, on this machine:
1. generates a transactions CSV (1,000,000 rows by default) and trains a model on
   50,000 generated normal rows (training rows/s per epoch are reported too);
2. times, each in a fresh child process and --repeats times:
   - `pyarrow`: pyarrow.csv reads the whole file and writes it back as CSV
     (the input/output floor of BENCHMARK.md); the same for Parquet;
   - `anomaly-gan score`: the CLI end to end (read, preprocess, score, explain,
     write), with the default batch size: CSV in and out with the default
     threads, with --threads 1 and with --threads 2; Parquet in and out;
3. reports the median seconds, rows/s and peak resident memory (the child's
   ru_maxrss), and each run's ratio to its format's floor;
4. the stage table: where one batch's time goes (--stage-rows rows, in this
   process, one torch thread, scaled to seconds per 1,000,000 rows), and the
   start-up and model load of a fresh process.

Usage: python scripts/bench_scoring.py [--rows N] [--repeats N] [--stage-rows N]
       [--out FILE]
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
from typing import Any

import numpy as np

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

PARQUET_COPY = """
import sys, pyarrow.parquet as pq
pq.write_table(pq.read_table(sys.argv[1]), sys.argv[2])
"""

STARTUP = """
import sys, time
t = time.perf_counter()
from anomaly_gan.cli._shared import load_model as _load_model
import argparse
_load_model(argparse.Namespace(model=sys.argv[1], registry=None, device="cpu"))
print(time.perf_counter() - t)
"""


def stage_table(model: Path, data: Path, rows: int) -> dict[str, float]:
    """Seconds per 1,000,000 rows of each stage of scoring one batch."""
    import pyarrow as pa
    import pyarrow.csv as pacsv
    import torch

    from anomaly_gan import GANomalyDetector
    from anomaly_gan.engine.forward import compute_residuals
    from anomaly_gan.features.transform_report import TransformReport
    from anomaly_gan.jobs.scored_rows import _pick_text
    from anomaly_gan.models.knn_views import _distances
    from anomaly_gan.scoring.scorer import RawResiduals, top_features

    torch.set_num_threads(1)
    det = GANomalyDetector.load(model)
    times: dict[str, float] = {}

    def timed(name: str, fn: Any) -> Any:
        start = time.perf_counter()
        out = fn()
        times[name] = times.get(name, 0.0) + time.perf_counter() - start
        return out

    table = timed(
        "read CSV (pyarrow)",
        lambda: pacsv.read_csv(
            data, read_options=pacsv.ReadOptions(block_size=1 << 26)
        ),
    ).slice(0, rows)
    frame = timed("to pandas", table.to_pandas)
    pre = det.preprocessor_
    encoded = timed(
        "model encoding", lambda: pre.transform_with_report(frame, TransformReport())
    )
    cpu = torch.device("cpu")
    knn = np.zeros(len(frame))
    for view in det.knn_views_.views:
        enc = encoded
        if view.preprocessor is not None:
            enc = timed(
                "re-encoding for the knn views",
                lambda v=view: v.preprocessor.transform_with_report(
                    frame, TransformReport()
                ),
            )
        dist = timed(
            f"knn search, {view.transform} view",
            lambda e=enc, v=view: _distances(e, v.reference, det.knn_views_.k, cpu),
        )
        knn += (dist - view.center) / view.spread
    knn /= max(1, len(det.knn_views_.views))
    out = timed(
        "GAN forward pass",
        lambda: compute_residuals(det.generator_, det.discriminator_, encoded, cpu),
    )
    marginal = timed("marginal term", lambda: det.marginal_.surprise(encoded))
    raw = RawResiduals(out.recon, out.latent, out.disc, knn, marginal)
    scores = timed("calibrate and combine", lambda: det.calibrator_.score(raw))
    names = pre.required_columns_
    index, _ = timed(
        "reasons: top_features",
        lambda: top_features(scores.feature_residuals, names, 3),
    )
    picked = [names[int(j)] for j in np.unique(index)]
    expected = timed(
        "reasons: expected values", lambda: pre.expected_values(out.x_hat, picked)
    )
    columns = {}
    for k in range(index.shape[1]):
        columns[f"value_{k}"] = timed(
            "reasons: formatting", lambda k=k: _pick_text(frame, names, index[:, k])
        )
        columns[f"expected_{k}"] = timed(
            "reasons: formatting", lambda k=k: _pick_text(expected, names, index[:, k])
        )
    columns["anomaly_score"] = pa.array(scores.anomaly_score)
    timed(
        "write CSV (pyarrow)",
        lambda: pacsv.write_csv(pa.table(columns), data.with_name("stages.csv")),
    )
    return {name: seconds * 1_000_000 / len(frame) for name, seconds in times.items()}


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
    parser.add_argument("--stage-rows", type=int, default=200_000)
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
        train_threads = torch.get_num_threads()
        model = det.save(tmpdir / "model")
        train_speed = float(np.median([h["rows_per_s"] for h in det.history_]))
        parquet = tmpdir / "transactions.parquet"
        import pyarrow.csv as pacsv
        import pyarrow.parquet as pq

        pq.write_table(pacsv.read_csv(data), parquet)

        def score(source: Path, out: str, *extra: str) -> list[str]:
            argv = ["score", "--model", str(model), "--data", str(source)]
            return [EXE, *argv, "--out", str(tmpdir / out), "--quiet", *extra]

        runs = {
            "pyarrow": [
                sys.executable,
                "-c",
                PYARROW_COPY,
                str(data),
                str(tmpdir / "c.csv"),
            ],
            "pyarrow parquet": [
                sys.executable,
                "-c",
                PARQUET_COPY,
                str(parquet),
                str(tmpdir / "c.parquet"),
            ],
            "score": score(data, "scores.csv"),
            "score --threads 1": score(data, "scores.csv", "--threads", "1"),
            "score --threads 2": score(data, "scores.csv", "--threads", "2"),
            "score parquet": score(parquet, "scores.parquet"),
        }
        results: dict[str, list[tuple[float, float]]] = {name: [] for name in runs}
        for _ in range(args.repeats):
            for name, argv in runs.items():
                results[name].append(measure(argv))
        startup = [
            float(
                subprocess.run(
                    [sys.executable, "-c", STARTUP, str(model)],
                    capture_output=True,
                    text=True,
                    check=True,
                ).stdout
            )
            for _ in range(args.repeats)
        ]
        stages = stage_table(model, data, args.stage_rows)
        size_mb = data.stat().st_size / 1e6

    def med(name: str) -> tuple[float, float]:
        runs = sorted(results[name])
        return runs[len(runs) // 2][0], max(r[1] for r in runs)

    io_s, _ = med("pyarrow")
    pq_s, _ = med("pyarrow parquet")
    labels = {
        "pyarrow": "pyarrow read + write CSV (I/O floor)",
        "pyarrow parquet": "pyarrow read + write Parquet (I/O floor)",
        "score": "`anomaly-gan score`, CSV in and out, default threads",
        "score --threads 1": "`anomaly-gan score --threads 1`, CSV",
        "score --threads 2": "`anomaly-gan score --threads 2`, CSV",
        "score parquet": "`anomaly-gan score`, Parquet in and out, default threads",
    }
    lines = [
        f"Scoring {args.rows:,} generated transactions ({size_mb:.0f} MB CSV, 19 columns) end to end "
        "(read, preprocess, score, top-3 reasons, write); "
        f"median of {args.repeats} runs, each in a fresh process.",
        "",
        "| command | seconds | rows/s | peak RSS MB | x its format's I/O floor |",
        "|---|---|---|---|---|",
    ]
    for name, label in labels.items():
        secs, peak = med(name)
        floor = pq_s if "parquet" in name else io_s
        lines.append(
            f"| {label} | {secs:.2f} | {args.rows / secs:,.0f} | {peak:.0f} | {secs / floor:.1f} |"
        )
    total = sum(stages.values())
    lines += [
        "",
        f"Where the time goes: one batch of {args.stage_rows:,} rows in one process, "
        "one torch thread, seconds scaled to 1,000,000 rows "
        f"(sum {total:.1f} s; the CLI overlaps reading and writing with scoring).",
        "",
        "| stage | s per 1M rows |",
        "|---|---|",
        *[
            f"| {name} | {secs:.2f} |"
            for name, secs in sorted(stages.items(), key=lambda kv: -kv[1])
        ],
        f"| start-up and model load (a fresh process, per run) | {float(np.median(startup)):.2f} |",
        "",
        f"Training (CPU, {train_threads} threads): {args.train_rows:,} rows, {len(det.history_)} epoch(s) in "
        f"{fit_seconds:.1f} s; median {train_speed:,.0f} rows/s per epoch "
        f"(hidden {list(det.sizes_.hidden_dims)}, latent {det.sizes_.latent_dim}, batch {det.sizes_.batch_size}).",
        "",
        f"Machine: {platform.machine()}, {train_threads} cores for torch by default; Python {platform.python_version()}, "
        f"torch {torch.__version__}, pyarrow {pyarrow.__version__}, anomaly-gan {__version__}.",
    ]
    report = "\n".join(lines)
    print(report)
    if args.out:
        args.out.write_text(report + "\n")
        (args.out.with_suffix(".json")).write_text(
            json.dumps(
                {"runs": results, "stages": stages, "startup": startup}, indent=2
            )
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
