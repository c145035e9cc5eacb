import json

import numpy as np
import pytest

from anomaly_gan.scoring.scorer import (
    RawResiduals,
    ScoreCalibrator,
    threshold_for_contamination,
    threshold_for_fpr,
    threshold_with_held_back,
    top_features,
)

SLICES = [(0, 1), (1, 4)]  # one numeric column, one 3-slot categorical


def residuals(n, rng, scale=1.0):
    return RawResiduals(
        recon=np.abs(rng.normal(0, scale, (n, 4))),
        latent=np.abs(rng.normal(0, scale, n)),
        disc=np.abs(rng.normal(0, scale, n)),
        knn=np.abs(rng.normal(0, scale, n)),
        marginal=np.abs(rng.normal(0, scale, n)),
    )


def test_held_back_rows_count_as_the_windows_anomalies_in_the_threshold():
    rng = np.random.default_rng(0)
    population = rng.normal(size=100_000)  # one window of normal rows
    cut = np.quantile(population, 0.99)
    held = population[population > cut]  # its top 1% was held back
    learned = population[population <= cut]
    validation = rng.choice(learned, 5_000, replace=False)
    naive = threshold_for_fpr(validation, 0.01)
    fixed = threshold_with_held_back(validation, learned.size, held, 0.01)
    # On the learned rows alone the 1% threshold flags about 2% of the window;
    # with the held-back rows counted it flags about the 1% they make up.
    assert (population > naive).mean() == pytest.approx(0.02, abs=0.003)
    assert (population > fixed).mean() == pytest.approx(0.01, abs=0.002)
    # Held-back rows that are anomalies far above every normal row: the
    # threshold stays near the normal rows' own 1 - target quantile.
    far = np.full(3_000, 50.0)
    t = threshold_with_held_back(validation, learned.size, far, 0.01)
    assert t < 50.0
    assert (learned > t).mean() < 0.005
    # Nothing held back: the plain rule.
    assert (
        threshold_with_held_back(validation, learned.size, np.array([]), 0.01) == naive
    )


def test_threshold_for_fpr_flags_at_most_the_target_share():
    scores = np.arange(1000, dtype=float)
    t = threshold_for_fpr(scores, 0.01)
    assert (scores > t).sum() == 10
    t = threshold_for_fpr(scores, 0.0105)
    assert (scores > t).sum() == 10
    assert (np.arange(5.0) > threshold_for_fpr(np.arange(5.0), 0.01)).sum() == 0


def test_threshold_for_contamination_is_pyods_percentile():
    scores = np.random.default_rng(0).normal(size=500)
    assert threshold_for_contamination(scores, 0.1) == pytest.approx(
        np.percentile(scores, 90)
    )


def test_calibration_centres_normal_rows_and_separates_larger_residuals():
    rng = np.random.default_rng(0)
    cal = ScoreCalibrator.fit(
        residuals(2000, rng),
        SLICES,
        {"recon": 1, "latent": 1, "disc": 1, "knn": 1},
        target_fpr=0.05,
    )
    normal = cal.score(residuals(2000, rng))
    # Each component is centred; their weighted mean of skewed parts is near 0.
    assert abs(np.median(normal.anomaly_score)) < 0.3
    assert 0.03 < (normal.anomaly_score > cal.threshold).mean() < 0.07
    for name in ("recon", "latent", "disc", "knn"):
        assert abs(np.median(normal.components[name])) < 0.15
    odd = cal.score(residuals(200, rng, scale=3.0))
    assert (odd.anomaly_score > cal.threshold).mean() > 0.8


def test_feature_scale_equalises_columns_of_different_difficulty():
    rng = np.random.default_rng(1)
    base = residuals(1000, rng)
    recon = base.recon.copy()
    recon[:, 0] *= 100.0  # column 0 is hard to reconstruct everywhere
    cal = ScoreCalibrator.fit(base._replace(recon=recon), SLICES, {"recon": 1.0})
    scored = cal.score(base._replace(recon=recon))
    mean_share = scored.feature_residuals.mean(axis=0)
    assert mean_share[0] == pytest.approx(1.0, rel=0.1)
    assert mean_share[1] == pytest.approx(1.0, rel=0.1)


def test_weights_select_components():
    rng = np.random.default_rng(2)
    data = residuals(500, rng)
    cal = ScoreCalibrator.fit(data, SLICES, {"latent": 1.0})
    scored = cal.score(data)
    latent = scored.components["latent"]
    np.testing.assert_allclose(
        scored.anomaly_score, np.sign(latent) * np.log1p(np.abs(latent))
    )
    cal.combine = "linear"
    np.testing.assert_allclose(cal.score(data).anomaly_score, latent)


