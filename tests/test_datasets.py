import gzip
import struct

import numpy as np
import pandas as pd
import pytest

from anomaly_gan.data.datasets import (
    FRAUD_TYPES,
    load_adbench,
    load_mnist,
    load_nsl_kdd,
    make_transactions,
)
from anomaly_gan.exceptions import DataError
from tests.conftest import shared_path


@pytest.fixture(scope="module")
def tx():
    return make_transactions(20_000, fraud_rate=0.03, random_state=5)


def test_transactions_have_the_documented_columns_and_types(tx):
    assert list(tx.columns) == [
        "transaction_id",
        "card_id",
        "timestamp",
        "amount",
        "merchant_category",
        "country",
        "home_country",
        "channel",
        "device_type",
        "card_present",
        "new_device",
        "is_cross_border",
        "hour",
        "txn_count_1h",
        "txn_count_24h",
        "amount_24h",
        "secs_since_prev",
        "is_fraud",
        "fraud_type",
    ]
    assert tx["transaction_id"].is_unique
    assert pd.api.types.is_datetime64_any_dtype(tx["timestamp"])
    assert tx["timestamp"].is_monotonic_increasing
    assert (tx["amount"] > 0).all()
    assert tx["hour"].between(0, 23).all()
    assert (tx["txn_count_24h"] >= tx["txn_count_1h"]).all()
    assert (tx["amount_24h"] >= tx["amount"] - 0.01).all()
    assert len(tx) == 20_000


def test_same_seed_same_frame_and_fraud_share(tx):
    again = make_transactions(20_000, fraud_rate=0.03, random_state=5)
    pd.testing.assert_frame_equal(tx, again)
    assert tx["is_fraud"].sum() == 600
    assert set(tx.loc[tx["is_fraud"] == 1, "fraud_type"]) == set(FRAUD_TYPES)
    assert not make_transactions(500, fraud_rate=0.0, random_state=0)["is_fraud"].any()


def test_fraud_patterns_have_their_signatures(tx):
    normal = tx[tx["fraud_type"] == "normal"]
    testing = tx[tx["fraud_type"] == "card_testing"]
    night = tx[tx["fraud_type"] == "cross_border_night"]
    takeover = tx[tx["fraud_type"] == "account_takeover"]
    assert testing["amount"].max() <= 3.0
    assert testing["txn_count_1h"].median() >= 3
    assert normal["txn_count_1h"].median() == 1
    assert (
        night["hour"].max() < 5
        and night["is_cross_border"].all()
        and not night["card_present"].any()
    )
    assert night["amount"].median() > 10 * normal["amount"].median()
    assert takeover["new_device"].all() and takeover["is_cross_border"].all()
    assert normal["new_device"].mean() < 0.02
    # amounts are heavy-tailed per category
    grocery = normal.loc[normal["merchant_category"] == "grocery", "amount"]
    assert grocery.quantile(0.999) > 5 * grocery.median()


def test_generator_rejects_bad_arguments():
    with pytest.raises(
        ValueError,
        match=r"^parameter 'fraud_rate': expected a number in \[0, 0.5\], found 0.9$",
    ):
        make_transactions(100, fraud_rate=0.9)
    with pytest.raises(ValueError, match=r"^parameter 'n_rows'"):
        make_transactions(0)


def test_adbench_npz_round_trip_and_errors(tmp_path):
    path = tmp_path / "d.npz"
    np.savez(path, X=np.ones((4, 2)), y=np.array([0, 0, 1, 0]))
    data = load_adbench(path)
    assert data.X.shape == (4, 2) and data.y.tolist() == [0, 0, 1, 0]
    bad = tmp_path / "bad.npz"
    np.savez(bad, A=np.ones(3))
    with pytest.raises(DataError, match=r"expected arrays 'X' and 'y', found \['A'\]"):
        load_adbench(bad)
    with pytest.raises(
        DataError, match=r"^file '.*missing.npz': expected an ADBench .npz archive"
    ):
        load_adbench(tmp_path / "missing.npz")


def _idx(path, array):
    header = struct.pack(">BBBB", 0, 0, 8, array.ndim) + struct.pack(
        f">{array.ndim}I", *array.shape
    )
    with gzip.open(path, "wb") as fh:
        fh.write(header + array.astype(np.uint8).tobytes())


def test_mnist_idx_reader_and_errors(tmp_path):
    images = np.arange(2 * 3 * 4).reshape(2, 3, 4)
    _idx(tmp_path / "img.gz", images)
    _idx(tmp_path / "lab.gz", np.array([7, 1]))
    data = load_mnist(tmp_path / "img.gz", tmp_path / "lab.gz")
    np.testing.assert_array_equal(data.X, images)
    assert data.y.tolist() == [7, 1]
    with gzip.open(tmp_path / "trunc.gz", "wb") as fh:
        fh.write(struct.pack(">BBBB3I", 0, 0, 8, 3, 2, 3, 4) + b"\x00" * 5)
    with pytest.raises(
        DataError,
        match=r"expected 24 values for shape \(2, 3, 4\), found 5 \(truncated\?\)",
    ):
        load_mnist(tmp_path / "trunc.gz")
    with pytest.raises(DataError, match="expected 3 dimensions, found 1"):
        load_mnist(tmp_path / "lab.gz")


def test_nsl_kdd_reader_on_a_small_file(tmp_path):
    (tmp_path / "columns.txt").write_text("a\nb\nattack\ndifficulty\n")
    (tmp_path / "t.txt").write_text("1,x,normal,20\n2,y,smurf,15\n")
    frame = load_nsl_kdd(tmp_path / "t.txt")
    assert list(frame.columns) == ["a", "b", "attack", "difficulty", "is_attack"]
    assert frame["is_attack"].tolist() == [0, 1]
    with pytest.raises(DataError, match="cannot read the NSL-KDD column names"):
        load_nsl_kdd(tmp_path / "t.txt", tmp_path / "none.txt")


@pytest.mark.shared_data
def test_shared_nsl_kdd_has_the_documented_shape():
    frame = load_nsl_kdd(shared_path("nsl-kdd", "KDDTrain+_20Percent.txt"))
    assert frame.shape == (25_192, 44)
    assert int((frame["is_attack"] == 0).sum()) == 13_449
    test = load_nsl_kdd(shared_path("nsl-kdd", "KDDTest+.txt"))
    assert int((test["is_attack"] == 0).sum()) == 9_711


@pytest.mark.shared_data
def test_shared_mnist_and_adbench_load():
    data = load_mnist(
        shared_path("mnist", "t10k-images-idx3-ubyte.gz"),
        shared_path("mnist", "t10k-labels-idx1-ubyte.gz"),
    )
    assert data.X.shape == (10_000, 28, 28)
    assert sorted(set(data.y.tolist())) == list(range(10))
    files = sorted(shared_path("adbench").glob("*.npz"))
    assert len(files) == 31
    for path in files[:3]:
        arrays = load_adbench(path)
        assert arrays.X.shape[0] == arrays.y.shape[0]
        assert set(np.unique(arrays.y)) <= {0, 1}
