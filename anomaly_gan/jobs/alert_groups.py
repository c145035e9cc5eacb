"""Which of the champion's alerts in a retraining window stand alone.

The retraining job holds back the rows the model in service flags, so that
fraud nobody has labelled yet is not learned as normal. Those alerts also hold
the model's own false positives: the tail of normal traffic, which a challenger
that never sees it flags more often, so that holding it back costs ranking
quality (docs/benchmarks.md, issue 21). The two differ in how they lie among
the window's rows. Fraud comes in campaigns (card testing, a taken-over
account's burst, a ring's cross-border run), so a fraudulent row's nearest
rows are mostly alerts as well; a false positive is a rare but ordinary row
whose nearest rows are mostly not alerts. And a lone learned row barely moves
the knn term, whose distance averages several neighbours, while a learned
group of look-alikes removes exactly the evidence that flags them.

``isolated_alerts`` marks each alert whose ``NEIGHBOURS`` nearest rows of the
window (in the champion's encoding) are less than ``SHARE`` alerts; the job
learns those and holds back the rest. No torch here.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from sklearn.neighbors import NearestNeighbors

NEIGHBOURS = 10
SHARE = 0.5
# Rows searched for neighbours at most (a seeded uniform sample above this).
POOL_ROWS = 200_000


def isolated_alerts(
    encode: Callable[[np.ndarray], np.ndarray],
    n_rows: int,
    flagged: np.ndarray,
    candidates: np.ndarray,
    *,
    random_state: int = 0,
) -> np.ndarray:
    """Say which ``candidates`` (row positions, all flagged) stand alone.

    Parameters
    ----------
    encode : callable
        Returns the champion's encoding of the window rows at given positions.
    n_rows : int
        Rows in the window.
    flagged : bool ndarray of shape (n_rows,)
        The champion's alerts.
    candidates : int ndarray
        Alerts to judge.
    random_state : int
        Seed of the sample of rows searched when the window exceeds ``POOL_ROWS``.

    Returns
    -------
    bool ndarray of shape (len(candidates),)
        True where fewer than ``SHARE`` of the alert's ``NEIGHBOURS`` nearest
        other rows are alerts.
    """
    if not len(candidates):
        return np.zeros(0, dtype=bool)
    pool = np.arange(n_rows)
    if n_rows > POOL_ROWS:
        rng = np.random.default_rng(random_state)
        pool = np.sort(rng.choice(n_rows, POOL_ROWS, replace=False))
    k = min(NEIGHBOURS, len(pool) - 1)
    if k < 1:
        return np.zeros(len(candidates), dtype=bool)
    search = NearestNeighbors(n_neighbors=k + 1, algorithm="brute").fit(
        np.asarray(encode(pool), dtype=np.float32)
    )
    found = search.kneighbors(
        np.asarray(encode(candidates), dtype=np.float32), return_distance=False
    )
    # Leave each alert itself out: its own row where the search found it, else
    # the farthest of the k + 1.
    own = np.full(len(candidates), -1)
    at = np.searchsorted(pool, candidates)
    inside = (at < len(pool)) & (pool[np.minimum(at, len(pool) - 1)] == candidates)
    own[inside] = at[inside]
    is_self = found == own[:, None]
    is_self[~is_self.any(axis=1), -1] = True
    others = found[~is_self].reshape(len(candidates), k)
    share = flagged[pool][others].mean(axis=1)
    isolated: np.ndarray = share < SHARE
    return isolated