def test_signed_log_keeps_one_extreme_component_from_dominating():
    rng = np.random.default_rng(5)
    data = residuals(1000, rng)
    cal = ScoreCalibrator.fit(data, SLICES, {"latent": 1.0, "knn": 1.0})
    # Row 0: latent far out; row 1: both moderately out.
    probe = residuals(2, rng)._replace(
        latent=np.array([15.0, 4.0]), knn=np.array([0.5, 4.0])
    )
    assert cal.score(probe).anomaly_score[1] > cal.score(probe).anomaly_score[0]
    cal.combine = "linear"
    assert cal.score(probe).anomaly_score[0] > cal.score(probe).anomaly_score[1]


def test_json_round_trip_gives_identical_scores():
    rng = np.random.default_rng(3)
    data = residuals(300, rng)
    cal = ScoreCalibrator.fit(data, SLICES, {"recon": 1, "latent": 0.5, "disc": 0.5})
    again = ScoreCalibrator.from_dict(json.loads(json.dumps(cal.to_dict())))
    np.testing.assert_array_equal(
        again.score(data).anomaly_score, cal.score(data).anomaly_score
    )
    assert again.threshold == cal.threshold


def test_top_features_orders_by_share():
    res = np.array([[1.0, 3.0, 0.0], [0.0, 0.0, 0.0], [2.0, 1.0, 1.0]])
    index, share = top_features(res, ["a", "b", "c"], 2)
    assert index.tolist() == [[1, 0], [0, 1], [0, 1]]
    np.testing.assert_allclose(share, [[0.75, 0.25], [0, 0], [0.5, 0.25]])
    index, _ = top_features(res, ["a", "b", "c"], 10)
    assert index.shape == (3, 3)


def test_calibration_written_before_the_knn_component_scores_unchanged():
    rng = np.random.default_rng(4)
    data = residuals(300, rng)
    cal = ScoreCalibrator.fit(data, SLICES, {"recon": 1, "latent": 0.5, "disc": 0.5})
    old = cal.to_dict()
    for key in ("center", "spread"):
        del old[key]["knn"]
    del old["combine"]
    cal.combine = "linear"  # what format-1 models used
    again = ScoreCalibrator.from_dict(old)
    # A model of format 1 has no reference rows: its raw knn residual is zero.
    np.testing.assert_array_equal(
        again.score(data._replace(knn=np.zeros(300))).anomaly_score,
        cal.score(data).anomaly_score,
    )


def test_calibration_written_before_the_marginal_component_scores_unchanged():
    rng = np.random.default_rng(11)
    data = residuals(300, rng)
    weights = {"recon": 1.0, "latent": 0.5, "disc": 0.5, "knn": 8.0}
    cal = ScoreCalibrator.fit(data, SLICES, weights, combine="balanced")
    old = cal.to_dict()
    for key in ("center", "spread"):
        del old[key]["marginal"]
    again = ScoreCalibrator.from_dict(old)
    # Format-4 models have no marginal reference: the raw value is zero.
    np.testing.assert_array_equal(
        again.score(data._replace(marginal=np.zeros(300))).anomaly_score,
        cal.score(data).anomaly_score,
    )


def test_max_rule_takes_the_strongest_of_three_groups():
    rng = np.random.default_rng(12)
    data = residuals(1000, rng)
    weights = {"recon": 1.0, "latent": 0.5, "disc": 0.5, "knn": 7.0, "marginal": 1.0}
    cal = ScoreCalibrator.fit(data, SLICES, weights, combine="max")
    c = cal.score(data).components
    gan = (_g(c["recon"]) + 0.5 * _g(c["latent"]) + 0.5 * _g(c["disc"])) / 2.0
    np.testing.assert_allclose(
        cal.score(data).anomaly_score,
        np.maximum.reduce([gan, _g(c["knn"]), _g(c["marginal"])]),
    )
    # A value seen in no normal row lifts the score on its own, whatever the
    # other groups say.
    probe = residuals(1, rng)._replace(marginal=np.array([40.0]))
    assert cal.score(probe).anomaly_score[0] > cal.threshold


def _g(values):
    return np.sign(values) * np.log1p(np.abs(values))


