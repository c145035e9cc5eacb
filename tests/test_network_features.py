"""The derived connection features: the rule, and independence from batching."""

import numpy as np
import pandas as pd
import pytest

from anomaly_gan import GANomalyDetector
from anomaly_gan.data.network_synth import make_connections
from anomaly_gan.data.tables import expand_sources
from anomaly_gan.data.zeek_writer import write_zeek_log
from anomaly_gan.exceptions import DataError
from anomaly_gan.features.connections import (
    DERIVED,
    WindowCounts,
    derive_frame,
    is_connection_table,
    network_roles,
)
from anomaly_gan.jobs.batch import ScoreJob
from anomaly_gan.jobs.network_features import prepare_training_frame, window_counts

T0 = 1_793_869_200.0  # 2026-11-05 09:00:00 UTC, on a minute and an hour


def _conns(rows):
    return pd.DataFrame(
        rows,
        columns=[
            "ts",
            "id.orig_h",
            "id.resp_h",
            "id.resp_p",
            "orig_bytes",
            "resp_bytes",
            "orig_pkts",
            "resp_pkts",
        ],
    )


def test_the_rule_counts_per_host_in_fixed_windows():
    frame = _conns(
        [
            [T0 + 1, "10.0.0.1", "10.0.0.9", 22, 100, 1000, 2, 4],
            [T0 + 30, "10.0.0.1", "10.0.0.9", 23, 0, 0, 1, 0],
            [T0 + 59, "10.0.0.1", "8.8.8.8", 53, 40, None, 1, None],
            [T0 + 61, "10.0.0.1", "10.0.0.9", 22, 10, 10, 1, 1],  # next minute
            [T0 + 3601, "10.0.0.1", "10.0.0.9", 22, 10, 10, 1, 1],  # next hour
            [T0 + 5, "10.0.0.2", "10.0.0.9", 22, 10, 10, 1, 1],
        ]
    )
    out = derive_frame(frame)
    assert list(out.columns[-len(DERIVED) :]) == list(DERIVED)
    assert out["net_src_conns_1m"].tolist() == [3, 3, 3, 1, 1, 1]
    assert out["net_src_conns_1h"].tolist() == [4, 4, 4, 4, 1, 1]
    assert out["net_src_ports_1h"].tolist() == [3, 3, 3, 3, 1, 1]
    assert out["net_src_dsts_1h"].tolist() == [2, 2, 2, 2, 1, 1]
    assert out["net_pair_conns_1h"].tolist() == [3, 3, 1, 3, 1, 1]
    assert out["net_dst_srcs_1h"].tolist() == [2, 2, 1, 2, 1, 2]
    assert out["net_bytes_ratio"].iloc[0] == pytest.approx(
        np.log1p(100) - np.log1p(1000)
    )
    assert out["net_bytes_ratio"].iloc[2] == pytest.approx(np.log1p(40))  # missing: 0
    assert out["net_out_bytes_per_pkt"].iloc[0] == 50
    assert out["net_in_bytes_per_pkt"].iloc[1] == 0  # no packets
    assert out["net_orig_private"].all()
    assert out["net_resp_private"].tolist() == [True, True, False, True, True, True]


def test_counts_do_not_depend_on_how_the_input_is_cut():
    frame = make_connections(4_000, attack_rate=0.05, random_state=2)
    whole = derive_frame(frame)
    counts = WindowCounts()
    for start in range(0, len(frame), 333):  # batches that cut windows apart
        counts.add(frame.iloc[start : start + 333])
    pieces = [counts.derive(frame.iloc[s : s + 500]) for s in range(0, len(frame), 500)]
    pd.testing.assert_frame_equal(pd.concat(pieces), whole)


def test_missing_times_and_hosts_get_missing_counts_not_errors():
    frame = _conns(
        [
            [None, "10.0.0.1", "10.0.0.9", 22, 1, 1, 1, 1],
            [T0, None, "10.0.0.9", 22, 1, 1, 1, 1],
        ]
    )
    out = derive_frame(frame)
    windows = [c for c in DERIVED if c.endswith(("_1m", "_1h"))]
    assert out[windows].isna().all().all()
    assert out["net_bytes_ratio"].notna().all()


def test_roles_leave_what_the_user_named_alone():
    columns = make_connections(50, random_state=0).columns
    assert is_connection_table(columns)
    roles = network_roles(
        {"exclude_cols": ["attack_type"], "categorical_cols": ["id.orig_h"]}, columns
    )
    assert (
        roles["exclude_cols"][0] == "attack_type"
        and "id.resp_h" in roles["exclude_cols"]
    )
    assert "id.orig_h" not in roles["exclude_cols"]  # the user made it a category
    assert roles["categorical_cols"][:2] == ("id.orig_h", "id.resp_p")
    assert roles["id_cols"] == ("uid",) and roles["timestamp_cols"] == ("ts",)


def test_training_derives_only_for_connection_records():
    params: dict = {}
    tx = pd.DataFrame({"amount": [1.0, 2.0]})
    assert prepare_training_frame(tx, params, "auto", "tx.csv") is tx
    assert params["network_features"] is False
    with pytest.raises(
        DataError, match=r"file 'tx.csv': expected connection records .* found no 'ts'"
    ):
        prepare_training_frame(tx, {}, "on", "tx.csv")
    conns = make_connections(200, random_state=0)
    derived = prepare_training_frame(conns, params, "auto", "c.log")
    assert params["network_features"] is True and set(DERIVED) <= set(derived.columns)


@pytest.fixture(scope="module")
def network_model():
    frame = make_connections(6_000, attack_rate=0.0, random_state=0)
    params = {
        "epochs": 2,
        "random_state": 0,
        "device": "cpu",
        "exclude_cols": ["attack_type", "is_attack"],
    }
    frame = prepare_training_frame(frame, params, "auto", "train")
    return GANomalyDetector(**params).fit(frame)


@pytest.mark.filterwarnings("ignore:.*unseen in training:UserWarning")
def test_the_streaming_job_derives_the_same_columns_at_any_batch_size(
    network_model, tmp_path
):
    fresh = make_connections(
        3_000, attack_rate=0.03, random_state=5, start="2026-11-05"
    )
    write_zeek_log(fresh, tmp_path / "fresh.log")
    outs = []
    for rows in (250, 100_000):
        out = tmp_path / f"s{rows}.parquet"
        ScoreJob(
            network_model,
            expand_sources([tmp_path / "fresh.log"]),
            out,
            batch_rows=rows,
        ).run()
        outs.append(pd.read_parquet(out))
    pd.testing.assert_frame_equal(outs[0], outs[1])
    expected = network_model.decision_function(derive_frame(fresh))
    np.testing.assert_allclose(outs[0]["anomaly_score"], expected, rtol=1e-6)


def test_a_scoring_input_that_is_not_connections_is_refused(network_model, tmp_path):
    path = tmp_path / "other.csv"
    pd.DataFrame({"amount": [1.0]}).to_csv(path, index=False)
    with pytest.raises(DataError, match=r"other.csv': expected connection records"):
        window_counts([path])
