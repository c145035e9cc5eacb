import numpy as np
import pytest

from anomaly_gan.models.marginal_tails import MarginalTails


def _reference(n=999, seed=0):
    rng = np.random.default_rng(seed)
    return np.column_stack([rng.normal(size=n), rng.exponential(size=n)])


def test_a_value_beyond_every_reference_value_gets_the_floor_probability():
    tails = MarginalTails.fit(_reference())
    probe = np.array([[100.0, 1.0], [-100.0, 1.0]])
    # Column 0: one count in 1000 (floor), doubled for the two-sided test.
    expected_col0 = -np.log(2.0 / 1000)
    col1_alone = MarginalTails.fit(_reference()[:, 1:]).surprise(probe[:, 1:])
    np.testing.assert_allclose(tails.surprise(probe), expected_col0 + col1_alone)


def test_both_tails_count_and_the_median_scores_near_zero():
    ref = _reference()
    tails = MarginalTails.fit(ref)
    median = np.median(ref, axis=0, keepdims=True)
    low = np.quantile(ref, 0.001, axis=0, keepdims=True)
    high = np.quantile(ref, 0.999, axis=0, keepdims=True)
    s_med, s_low, s_high = (tails.surprise(x)[0] for x in (median, low, high))
    assert s_med < 0.01
    assert s_low > 8 and s_high > 8


def test_more_extreme_values_score_no_lower():
    tails = MarginalTails.fit(_reference())
    values = np.linspace(0, 6, 50)
    probe = np.column_stack([values, np.full(50, 1.0)])
    scores = tails.surprise(probe)
    assert np.all(np.diff(scores) >= 0)
    assert scores[-1] > scores[0]


def test_a_rare_category_is_a_rare_one():
    # One-hot column: 2% of reference rows are 1.
    ref = np.zeros((1000, 1))
    ref[:20] = 1.0
    tails = MarginalTails.fit(ref)
    rare, common = tails.surprise(np.array([[1.0], [0.0]]))
    np.testing.assert_allclose(rare, -np.log(2 * 20 / 1001))
    assert common == 0.0


def test_the_score_is_rank_based():
    ref = _reference()
    probe = _reference(200, seed=1)
    a = MarginalTails.fit(ref).surprise(probe)
    b = MarginalTails.fit(np.exp(ref)).surprise(np.exp(probe))
    np.testing.assert_allclose(a, b, rtol=1e-5)


def test_empty_reference_scores_zero_and_state_round_trips():
    assert np.all(MarginalTails.empty(3).surprise(np.ones((4, 3))) == 0)
    tails = MarginalTails.fit(_reference())
    arrays, part = tails.to_state()
    again = MarginalTails.from_state(arrays, part)
    probe = _reference(50, seed=2)
    np.testing.assert_array_equal(again.surprise(probe), tails.surprise(probe))


def test_a_tampered_state_is_refused():
    arrays, part = MarginalTails.fit(_reference()).to_state()
    with pytest.raises(ValueError, match="does not match"):
        MarginalTails.from_state(arrays, {"reference_rows": 5})
    unsorted = {"marginal.sorted_columns": arrays["marginal.sorted_columns"][::-1]}
    with pytest.raises(ValueError, match="not sorted"):
        MarginalTails.from_state(unsorted, part)


def test_blocks_give_the_same_scores_as_one_pass(monkeypatch):
    import anomaly_gan.models.marginal_tails as module

    tails = MarginalTails.fit(_reference())
    probe = _reference(300, seed=3)
    whole = tails.surprise(probe)
    monkeypatch.setattr(module, "_BLOCK_ROWS", 7)
    np.testing.assert_array_equal(tails.surprise(probe), whole)
