"""Write the score-parity fixture: small saved models, inputs and their scored output.

Run once, before a change that must not alter scores (a refactor); the test
``tests/test_score_parity.py`` then scores the same inputs with the same saved
models and compares with what this script wrote. Uses only the ``anomaly-gan``
command line, so it runs unchanged on both sides of a move.

    python scripts/make_score_fixture.py tests/fixtures/score_parity
"""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

import numpy as np
from PIL import Image

from anomaly_gan.cli import main
from anomaly_gan.data.datasets import make_transactions

TABULAR_TRAIN = [
    "--label-col", "is_fraud", "--id-cols", "transaction_id", "card_id",
    "--timestamp-cols", "timestamp", "--exclude-cols", "fraud_type",
    "--epochs", "4", "--random-state", "0", "--quiet",
]  # fmt: skip


def _images(root: Path) -> None:
    rng = np.random.default_rng(0)
    base = np.linspace(10, 60, 16)[None, :].repeat(16, axis=0)
    for label, n in (("ok", 60), ("defect", 6)):
        (root / label).mkdir(parents=True)
        for i in range(n):
            img = np.clip(base + rng.normal(0, 3, (16, 16)), 0, 255)
            if label == "defect":
                r, c = rng.integers(2, 10, 2)
                img[r : r + 4, c : c + 4] = 255
            Image.fromarray(img.astype(np.uint8)).save(root / label / f"{i:03d}.png")


def write(out: Path) -> None:
    """Train the two models and write their scored output under ``out``."""
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    work = out / "_work"
    work.mkdir()
    make_transactions(1_500, fraud_rate=0.0, random_state=0).to_csv(
        work / "train.csv", index=False
    )
    make_transactions(400, fraud_rate=0.05, random_state=1).to_csv(
        out / "tabular_input.csv", index=False
    )
    argv = [
        "train",
        "--data",
        str(work / "train.csv"),
        "--out",
        str(out / "tabular_model"),
    ]
    assert main([*argv, *TABULAR_TRAIN]) == 0
    argv = ["score", "--model", str(out / "tabular_model"), "--quiet"]
    argv += ["--data", str(out / "tabular_input.csv")]
    assert main([*argv, "--out", str(out / "tabular_scored.csv")]) == 0

    _images(out / "image_input")
    argv = [
        "train",
        "--data",
        str(out / "image_input"),
        "--out",
        str(out / "image_model"),
    ]
    argv += ["--image-size", "16", "--label-col", "label", "--normal-label", "ok"]
    assert main([*argv, "--epochs", "3", "--random-state", "0", "--quiet"]) == 0
    argv = ["score", "--model", str(out / "image_model"), "--quiet"]
    argv += ["--data", str(out / "image_input")]
    assert main([*argv, "--out", str(out / "image_scored.csv")]) == 0
    shutil.rmtree(work)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path, help="folder to (re)write")
    write(parser.parse_args().out)
