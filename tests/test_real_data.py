"""Detection quality on real records from ../shared/data (skipped when absent)."""

import warnings

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from anomaly_gan import GANomalyDetector, load_adbench, load_nsl_kdd
from tests.conftest import shared_path

NOT_FEATURES = ["attack", "difficulty", "is_attack"]


@pytest.mark.shared_data
@pytest.mark.slow
def test_nsl_kdd_default_detector_clears_a_floor():
    # Floor 0.90: chance is 0.5 and PyOD's KNN reaches 0.947 on this split
    # (docs/benchmarks.md); seeds 0-2 measured 0.949-0.962. The default
    # configuration is used unchanged, on the protocol of BENCHMARK.md.
    train = load_nsl_kdd(shared_path("nsl-kdd", "KDDTrain+_20Percent.txt"))
    test = load_nsl_kdd(shared_path("nsl-kdd", "KDDTest+.txt"))
    det = GANomalyDetector(exclude_cols=NOT_FEATURES, random_state=0, device="cpu")
    det.fit(train[train["is_attack"] == 0])
    with warnings.catch_warnings():
        warnings.simplefilter(
            "ignore", UserWarning
        )  # the test file has unseen services
        scores = det.decision_function(test)
    assert roc_auc_score(test["is_attack"], scores) > 0.90
    # The calibrated threshold holds its false-positive rate on unseen normal rows
    # within a factor of three (it is calibrated on 10% of the training normals).
    fpr = (scores[test["is_attack"].to_numpy() == 0] > det.threshold_).mean()
    assert fpr < 3 * det.target_fpr


@pytest.mark.shared_data
def test_adbench_small_set_on_array_input():
    # thyroid: 3,772 rows, 6 features; fit on normals of a 70% split, as BENCHMARK.md.
    data = load_adbench(shared_path("adbench", "38_thyroid.npz"))
    rng = np.random.default_rng(0)
    idx = rng.permutation(len(data.y))
    cut = int(0.7 * len(idx))
    train, test = idx[:cut], idx[cut:]
    det = GANomalyDetector(epochs=30, random_state=0).fit(
        data.X[train][data.y[train] == 0]
    )
    # Floor 0.85: chance is 0.5; on this split PyOD KNN scores 0.985 and this
    # configuration 0.935 (issue 4 works on closing that gap).
    assert roc_auc_score(data.y[test], det.decision_function(data.X[test])) > 0.85
