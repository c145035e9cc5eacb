"""The detector works where PyOD detectors do: ensembles, pipelines, pickling."""

import pickle

import numpy as np
import pytest
from pyod.models.knn import KNN
from pyod.models.lscp import LSCP
from pyod.utils.utility import standardizer
from sklearn.metrics import roc_auc_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from anomaly_gan import GANomalyDetector


@pytest.fixture(scope="module")
def blobs():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(500, 6))
    X_test = np.vstack([rng.normal(size=(200, 6)), rng.normal(size=(20, 6)) * 5])
    y_test = np.r_[np.zeros(200), np.ones(20)]
    return X, X_test, y_test


@pytest.mark.filterwarnings("ignore::UserWarning")  # LSCP warns about its own settings
def test_inside_a_pyod_lscp_ensemble(blobs):
    X, X_test, y_test = blobs
    ensemble = LSCP([GANomalyDetector(epochs=3, random_state=0), KNN()], random_state=0)
    ensemble.fit(X)
    assert roc_auc_score(y_test, ensemble.decision_function(X_test)) > 0.9


def test_inside_a_sklearn_pipeline_and_score_combination(blobs):
    X, X_test, y_test = blobs
    pipe = make_pipeline(
        StandardScaler(), GANomalyDetector(epochs=3, random_state=0)
    ).fit(X)
    gan_scores = pipe.decision_function(X_test)
    knn_scores = KNN().fit(X).decision_function(X_test)
    combined = standardizer(np.c_[gan_scores, knn_scores]).mean(axis=1)
    assert roc_auc_score(y_test, combined) > 0.9
    assert pipe.predict(X_test).shape == (220,)


def test_pickle_round_trip_keeps_scores(blobs):
    X, X_test, _ = blobs
    det = GANomalyDetector(epochs=2, random_state=0).fit(X)
    again = pickle.loads(pickle.dumps(det))
    np.testing.assert_array_equal(
        again.decision_function(X_test), det.decision_function(X_test)
    )
