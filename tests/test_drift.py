"""Drift against a training reference: the tests chosen by size, the bounds, merging."""

import numpy as np
import pytest

from anomaly_gan.scoring.drift import (
    BOOLEAN,
    CATEGORICAL,
    NUMERIC,
    DriftMonitor,
    DriftSettings,
    FeatureLayout,
    psi,
    summary_text,
)

LAYOUT = [
    FeatureLayout("amount", NUMERIC, 0, 1),
    FeatureLayout("country", CATEGORICAL, 1, 4, labels=("US", "DE")),  # + <other>
    FeatureLayout("new_device", BOOLEAN, 4, 5),
]


def rows(n, rng, *, shift=0.0, countries=(0.6, 0.4, 0.0), device=0.1):
    amount = rng.lognormal(3 + shift, 0.5, n)
    country = rng.choice(3, n, p=countries)
    onehot = np.eye(3)[country]
    flag = (rng.random(n) < device).astype(float)
    return np.column_stack([amount, onehot, flag]).astype(np.float32)


@pytest.fixture
def reference():
    # sorted column by column, as the marginal component keeps it
    return np.sort(rows(5_000, np.random.default_rng(0)), axis=0)


def test_psi_is_zero_for_equal_shares_and_grows_with_the_shift():
    assert psi(np.array([10, 20, 70]), np.array([1, 2, 7])) == pytest.approx(0.0)
    small = psi(np.array([50, 50]), np.array([55, 45]))
    large = psi(np.array([50, 50]), np.array([90, 10]))
    assert 0 < small < 0.05 < 0.2 < large


def test_large_batches_use_psi_and_flag_only_what_moved(reference):
    rng = np.random.default_rng(1)
    same = DriftMonitor(LAYOUT, reference)
    same.update(rows(20_000, rng))
    report = same.report()
    assert report["test"] == "psi" and report["drifted_features"] == []
    moved = DriftMonitor(LAYOUT, reference)
    moved.update(rows(20_000, rng, shift=0.5, countries=(0.5, 0.3, 0.2)))
    report = moved.report()
    assert report["drifted_features"] == ["amount", "country"]
    country = report["features"][1]
    assert country["unseen_share"] == pytest.approx(0.2, abs=0.01)
    assert country["reference_unseen_share"] == 0.0
    assert "DRIFT" in summary_text(report)


def test_small_batches_use_exact_tests(reference):
    rng = np.random.default_rng(2)
    monitor = DriftMonitor(LAYOUT, reference)
    monitor.update(rows(400, rng, shift=0.6, device=0.5))
    report = monitor.report()
    assert report["test"] == "exact"
    tests = {f["name"]: (f["test"], f["drifted"]) for f in report["features"]}
    assert tests == {
        "amount": ("ks", True),
        "country": ("chi2", False),
        "new_device": ("chi2", True),
    }
    quiet = DriftMonitor(LAYOUT, reference)
    quiet.update(rows(400, rng))
    assert quiet.report()["drifted_features"] == []


def test_batches_fed_in_pieces_report_as_one(reference):
    data = rows(30_000, np.random.default_rng(3), shift=0.2)
    whole = DriftMonitor(LAYOUT, reference)
    whole.update(data)
    pieces = DriftMonitor(LAYOUT, reference)
    for part in np.array_split(data, 7):
        pieces.update(part)
    assert pieces.report() == whole.report()


def test_score_and_flag_rate_drift_against_the_calibration(reference):
    rng = np.random.default_rng(4)
    calibration = rng.normal(0, 1, 2_000)
    threshold = float(np.quantile(calibration, 0.99))
    normal = DriftMonitor(
        LAYOUT, reference, calibration_scores=calibration, threshold=threshold
    )
    scores = rng.normal(0, 1, 50_000)
    normal.update(rows(50_000, rng), scores, int((scores > threshold).sum()))
    report = normal.report()
    assert not report["score"]["drifted"] and not report["flag_rate"]["drifted"]
    assert report["flag_rate"]["calibration"] == pytest.approx(0.01, abs=0.001)
    noisy = DriftMonitor(
        LAYOUT, reference, calibration_scores=calibration, threshold=threshold
    )
    scores = rng.normal(0.8, 1, 50_000)
    noisy.update(rows(50_000, rng), scores, int((scores > threshold).sum()))
    report = noisy.report()
    assert report["score"]["drifted"] and report["flag_rate"]["drifted"]
    assert report["flag_rate"]["ratio"] > 2 and report["drifted"]


def test_the_bounds_are_settings(reference):
    rng = np.random.default_rng(5)
    data = rows(20_000, rng, shift=0.25)
    loose = DriftMonitor(LAYOUT, reference, settings=DriftSettings(psi_bound=5.0))
    loose.update(data)
    strict = DriftMonitor(LAYOUT, reference, settings=DriftSettings(psi_bound=0.01))
    strict.update(data)
    assert loose.report()["drifted_features"] == []
    assert "amount" in strict.report()["drifted_features"]
