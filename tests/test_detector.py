import numpy as np
import pandas as pd
import pytest
from pyod.models.base import BaseDetector
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.metrics import roc_auc_score

from anomaly_gan import GANomalyDetector
from anomaly_gan.exceptions import ConfigError, SchemaError
from tests.conftest import TX_OPTIONS

# Fraud in tx_test uses countries never seen in normal training data; the
# warning about them is expected there (its own test checks it).
UNSEEN_OK = pytest.mark.filterwarnings("ignore:.*unseen in training:UserWarning")


@UNSEEN_OK
def test_training_separates_planted_fraud(fitted, tx_test):
    # Floor 0.9: a random scorer sits at 0.5 and a broken model well below 0.9;
    # the planted patterns (bursts, night cross-border, takeover) are clear.
    scores = fitted.decision_function(tx_test)
    assert roc_auc_score(tx_test["is_fraud"], scores) > 0.9


@UNSEEN_OK
def test_pyod_attributes_and_methods(fitted, tx_train, tx_test):
    assert isinstance(fitted, BaseDetector)
    n = len(tx_train)
    assert fitted.decision_scores_.shape == (n,)
    assert fitted.labels_.shape == (n,)
    assert set(np.unique(fitted.labels_)) <= {0, 1}
    np.testing.assert_array_equal(
        fitted.labels_, (fitted.decision_scores_ > fitted.threshold_).astype(int)
    )
    pred = fitted.predict(tx_test)
    assert pred.shape == (len(tx_test),)
    np.testing.assert_array_equal(
        pred, (fitted.decision_function(tx_test) > fitted.threshold_).astype(int)
    )
    proba = fitted.predict_proba(tx_test)
    assert proba.shape == (len(tx_test), 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert fitted.n_features_in_ == tx_train.shape[1]
    assert list(fitted.feature_names_in_) == list(tx_train.columns)
    assert fitted.device_.type == "cpu"
    assert len(fitted.history_) == 12
    assert {"g_loss", "d_loss", "val_loss", "rows_per_s"} <= set(fitted.history_[0])


def test_threshold_is_calibrated_on_held_out_normal_rows(fitted):
    val = fitted.decision_scores_[fitted.validation_index_]
    assert (val > fitted.threshold_).mean() <= fitted.target_fpr
    # and it is not the training rows' percentile (PyOD's default rule)
    assert fitted.threshold_ != pytest.approx(
        np.percentile(fitted.decision_scores_, 90)
    )


def test_contamination_threshold_follows_pyods_rule(tx_train):
    det = GANomalyDetector(
        epochs=2,
        threshold_method="contamination",
        contamination=0.05,
        random_state=0,
        **TX_OPTIONS,
    )
    det.fit(tx_train)
    assert det.threshold_ == pytest.approx(np.percentile(det.decision_scores_, 95))
    assert det.labels_.mean() == pytest.approx(0.05, abs=0.01)


@UNSEEN_OK
def test_score_components_and_explain(fitted, tx_test):
    comp = fitted.score_components(tx_test)
    assert list(comp.columns) == [
        "anomaly_score",
        "is_anomaly",
        "fpr_estimate",
        "score_recon",
        "score_latent",
        "score_disc",
        "score_knn",
        "score_marginal",
    ]
    np.testing.assert_allclose(comp["anomaly_score"], fitted.decision_function(tx_test))
    expl = fitted.explain(tx_test, top_k=2)
    assert list(expl.columns) == [
        "feature_1",
        "share_1",
        "value_1",
        "expected_1",
        "feature_2",
        "share_2",
        "value_2",
        "expected_2",
    ]
    assert (expl["share_1"] >= expl["share_2"]).all()
    assert set(expl["feature_1"]) <= set(fitted.preprocessor_.required_columns_)
    # The row's own value is reported for its top feature.
    row = expl.index[0]
    assert expl.loc[row, "value_1"] == tx_test.loc[row, expl.loc[row, "feature_1"]]


def test_explain_points_at_the_planted_deviation(fitted, tx_train):
    rows = tx_train.head(50).copy()
    rows["amount"] = rows["amount"] * 500.0  # wildly large amounts, all else normal
    expl = fitted.explain(rows, top_k=3)
    in_top = (expl[["feature_1", "feature_2", "feature_3"]] == "amount").any(axis=1)
    assert in_top.mean() > 0.8


def test_same_seed_gives_the_same_scores_and_leaves_global_rng_alone(tx_train, seed):
    import torch

    before_np = np.random.get_state()[1].copy()
    before_torch = torch.get_rng_state().clone()
    a = GANomalyDetector(epochs=2, random_state=seed, **TX_OPTIONS).fit(tx_train)
    b = GANomalyDetector(epochs=2, random_state=seed, **TX_OPTIONS).fit(tx_train)
    np.testing.assert_array_equal(a.decision_scores_, b.decision_scores_)
    c = GANomalyDetector(epochs=2, random_state=seed + 1, **TX_OPTIONS).fit(tx_train)
    assert not np.array_equal(a.decision_scores_, c.decision_scores_)
    np.testing.assert_array_equal(np.random.get_state()[1], before_np)
    assert torch.equal(torch.get_rng_state(), before_torch)


def test_array_input_works_like_pyod():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(600, 5))
    det = GANomalyDetector(epochs=5, random_state=0).fit(X)
    outliers = rng.normal(size=(30, 5)) * 6
    scores = det.decision_function(np.vstack([X[:200], outliers]))
    y = np.r_[np.zeros(200), np.ones(30)]
    assert roc_auc_score(y, scores) > 0.9
    assert not hasattr(det, "feature_names_in_")
    with pytest.raises(
        ValueError,
        match="X has 4 features, but GANomalyDetector is expecting 5 features as input",
    ):
        det.decision_function(X[:, :4])


