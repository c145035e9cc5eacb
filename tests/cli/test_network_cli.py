"""Network events end to end through the CLI: Zeek logs in, scores, entities, retraining."""

import json

import pandas as pd
import pytest

from anomaly_gan.cli import main
from anomaly_gan.data.network_synth import ATTACK_TYPES
from anomaly_gan.stores.registry import ModelRegistry

from ..conftest import shared_path

pytestmark = pytest.mark.filterwarnings("ignore:.*unseen in training:UserWarning")
LABELS = ["--label-col", "is_attack", "--exclude-cols", "attack_type"]


@pytest.fixture(scope="module")
def network(tmp_path_factory):
    """A model trained by 'train' on a generated Zeek TSV log, and a fresh JSON day."""
    root = tmp_path_factory.mktemp("network")
    gen = ["generate", "--kind", "network"]
    assert (
        main(
            [
                *gen,
                "--rows",
                "12000",
                "--attack-rate",
                "0",
                "--out",
                str(root / "train.log.gz"),
            ]
        )
        == 0
    )
    assert (
        main(
            [
                *gen,
                "--rows",
                "8000",
                "--attack-rate",
                "0.03",
                "--random-state",
                "1",
                "--start",
                "2026-11-05",
                "--out",
                str(root / "fresh.json"),
            ]
        )
        == 0
    )
    argv = [
        "train",
        "--data",
        str(root / "train.log.gz"),
        "--out",
        str(root / "model"),
        "--random-state",
        "0",
        "--epochs",
        "3",
        "--quiet",
        *LABELS,
        "--register",
        "--registry",
        str(root / "registry"),
        "--promote",
    ]
    assert main(argv) == 0
    return root


def test_train_on_a_zeek_log_derives_the_network_features(network):
    config = json.loads((network / "model" / "config.json").read_text())
    assert config["params"]["network_features"] is True
    card = ModelRegistry(network / "registry").show(1)
    roles = {item["name"]: item["role"] for item in card["feature_schema"]}
    assert roles["net_src_ports_1h"] == "numeric"
    assert roles["id.resp_p"] == "categorical"
    assert "id.orig_h" not in roles and "attack_type" not in roles


def test_score_a_json_log_flags_every_attack_pattern(network, capsys):
    out = network / "scores.csv"
    argv = [
        "score",
        "--model",
        str(network / "model"),
        "--data",
        str(network / "fresh.json"),
        "--out",
        str(out),
        "--keep-cols",
        "attack_type",
        "--label-col",
        "is_attack",
        "--summary-json",
        str(network / "summary.json"),
        "--quiet",
    ]
    assert main(argv) == 0
    scored = pd.read_csv(out)
    for column in ("uid", "ts", "id.orig_h", "id.resp_h", "id.resp_p", "service"):
        assert column in scored.columns  # kept for the analyst views
    recall = (
        scored[scored["attack_type"] != "normal"]
        .groupby("attack_type")["is_anomaly"]
        .mean()
    )
    assert set(recall.index) == set(ATTACK_TYPES)
    assert (recall > 0).all(), (
        recall.to_dict()
    )  # each pattern flagged at the default threshold
    summary = json.loads((network / "summary.json").read_text())
    assert summary["roc_auc"] > 0.9
    entities = pd.read_csv(network / "scores.csv.entities.csv")
    assert entities.columns[0] == "id.orig_h"  # the source host by default
    assert entities["flagged"].sum() == scored["is_anomaly"].sum()
    first = pd.to_datetime(entities["first_flagged"].dropna().iloc[0])
    assert first.year == 2026


def test_evaluate_and_drift_read_the_log_like_score(network, capsys):
    assert (
        main(
            [
                "evaluate",
                "--model",
                str(network / "model"),
                "--data",
                str(network / "fresh.json"),
                "--label-col",
                "is_attack",
                "--json",
                str(network / "eval.json"),
            ]
        )
        == 0
    )
    report = json.loads((network / "eval.json").read_text())
    assert report["roc_auc"] > 0.9
    assert report["rows_rejected"] == 0
    assert main(
        [
            "drift",
            "--model",
            str(network / "model"),
            "--data",
            str(network / "fresh.json"),
            "--json",
            str(network / "drift.json"),
        ]
    ) in (0, 7)
    assert json.loads((network / "drift.json").read_text())["rows_rejected"] == 0


