"""The knn component's views: scalings, normalisation, reuse of the model's encoding."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from anomaly_gan import GANomalyDetector
from anomaly_gan.exceptions import ConfigError
from anomaly_gan.features.preprocessing import TabularPreprocessor
from anomaly_gan.models.knn_views import KnnViews

CPU = torch.device("cpu")


def _views(frame: pd.DataFrame, transforms: tuple[str, ...], own: str = "robust"):
    n = len(frame)
    val, rest = np.arange(0, n, 10), np.setdiff1d(np.arange(n), np.arange(0, n, 10))
    pre = TabularPreprocessor(numeric_transform=own).fit(frame.iloc[rest])
    encoded = pre.transform(frame)
    views = KnnViews.fit(
        frame,
        encoded,
        transforms=transforms,
        own=pre,
        fit_rows=rest,
        reference_rows=rest,
        validation_rows=val,
        k=5,
        device=CPU,
    )
    return views, pre, val


def test_the_quantile_view_barely_moves_under_monotone_distortions():
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(rng.normal(size=(800, 3)), columns=["a", "b", "c"])
    # Probes inside the training range (beyond it the transform extrapolates).
    probe = pd.DataFrame(
        np.clip(rng.normal(size=(50, 3)) * 1.5, frame.min(), frame.max()),
        columns=["a", "b", "c"],
    )
    distorted, distorted_probe = frame.copy(), probe.copy()
    for f in (distorted, distorted_probe):
        f["a"] = np.exp(3 * f["a"])  # order kept, scale wildly stretched
    plain, pre, _ = _views(frame, ("quantile",))
    bent, pre_bent, _ = _views(distorted, ("quantile",))
    d_plain = plain.distance(probe, pre.transform(probe), CPU)
    d_bent = bent.distance(distorted_probe, pre_bent.transform(distorted_probe), CPU)
    # Equal up to the interpolation between stored quantiles.
    assert np.corrcoef(d_bent, d_plain)[0, 1] > 0.98
    assert np.median(np.abs(d_bent - d_plain)) < 0.01
    # The standard view is not invariant: the stretched column dominates it.
    std, pre_s, _ = _views(distorted, ("standard",))
    d_std = std.distance(distorted_probe, pre_s.transform(distorted_probe), CPU)
    assert np.corrcoef(d_std, d_plain)[0, 1] < 0.9


def test_each_view_is_normalised_on_held_out_rows_and_averaged():
    rng = np.random.default_rng(1)
    frame = pd.DataFrame(rng.lognormal(size=(600, 4)), columns=list("wxyz"))
    views, pre, val = _views(frame, ("quantile", "standard", "robust"))
    assert [v.transform for v in views.views] == ["quantile", "standard", "robust"]
    # The model's own scaling (robust) reuses its encoding; the others keep
    # their own preprocessor.
    assert [v.preprocessor is None for v in views.views] == [False, False, True]
    held_out = views.distance(frame.iloc[val], pre.transform(frame.iloc[val]), CPU)
    assert abs(float(np.median(held_out))) < 0.2
    single = [
        _views(frame, (t,))[0].distance(
            frame.iloc[val], pre.transform(frame.iloc[val]), CPU
        )
        for t in ("quantile", "standard", "robust")
    ]
    np.testing.assert_allclose(held_out, np.mean(single, axis=0), rtol=1e-6, atol=1e-9)


def test_views_see_categorical_columns_and_unseen_values():
    rng = np.random.default_rng(2)
    frame = pd.DataFrame(
        {
            "amount": rng.lognormal(3, 1, 500),
            "country": rng.choice(["DE", "FR", "NL"], 500),
        }
    )
    det = GANomalyDetector(epochs=2, random_state=0).fit(frame)
    assert [v.transform for v in det.knn_views_.views] == ["quantile", "standard"]
    probe = pd.DataFrame({"amount": [20.0, 20.0], "country": ["DE", "ZZ"]})
    with pytest.warns(UserWarning, match="unseen"):
        comp = det.score_components(probe)
    # The unseen country lands in the "other" slot, far from every training row.
    assert comp["score_knn"].iloc[1] > comp["score_knn"].iloc[0]


@pytest.mark.parametrize("views", [(), ("bogus",), ("quantile", "quantile"), 5])
def test_bad_knn_views_are_refused_in_one_line(views):
    with pytest.raises(
        ConfigError,
        match=r"^parameter 'knn_views': expected one or more distinct values of robust, standard, quantile, found",
    ) as err:
        GANomalyDetector(knn_views=views).fit(np.zeros((40, 2)))
    assert "\n" not in str(err.value)