def test_unfitted_detector_raises_not_fitted():
    det = GANomalyDetector()
    for call in (det.decision_function, det.predict, det.score_components, det.explain):
        with pytest.raises(NotFittedError):
            call(np.zeros((2, 3)))
    with pytest.raises(NotFittedError):
        det.save("x")


def test_constructor_stores_arguments_and_fit_checks_them(tx_train):
    det = GANomalyDetector(epochs=-1, hidden_dims=[4])
    assert det.get_params()["epochs"] == -1
    assert clone(det).get_params() == det.get_params()
    with pytest.raises(
        ConfigError,
        match=r"^parameter 'epochs': expected a positive integer or None, found -1$",
    ):
        det.fit(tx_train)


def test_too_few_rows_are_refused():
    with pytest.raises(
        SchemaError, match=r"^training data: expected at least 8 rows, found 3 samples$"
    ):
        GANomalyDetector(epochs=1).fit(pd.DataFrame({"a": [1.0, 2.0, 3.0]}))


def test_scoring_a_frame_without_a_required_column_names_it(fitted, tx_test):
    with pytest.raises(SchemaError, match=r"^column 'amount': required by the model"):
        fitted.decision_function(tx_test.drop(columns=["amount"]))


def test_unseen_categories_warn_once_with_a_count(fitted, tx_test):
    rows = tx_test.head(10).assign(merchant_category="casino")
    with pytest.warns(
        UserWarning, match=r"^10 categorical value\(s\) unseen in training"
    ) as record:
        fitted.decision_function(rows)
    assert len(record) == 1
    assert record[0].filename == __file__


