#!/usr/bin/env python
"""Which batched reader to stream scoring input with: speed and peak memory.

Generates a transactions file (CSV and Parquet, 1,000,000 rows by default) and
reads it fully with each candidate, each in a fresh child process so that peak
resident memory (ru_maxrss) is its own. Candidates:

- pandas.read_csv(chunksize=...), types inferred per chunk (C engine);
- the same with explicit dtypes for every column;
- pyarrow.csv.open_csv (streaming; explicit column types), batches to pandas;
- pyarrow.parquet.ParquetFile.iter_batches, batches to pandas.

Usage: python scripts/bench_readers.py [--rows N] [--batch-rows N] [--out FILE]
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CANDIDATES = [
    "pandas_chunks_inferred",
    "pandas_chunks_dtypes",
    "pyarrow_open_csv",
    "parquet_iter_batches",
]


def _vm_hwm_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _read(kind: str, path: str, batch_rows: int) -> dict[str, float]:
    import pandas as pd
    import pyarrow as pa
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    dtypes = {
        "transaction_id": "str",
        "card_id": "str",
        "timestamp": "str",
        "amount": "float64",
        "merchant_category": "str",
        "country": "str",
        "home_country": "str",
        "channel": "str",
        "device_type": "str",
        "card_present": "bool",
        "new_device": "bool",
        "is_cross_border": "bool",
        "hour": "int64",
        "txn_count_1h": "int64",
        "txn_count_24h": "int64",
        "amount_24h": "float64",
        "secs_since_prev": "int64",
        "is_fraud": "int64",
        "fraud_type": "str",
    }
    rows = 0
    started = time.perf_counter()
    if kind == "pandas_chunks_inferred":
        for chunk in pd.read_csv(path, chunksize=batch_rows):
            rows += len(chunk)
    elif kind == "pandas_chunks_dtypes":
        for chunk in pd.read_csv(path, chunksize=batch_rows, dtype=dtypes):
            rows += len(chunk)
    elif kind == "pyarrow_open_csv":
        types = {
            k: {
                "str": pa.string(),
                "float64": pa.float64(),
                "bool": pa.bool_(),
                "int64": pa.int64(),
            }[v]
            for k, v in dtypes.items()
        }
        reader = pacsv.open_csv(
            path,
            read_options=pacsv.ReadOptions(block_size=4 << 20),
            convert_options=pacsv.ConvertOptions(column_types=types),
        )
        for batch in reader:
            rows += len(batch.to_pandas())
    else:
        for batch in pq.ParquetFile(path).iter_batches(batch_size=batch_rows):
            rows += len(batch.to_pandas())
    seconds = time.perf_counter() - started
    # VmHWM, not ru_maxrss: ru_maxrss survives exec and would carry the parent's peak.
    peak_mb = _vm_hwm_mb()
    return {"rows": rows, "seconds": seconds, "peak_mb": peak_mb}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--batch-rows", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", type=Path)
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(_read(args.child[0], args.child[1], int(args.child[2]))))
        return 0

    from anomaly_gan.data.datasets import make_transactions

    with tempfile.TemporaryDirectory() as tmp:
        frame = make_transactions(args.rows, random_state=0)
        csv_path, pq_path = Path(tmp) / "tx.csv", Path(tmp) / "tx.parquet"
        frame.to_csv(csv_path, index=False)
        frame.to_parquet(pq_path, row_group_size=args.batch_rows)
        del frame
        results: dict[str, list[dict[str, float]]] = {k: [] for k in CANDIDATES}
        for _ in range(args.repeats):
            for kind in CANDIDATES:
                path = pq_path if kind.startswith("parquet") else csv_path
                out = subprocess.run(
                    [
                        sys.executable,
                        __file__,
                        "--child",
                        kind,
                        str(path),
                        str(args.batch_rows),
                    ],
                    capture_output=True,
                    text=True,
                    check=True,
                )
                results[kind].append(json.loads(out.stdout))
        csv_mb = csv_path.stat().st_size / 1e6
        pq_mb = pq_path.stat().st_size / 1e6
    lines = [
        f"Reading {args.rows:,} generated transactions in batches of {args.batch_rows:,} rows "
        f"(CSV {csv_mb:.0f} MB, Parquet {pq_mb:.0f} MB); median of {args.repeats} runs, each in a fresh process.",
        "",
        "| reader | seconds | rows/s | peak RSS MB |",
        "|---|---|---|---|",
    ]
    for kind in CANDIDATES:
        runs = sorted(results[kind], key=lambda r: r["seconds"])
        mid = runs[len(runs) // 2]
        lines.append(
            f"| {kind} | {mid['seconds']:.2f} | {mid['rows'] / mid['seconds']:,.0f} | {max(r['peak_mb'] for r in runs):.0f} |"
        )
    lines.append("")
    lines.append(f"Machine: {platform.machine()}, Python {platform.python_version()}.")
    report = "\n".join(lines)
    print(report)
    if args.out:
        args.out.write_text(report + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
