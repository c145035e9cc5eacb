#!/usr/bin/env python
"""Page-load times of the analysts' dashboard on large scored batches.

For each size (100,000 and 1,000,000 rows by default) it generates transactions,
scores them with a small model trained on generated normal rows, writes the
scored CSV (ids, merchant category, label, timestamp, score, components and top-3
reasons), then runs every page with Streamlit's AppTest in this process and
reports, per page, the first load (reads and caches the file) and the median of
three later loads (what an analyst waits for when moving between pages or
clicking). AppTest runs the page script server-side; the browser's drawing
time is not included.

Usage: python scripts/bench_dashboard.py [--rows N ...] [--out FILE.md]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import tempfile
import time
import warnings
from pathlib import Path

from streamlit.testing.v1 import AppTest

from anomaly_gan.data.datasets import make_transactions
from anomaly_gan.detectors.tabular import GANomalyDetector
from anomaly_gan.jobs.scored_rows import score_frame

ROOT = Path(__file__).resolve().parents[1]
APP = str(ROOT / "dashboard" / "streamlit_app.py")
PAGES = ("overview", "flagged", "triage", "metrics", "models")
KEEP = ["merchant_category", "is_fraud", "timestamp"]


def _timed_run(at: AppTest, page: str) -> float:
    started = time.perf_counter()
    if page == "overview":
        at.run()
    else:
        at.switch_page(f"app_pages/{page}.py").run()
    seconds = time.perf_counter() - started
    if at.exception:
        msg = f"page {page}: {at.exception}"
        raise RuntimeError(msg)
    return seconds


def measure(rows: int, work: Path) -> dict[str, tuple[float, float]]:
    scores = work / f"scores_{rows}"
    scores.mkdir()
    os.environ["ANOMALY_GAN_SCORES_DIR"] = str(scores)
    os.environ["ANOMALY_GAN_REGISTRY"] = str(work / f"registry_{rows}")
    os.environ["ANOMALY_GAN_VERDICTS"] = str(work / f"verdicts_{rows}.db")
    train = make_transactions(20_000, fraud_rate=0.0, random_state=0)
    det = GANomalyDetector(
        epochs=3,
        id_cols=["transaction_id", "card_id"],
        timestamp_cols=["timestamp"],
        exclude_cols=["fraud_type", "is_fraud"],
        random_state=0,
    ).fit(train)
    data = make_transactions(rows, fraud_rate=0.01, random_state=1)
    scored = score_frame(det, data, keep_cols=KEEP)
    scored.to_csv(scores / "batch.csv", index=False)
    out = {}
    for page in PAGES:
        at = AppTest.from_file(APP, default_timeout=600)
        first = _timed_run(at, page)
        later = [_timed_run(at, page) for _ in range(3)]
        out[page] = (first, statistics.median(later))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    lines = [
        "| rows | page | first load s | later loads s (median of 3) |",
        "|---|---|---|---|",
    ]
    with tempfile.TemporaryDirectory() as tmp:
        for rows in args.rows:
            for page, (first, later) in measure(rows, Path(tmp)).items():
                lines.append(f"| {rows:,} | {page} | {first:.2f} | {later:.2f} |")
                print(lines[-1], flush=True)
    text = "\n".join(
        [
            "# Dashboard page loads (python scripts/bench_dashboard.py)",
            "",
            f"Machine: {platform.platform()}, {os.cpu_count()} CPUs, Python {platform.python_version()}.",
            "Server-side page runs with Streamlit's AppTest; the first load of a",
            "session reads and caches the file (the cache is shared by every later",
            "page and session), later loads are what moving between pages costs.",
            "",
            *lines,
            "",
        ]
    )
    if args.out:
        args.out.write_text(text)
    print(text)


if __name__ == "__main__":
    main()