def test_knn_component_reference_cap_round_trip_and_off_switch(tmp_path):
    rng = np.random.default_rng(0)
    normal = rng.normal(size=(600, 4))
    far = rng.normal(size=(20, 4)) + 6.0
    det = GANomalyDetector(epochs=2, knn_reference_rows=300, random_state=0)
    det.fit(normal)
    assert [v.reference.shape for v in det.knn_views_.views] == [(300, 4), (300, 4)]
    comp = det.score_components(np.vstack([normal[:100], far]))
    # Far rows sit well outside the normal cloud in the knn component.
    assert comp["score_knn"].iloc[100:].min() > comp["score_knn"].iloc[:100].max()
    # Calibrated on held-out normal rows: centred near 0.
    assert abs(float(np.median(comp["score_knn"].iloc[:100]))) < 1.0
    loaded = GANomalyDetector.load(det.save(tmp_path / "m"))
    np.testing.assert_allclose(
        loaded.decision_function(far), det.decision_function(far), rtol=1e-6
    )
    off = GANomalyDetector(epochs=2, knn_reference_rows=0, random_state=0).fit(normal)
    assert off.knn_views_.views == []
    assert off.marginal_.n_reference == 0
    assert "knn" not in off.calibrator_.weights
    assert "marginal" not in off.calibrator_.weights
    off_parts = off.score_components(far)
    assert (off_parts["score_knn"] == 0).all()
    assert (off_parts["score_marginal"] == 0).all()


def test_marginal_component_flags_a_value_beyond_every_normal_one(tmp_path):
    rng = np.random.default_rng(3)
    normal = rng.normal(size=(800, 6))
    det = GANomalyDetector(epochs=2, knn_reference_rows=400, random_state=0).fit(normal)
    assert det.marginal_.n_reference == 400
    # The same rows with one column moved beyond every normal value: each row's
    # marginal evidence and score rise, and the moved rows rank above the others.
    odd = normal[:50].copy()
    odd[:, 2] = 25.0
    comp = det.score_components(np.vstack([normal[:50], odd]))
    before, after = comp.iloc[:50], comp.iloc[50:]
    assert (
        after["score_marginal"].to_numpy() > before["score_marginal"].to_numpy()
    ).all()
    assert (
        after["anomaly_score"].to_numpy() > before["anomaly_score"].to_numpy()
    ).all()
    labels = np.r_[np.zeros(50), np.ones(50)]
    assert roc_auc_score(labels, comp["score_marginal"]) > 0.9
    loaded = GANomalyDetector.load(det.save(tmp_path / "m"))
    np.testing.assert_array_equal(
        loaded.score_components(odd)["score_marginal"], comp["score_marginal"].iloc[50:]
    )


@pytest.mark.filterwarnings("ignore:.*unseen in training")
def test_ablation_scores_recombine_the_same_components(fitted, tx_test):
    scores = fitted.ablation_scores(tx_test)
    assert list(scores) == [
        "gan",
        "recon",
        "latent",
        "disc",
        "knn",
        "marginal",
        "no gan",
        "no recon",
        "no latent",
        "no disc",
        "no knn",
        "no marginal",
    ]
    parts = fitted.score_components(tx_test)
    g = {
        name: np.sign(parts[f"score_{name}"]) * np.log1p(np.abs(parts[f"score_{name}"]))
        for name in ("recon", "latent", "disc", "knn", "marginal")
    }
    gan = (g["recon"] + 0.5 * g["latent"] + 0.5 * g["disc"]) / 2.0
    knn, marginal = g["knn"], g["marginal"]
    np.testing.assert_allclose(scores["gan"], gan)
    np.testing.assert_allclose(scores["knn"], knn)
    np.testing.assert_allclose(scores["marginal"], marginal)
    np.testing.assert_allclose(
        scores["no gan"],
        0.5 * ((7.0 * knn + marginal) / 8.0 + np.maximum(knn, marginal)),
    )
    np.testing.assert_allclose(
        scores["no knn"],
        0.5 * ((2.0 * gan + marginal) / 3.0 + np.maximum(gan, marginal)),
    )
    no_disc = (g["recon"] + 0.5 * g["latent"]) / 1.5
    np.testing.assert_allclose(
        scores["no disc"],
        0.5
        * (
            (1.5 * no_disc + 7.0 * knn + marginal) / 9.5
            + np.maximum.reduce([no_disc, knn, marginal])
        ),
    )
    # The default averages the weighted mean and the strongest group.
    np.testing.assert_allclose(
        fitted.decision_function(tx_test),
        0.5
        * (
            (2.0 * gan + 7.0 * knn + marginal) / 10.0
            + np.maximum.reduce([gan, knn, marginal])
        ),
    )