def test_a_malformed_log_line_goes_to_the_rejection_file(network, tmp_path):
    lines = (network / "fresh.json").read_text().splitlines()
    lines[9] = lines[9][:40]  # record 10: cut short
    bad = tmp_path / "bad.jsonl"
    bad.write_text("\n".join(lines) + "\n")
    out = tmp_path / "s.parquet"
    assert (
        main(
            [
                "score",
                "--model",
                str(network / "model"),
                "--data",
                str(bad),
                "--out",
                str(out),
                "--quiet",
            ]
        )
        == 0
    )
    rejected = pd.read_csv(tmp_path / "s.parquet.rejected.csv")
    assert rejected["row"].tolist() == [10]
    assert "expected a JSON object" in rejected["reason"].iloc[0]
    assert len(pd.read_parquet(out)) == len(lines) - 1


def test_retrain_on_a_fresh_log_keeps_the_network_features(network, tmp_path):
    assert (
        main(
            [
                "generate",
                "--kind",
                "network",
                "--rows",
                "8000",
                "--attack-rate",
                "0.01",
                "--random-state",
                "2",
                "--start",
                "2026-11-06",
                "--out",
                str(tmp_path / "day.log"),
            ]
        )
        == 0
    )
    config = tmp_path / "retrain.toml"
    config.write_text(
        f'registry = "{network / "registry"}"\n\n[data]\npaths = ["{tmp_path / "day.log"}"]\n'
        'timestamp_col = "ts"\nwindow_days = 2\n\n[normal]\nlabel_col = "is_attack"\n\n'
        '[gate]\nmetric = "roc_auc"\ntolerance = 0.05\nmax_fpr = 0.05\n\n'
        '[detector]\nepochs = 2\nrandom_state = 0\nexclude_cols = ["attack_type"]\n'
    )
    code = main(
        [
            "retrain",
            "--config",
            str(config),
            "--report-json",
            str(tmp_path / "run.json"),
        ]
    )
    assert code in (0, 5), code  # promoted, or kept by the gate: both complete runs
    run = json.loads((tmp_path / "run.json").read_text())
    assert run["rows"]["in_window"] == 8000
    version = max(v["version"] for v in ModelRegistry(network / "registry").versions())
    assert version == 2
    schema = ModelRegistry(network / "registry").show(2)["feature_schema"]
    assert "net_src_conns_1m" in {item["name"] for item in schema}


@pytest.mark.slow
@pytest.mark.shared_data
def test_nsl_kdd_files_train_and_score_through_the_reader(tmp_path, capsys):
    train = shared_path("nsl-kdd", "KDDTrain+_20Percent.txt")
    test = shared_path("nsl-kdd", "KDDTest+.txt")
    assert (
        main(
            [
                "train",
                "--data",
                str(train),
                "--out",
                str(tmp_path / "m"),
                "--label-col",
                "attack",
                "--exclude-cols",
                "difficulty",
                "--random-state",
                "0",
                "--quiet",
            ]
        )
        == 0
    )
    assert (
        main(
            [
                "score",
                "--model",
                str(tmp_path / "m"),
                "--data",
                str(test),
                "--out",
                str(tmp_path / "s.csv"),
                "--label-col",
                "attack",
                "--summary-json",
                str(tmp_path / "s.json"),
                "--quiet",
            ]
        )
        == 0
    )
    summary = json.loads((tmp_path / "s.json").read_text())
    assert summary["scored"] == 22_544 and summary["rejected"] == 0
    assert summary["roc_auc"] > 0.9


