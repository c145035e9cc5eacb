"""Scores do not move under a refactor: saved models score as they did when saved.

``tests/fixtures/score_parity`` was written by ``scripts/make_score_fixture.py``
with the code as it stood before the package was reorganised (0.6.0, flat
modules): two small saved models (tabular and image), their inputs and the
``anomaly-gan score`` output. These tests score the same inputs with the same
models today and compare every column (columns added since, listed in
``ADDED``, aside). Flags, reasons and texts must match exactly; numbers to 1e-9 relative, which on the machine that wrote the fixture
means bit-identical output and elsewhere leaves room only for another CPU's
last-bit rounding in the networks' arithmetic.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from anomaly_gan.cli import main

FIXTURE = Path(__file__).parent / "fixtures" / "score_parity"


# Columns added to the output after the fixture was written, and in which version.
ADDED = {"fpr_estimate": "0.7.0"}


def _compare(got: pd.DataFrame, want: pd.DataFrame) -> None:
    assert [c for c in got.columns if c not in ADDED] == list(want.columns)
    assert len(got) == len(want)
    for col in want.columns:
        if pd.api.types.is_float_dtype(want[col]):
            np.testing.assert_allclose(
                got[col].to_numpy(),
                want[col].to_numpy(),
                rtol=1e-9,
                atol=0,
                err_msg=col,
            )
        else:
            pd.testing.assert_series_equal(got[col], want[col], check_names=True)


@pytest.mark.parametrize("kind", ["tabular", "image"])
def test_saved_model_scores_as_before(kind: str, tmp_path: Path, monkeypatch) -> None:
    # Copy the fixture so the scored paths read as they did when it was written
    # (relative to the repository root) without writing into the repository.
    root = tmp_path / "tests" / "fixtures" / "score_parity"
    shutil.copytree(FIXTURE, root)
    monkeypatch.chdir(tmp_path)
    rel = Path("tests/fixtures/score_parity")
    data = rel / ("tabular_input.csv" if kind == "tabular" else "image_input")
    out = tmp_path / f"{kind}_scored.csv"
    argv = ["score", "--model", str(rel / f"{kind}_model"), "--data", str(data)]
    assert main([*argv, "--out", str(out), "--quiet"]) == 0
    _compare(pd.read_csv(out), pd.read_csv(FIXTURE / f"{kind}_scored.csv"))


def test_comparison_sees_a_changed_score(tmp_path: Path) -> None:
    want = pd.read_csv(FIXTURE / "tabular_scored.csv")
    got = want.copy()
    got.loc[3, "anomaly_score"] = np.nextafter(got.loc[3, "anomaly_score"], np.inf) * (
        1 + 1e-8
    )
    with pytest.raises(AssertionError):
        _compare(got, want)
    got = want.copy()
    got.loc[5, "feature_1"] = (
        "amount" if want.loc[5, "feature_1"] != "amount" else "hour"
    )
    with pytest.raises(AssertionError):
        _compare(got, want)