def test_the_max_rule_takes_the_stronger_of_the_gan_and_knn_evidence():
    rng = np.random.default_rng(7)
    data = residuals(1000, rng)
    weights = {"recon": 1.0, "latent": 0.5, "disc": 0.5, "knn": 8.0}
    cal = ScoreCalibrator.fit(data, SLICES, weights, combine="max")
    probe = cal.score(residuals(50, rng, scale=2.0))
    c = probe.components
    gan = (_g(c["recon"]) + 0.5 * _g(c["latent"]) + 0.5 * _g(c["disc"])) / 2.0
    np.testing.assert_allclose(probe.anomaly_score, np.maximum(gan, _g(c["knn"])))
    # The knn weight only matters within its group: 8 or 1, the same scores.
    other = ScoreCalibrator.fit(data, SLICES, {**weights, "knn": 1.0}, combine="max")
    np.testing.assert_allclose(
        other.score(residuals(50, np.random.default_rng(8))).anomaly_score,
        cal.score(residuals(50, np.random.default_rng(8))).anomaly_score,
    )


def test_the_balanced_rule_averages_the_mean_and_the_max():
    rng = np.random.default_rng(12)
    data = residuals(1000, rng)
    weights = {"recon": 1.0, "latent": 0.5, "disc": 0.5, "knn": 8.0}
    cal = ScoreCalibrator.fit(data, SLICES, weights, combine="balanced")
    probe = cal.score(residuals(50, rng, scale=2.0))
    c = probe.components
    gan = (_g(c["recon"]) + 0.5 * _g(c["latent"]) + 0.5 * _g(c["disc"])) / 2.0
    mean = (2.0 * gan + 8.0 * _g(c["knn"])) / 10.0
    np.testing.assert_allclose(
        probe.anomaly_score, 0.5 * (mean + np.maximum(gan, _g(c["knn"])))
    )


@pytest.mark.parametrize(
    ("combine", "flagged"), [("max", True), ("balanced", True), ("signed_log", False)]
)
def test_a_blind_knn_term_cannot_outvote_the_gan(combine, flagged):
    # A row whose look-alikes fill the training data: its knn distance is
    # smaller than normal rows' (as for http's attacks), but every GAN residual
    # is far out. Under the mean the knn term wins; under max and balanced the
    # GAN's evidence still flags the row.
    rng = np.random.default_rng(9)
    data = residuals(2000, rng)
    weights = {"recon": 1.0, "latent": 0.5, "disc": 0.5, "knn": 8.0}
    cal = ScoreCalibrator.fit(data, SLICES, weights, target_fpr=0.01, combine=combine)
    masked = RawResiduals(
        recon=np.full((1, 4), 8.0),
        latent=np.array([8.0]),
        disc=np.array([8.0]),
        knn=np.array([np.quantile(data.knn, 0.05)]),
        marginal=np.array([0.0]),
    )
    assert bool(cal.score(masked).anomaly_score[0] > cal.threshold) == flagged


def test_combining_with_other_weights_leaves_components_out():
    rng = np.random.default_rng(10)
    data = residuals(500, rng)
    weights = {"recon": 1.0, "latent": 0.5, "disc": 0.5, "knn": 8.0}
    cal = ScoreCalibrator.fit(data, SLICES, weights, combine="max")
    c = cal.score(data).components
    np.testing.assert_allclose(cal.combine_components(c, {"knn": 8.0}), _g(c["knn"]))
    np.testing.assert_allclose(
        cal.combine_components(c, {"recon": 1.0, "disc": 0.5}),
        (_g(c["recon"]) + 0.5 * _g(c["disc"])) / 1.5,
    )
    with pytest.raises(ValueError, match="at least one component"):
        cal.combine_components(c, {"knn": 0.0})


def test_an_unknown_combination_rule_is_refused():
    rng = np.random.default_rng(11)
    with pytest.raises(
        ValueError, match="combine: expected one of balanced, max, signed_log"
    ):
        ScoreCalibrator.fit(residuals(50, rng), SLICES, {"knn": 1.0}, combine="min")
    data = ScoreCalibrator.fit(residuals(50, rng), SLICES, {"knn": 1.0}).to_dict()
    with pytest.raises(ValueError, match="found 'min'"):
        ScoreCalibrator.from_dict({**data, "combine": "min"})


def test_fpr_estimate_is_the_share_of_normal_scores_at_least_as_high():
    from anomaly_gan.scoring.scorer import fpr_estimate

    normal = np.sort(np.arange(1.0, 100.0))  # 99 normal scores 1..99
    got = fpr_estimate(normal, np.array([200.0, 99.0, 90.5, 50.0, 1.0, -5.0]))
    # above all: 1/100; ties count as "at least as high"; below all: 1
    np.testing.assert_allclose(got, [0.01, 0.02, 0.10, 0.51, 1.0, 1.0])
    threshold = threshold_for_fpr(normal, 0.05)
    above = np.array([s for s in normal if s > threshold])
    assert fpr_estimate(normal, above).max() <= 0.05 + 1 / 100