def test_alerts_for_network_events_carry_the_connection_time(network, tmp_path):
    alerts = tmp_path / "alerts.jsonl"
    argv = [
        "score",
        "--model",
        str(network / "model"),
        "--data",
        str(network / "fresh.json"),
        "--out",
        str(tmp_path / "s.csv"),
        "--alerts-to",
        str(alerts),
        "--quiet",
    ]
    assert main(argv) == 0
    first = json.loads(alerts.read_text().splitlines()[0])
    assert first["@timestamp"].startswith("2026-11-05")


def _zeek_tsv(frame, path):
    """The test suite's own Zeek writer: header lines, tabs, '-' and '(empty)'."""
    types = {"ts": "time", "id.orig_p": "port", "id.resp_p": "port", "duration": "interval",
             "id.orig_h": "addr", "id.resp_h": "addr", "proto": "enum", "local_orig": "bool",
             "local_resp": "bool", "tunnel_parents": "set[string]", "orig_bytes": "count",
             "resp_bytes": "count"}  # fmt: skip
    frame = frame.assign(tunnel_parents="")
    kinds = [
        types.get(c, "count" if frame[c].dtype.kind == "i" else "string") for c in frame
    ]
    lines = [
        "#separator \\x09", "#set_separator\t,", "#empty_field\t(empty)", "#unset_field\t-",
        "#path\tconn", "#open\t2026-11-05-00-00-00", "#fields\t" + "\t".join(frame.columns),
        "#types\t" + "\t".join(kinds),
    ]  # fmt: skip
    for row in frame.itertuples(index=False):
        cells = []
        for value, kind in zip(row, kinds, strict=True):
            if value is None or (isinstance(value, float) and value != value):
                cells.append("-")
            elif value == "":
                cells.append("(empty)")
            elif kind in ("time", "interval"):
                cells.append(f"{value:.6f}")
            else:
                cells.append(str(int(value)) if kind == "count" else str(value))
        lines.append("\t".join(cells))
    lines.append("#close\t2026-11-06-00-00-00")
    path.write_text("\n".join(lines) + "\n")


def _zeek_json(frame, path):
    """Zeek's JSON-lines form, written by the test suite: unset fields left out."""
    with path.open("w") as fh:
        for record in frame.to_dict(orient="records"):
            kept = {k: v for k, v in record.items() if v is not None and v == v}
            for flag in ("local_orig", "local_resp"):
                kept[flag] = kept[flag] == "T"
            fh.write(json.dumps(kept) + "\n")


def test_logs_the_test_suite_writes_train_and_score_end_to_end(tmp_path):
    from anomaly_gan.data.network_synth import make_connections

    train = make_connections(8_000, attack_rate=0.0, random_state=5)
    train.loc[train["conn_state"] == "S0", ["service", "orig_bytes", "resp_bytes"]] = (
        None
    )
    fresh = make_connections(
        4_000, attack_rate=0.03, random_state=6, start="2026-11-05"
    )
    _zeek_tsv(train, tmp_path / "conn.log")
    _zeek_json(fresh, tmp_path / "conn.json")
    text = (tmp_path / "conn.log").read_text()
    assert "\t-\t" in text and "(empty)" in text
    header = text.splitlines()[:9]
    assert header[6].startswith("#fields\t") and header[7].startswith("#types\ttime\t")
    assert not header[8].startswith("#")  # the first record
    assert main(["train", "--data", str(tmp_path / "conn.log"), "--out", str(tmp_path / "m"),
                 *LABELS, "--epochs", "2", "--random-state", "0", "--quiet"]) == 0  # fmt: skip
    out = tmp_path / "s.csv"
    assert main(["score", "--model", str(tmp_path / "m"), "--data", str(tmp_path / "conn.json"),
                 "--out", str(out), "--keep-cols", "attack_type", "--label-col", "is_attack",
                 "--summary-json", str(tmp_path / "s.json"), "--quiet"]) == 0  # fmt: skip
    summary = json.loads((tmp_path / "s.json").read_text())
    assert summary["scored"] == 4_000 and summary["rejected"] == 0
    assert summary["roc_auc"] > 0.9
