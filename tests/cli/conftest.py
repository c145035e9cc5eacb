"""Fixtures shared by the command-line tests."""

import pytest

from anomaly_gan.cli import main
from anomaly_gan.data.datasets import make_transactions

from .test_cli import TRAIN_ARGS


@pytest.fixture(scope="session")
def small_cli_model(tmp_path_factory):
    """A model trained by 'anomaly-gan train' on 1,000 normal transactions (read-only)."""
    root = tmp_path_factory.mktemp("small_cli_model")
    make_transactions(1_000, fraud_rate=0.0, random_state=0).to_csv(
        root / "train.csv", index=False
    )
    out = root / "model"
    argv = ["train", "--data", str(root / "train.csv"), "--out", str(out)]
    assert main([*argv, *TRAIN_ARGS]) == 0
    return out
