"""Which of the champion's alerts stand alone (the retraining job learns those)."""

import numpy as np
import pytest

from anomaly_gan.jobs import alert_groups
from anomaly_gan.jobs.alert_groups import isolated_alerts


def _window(seed: int = 0):
    """1,000 ordinary rows, 40 of them flagged at random (false positives), and a
    tight campaign of 30 flagged look-alikes far from them."""
    rng = np.random.default_rng(seed)
    ordinary = rng.normal(size=(1_000, 4))
    campaign = rng.normal(loc=6.0, scale=0.05, size=(30, 4))
    rows = np.vstack([ordinary, campaign])
    flagged = np.zeros(len(rows), dtype=bool)
    lone = rng.choice(1_000, 40, replace=False)
    flagged[lone] = True
    flagged[1_000:] = True
    return rows, flagged, np.sort(lone), np.arange(1_000, 1_030)


def test_lone_alerts_stand_alone_and_a_campaign_does_not():
    rows, flagged, lone, campaign = _window()
    candidates = np.flatnonzero(flagged)
    isolated = isolated_alerts(lambda at: rows[at], len(rows), flagged, candidates)
    assert isolated.shape == candidates.shape
    by_row = dict(zip(candidates.tolist(), isolated.tolist(), strict=True))
    assert all(by_row[i] for i in lone)
    assert not any(by_row[i] for i in campaign)


def test_a_campaign_smaller_than_the_neighbourhood_stands_alone():
    # Four look-alikes: at most 3 of an alert's 10 neighbours are alerts. A group
    # that small barely moves a 5-neighbour distance, so it is learned.
    rows, flagged, _, _ = _window()
    rows, flagged = rows[:1_004], flagged[:1_004]
    flagged[1_000:] = True
    rows[1_000:] = 6.0 + np.random.default_rng(1).normal(scale=0.05, size=(4, 4))
    isolated = isolated_alerts(
        lambda at: rows[at], len(rows), flagged, np.arange(1_000, 1_004)
    )
    assert isolated.all()


def test_an_alert_is_not_its_own_neighbour_even_with_duplicates():
    # Ten identical alerts, nothing else flagged: each sees nine alerts and one
    # ordinary row among its 10 nearest others, not itself.
    rows = np.vstack([np.zeros((10, 2)), np.full((200, 2), 5.0)])
    rows[10:] += np.random.default_rng(2).normal(size=(200, 2))
    flagged = np.zeros(len(rows), dtype=bool)
    flagged[:10] = True
    isolated = isolated_alerts(lambda at: rows[at], len(rows), flagged, np.arange(10))
    assert not isolated.any()


def test_a_window_larger_than_the_pool_is_searched_in_a_sample(monkeypatch):
    rows, flagged, lone, campaign = _window()
    monkeypatch.setattr(alert_groups, "POOL_ROWS", 600)
    seen: list[int] = []

    def encode(at):
        seen.append(len(at))
        return rows[at]

    candidates = np.flatnonzero(flagged)
    isolated = isolated_alerts(encode, len(rows), flagged, candidates, random_state=3)
    assert seen[0] == 600  # the pool, then the candidates
    by_row = dict(zip(candidates.tolist(), isolated.tolist(), strict=True))
    assert sum(by_row[i] for i in lone) >= 35
    # Half the campaign is in the sample: still more than half of each alert's
    # neighbours.
    assert not any(by_row[i] for i in campaign)


@pytest.mark.parametrize("n_candidates", [0, 1])
def test_no_or_one_candidate(n_candidates):
    rows, flagged, lone, _ = _window()
    candidates = lone[:n_candidates]
    out = isolated_alerts(lambda at: rows[at], len(rows), flagged, candidates)
    assert out.shape == (n_candidates,) and out.dtype == bool
