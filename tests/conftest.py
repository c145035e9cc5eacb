"""Shared fixtures: small generated data, one fitted detector, the shared data folder."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import pytest

from anomaly_gan import GANomalyDetector, make_transactions

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = ROOT.parent / "shared" / "data"

# Column options for generated transactions: what never feeds the model.
TX_OPTIONS = {
    "id_cols": ["transaction_id", "card_id"],
    "timestamp_cols": ["timestamp"],
    "exclude_cols": ["fraud_type"],
    "label_col": "is_fraud",
}


def shared_path(*parts: str) -> Path:
    """Path under ../shared/data, or skip the test with the reason."""
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(
            f"shared data not available: {path} is absent (see ../shared/data/README.md)"
        )
    return path


@pytest.fixture(scope="session")
def tx_train() -> pd.DataFrame:
    """Normal transactions for training (3,000 rows)."""
    return make_transactions(3_000, fraud_rate=0.0, random_state=0)


@pytest.fixture(scope="session")
def tx_test() -> pd.DataFrame:
    """Fresh transactions with 5% fraud (2,000 rows)."""
    return make_transactions(2_000, fraud_rate=0.05, random_state=1)


@pytest.fixture(scope="session")
def fitted(tx_train: pd.DataFrame) -> GANomalyDetector:
    """A detector trained briefly on the normal transactions (shared, read-only)."""
    det = GANomalyDetector(epochs=12, random_state=0, device="cpu", **TX_OPTIONS)
    return det.fit(tx_train)


def _seeds() -> list[int]:
    # ANOMALY_GAN_TEST_SEEDS=5 widens seeded tests to seeds 0..4.
    return list(range(int(os.environ.get("ANOMALY_GAN_TEST_SEEDS", "1"))))


@pytest.fixture(params=_seeds())
def seed(request: pytest.FixtureRequest) -> int:
    """A random seed; widen with ANOMALY_GAN_TEST_SEEDS."""
    return int(request.param)
