"""The retraining job: gate both ways, lock, kill at any point, config errors."""

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from filelock import FileLock

from anomaly_gan.cli import main
from anomaly_gan.data.datasets import make_transactions
from anomaly_gan.exceptions import ConfigError, LockedError
from anomaly_gan.jobs.retrain import run_retrain
from anomaly_gan.jobs.retrain_config import RetrainConfig
from anomaly_gan.jobs.retrain_gate import apply_gate
from anomaly_gan.stores.registry import STATE, ModelRegistry

ROOT = Path(__file__).resolve().parents[1]
DETECTOR = """
[detector]
epochs = {epochs}
id_cols = ["transaction_id", "card_id"]
timestamp_cols = ["timestamp"]
exclude_cols = {exclude}
random_state = 0
"""


@pytest.fixture(scope="module")
def fresh_data(tmp_path_factory):
    folder = tmp_path_factory.mktemp("fresh")
    make_transactions(4_000, fraud_rate=0.03, random_state=7).to_parquet(
        folder / "tx_1.parquet"
    )
    make_transactions(2_000, fraud_rate=0.03, random_state=8).to_parquet(
        folder / "tx_2.parquet"
    )
    return folder


def write_config(
    tmp_path,
    fresh_data,
    *,
    epochs=8,
    exclude=("fraud_type",),
    label=True,
    gate="",
    name="retrain.toml",
):
    label_line = 'label_col = "is_fraud"' if label else ""
    excl = list(exclude) + ([] if label else ["is_fraud"])
    text = (
        f'registry = "registry"\n\n[data]\npaths = ["{fresh_data}/tx_*.parquet"]\ntimestamp_col = "timestamp"\n\n'
        f"[normal]\n{label_line}\n\n[holdout]\nfraction = 0.25\n\n[gate]\n{gate}\n"
        + DETECTOR.format(epochs=epochs, exclude=json.dumps(excl))
    )
    path = tmp_path / name
    path.write_text(text)
    return path


@pytest.mark.slow
def test_gate_promotes_a_first_model_then_keeps_a_better_champion(
    tmp_path, fresh_data, capsys
):
    good = write_config(tmp_path, fresh_data)
    assert main(["retrain", "--config", str(good)]) == 0
    reg = ModelRegistry(tmp_path / "registry")
    assert reg.aliases() == {"production": 1}
    first = reg.run_reports()[0]
    assert first["decision"] == "promote" and first["reason"].startswith("no champion")
    assert first["rows"]["read"] == 6_000 and first["rows"]["holdout"] == 1_500
    # A challenger blind to the fraud signals (amounts, velocity, geography, device)
    # must not replace the champion.
    blind = write_config(
        tmp_path,
        fresh_data,
        name="blind.toml",
        exclude=(
            "fraud_type",
            "amount",
            "amount_24h",
            "txn_count_1h",
            "txn_count_24h",
            "secs_since_prev",
            "is_cross_border",
            "country",
            "new_device",
            "hour",
            "merchant_category",
            "device_type",
        ),
    )
    assert main(["retrain", "--config", str(blind)]) == 5
    assert reg.aliases() == {"production": 1}
    assert [v["version"] for v in reg.versions()] == [1, 2]  # kept for inspection
    second = reg.run_reports()[-1]
    assert first["started_at"] < second["started_at"]  # in order, even within a second
    assert second["decision"] == "keep champion"
    assert second["challenger"]["roc_auc"] < second["champion"]["roc_auc"] - 0.005
    assert re.search(
        r"challenger roc_auc 0\.\d{4} is lower than champion's 0\.\d{4} minus 0\.005",
        second["reason"],
    )
    out = capsys.readouterr().out
    assert "keep champion" in out and "'production' stays at version 1" in out
    # The same good config on the same data again: nothing new to learn, so the
    # run is skipped and registers nothing (issue 15, case 16) ...
    assert main(["retrain", "--config", str(good)]) == 5
    assert [v["version"] for v in reg.versions()] == [1, 2]
    skipped = reg.run_reports()[-1]
    assert skipped["decision"] == "skip"
    assert skipped["reason"].startswith("no new data: version 1 was trained on")
    assert (
        "nothing registered; 'production' stays at version 1" in capsys.readouterr().out
    )
    # ... unless forced: no worse than the champion, so it is promoted.
    assert main(["retrain", "--config", str(good), "--force"]) == 0
    assert reg.aliases() == {"production": 3}


@pytest.mark.slow
def test_without_labels_the_false_positive_bound_decides(tmp_path, fresh_data):
    strict = write_config(
        tmp_path,
        fresh_data,
        epochs=3,
        label=False,
        gate="max_fpr = 0.0001",
        name="strict.toml",
    )
    outcome = run_retrain(RetrainConfig.from_file(strict))
    assert not outcome.promoted and outcome.exit_code == 5
    assert "above the bound 0.0001" in outcome.reason
    loose = write_config(
        tmp_path,
        fresh_data,
        epochs=3,
        label=False,
        gate="max_fpr = 0.5",
        name="loose.toml",
    )
    outcome = run_retrain(RetrainConfig.from_file(loose))
    assert outcome.promoted and outcome.exit_code == 0
    assert ModelRegistry(tmp_path / "registry").aliases() == {"production": 2}


def test_a_second_run_is_refused_while_one_holds_the_lock(tmp_path, fresh_data, capsys):
    config = write_config(tmp_path, fresh_data, epochs=1)
    (tmp_path / "registry").mkdir()
    with FileLock(str(tmp_path / "registry" / "retrain.lock")):
        with pytest.raises(LockedError, match="another retraining run holds the lock"):
            run_retrain(RetrainConfig.from_file(config))
        assert main(["retrain", "--config", str(config)]) == 6
    assert "another retraining run holds the lock" in capsys.readouterr().err


@pytest.mark.slow
def test_a_run_killed_mid_promotion_leaves_the_registry_as_it_was(
    tmp_path, fresh_data, monkeypatch
):
    config = RetrainConfig.from_file(write_config(tmp_path, fresh_data, epochs=2))
    assert run_retrain(config).promoted
    reg = ModelRegistry(tmp_path / "registry")
    before = (reg.root / STATE).read_bytes()

    def killed(self, state):
        raise KeyboardInterrupt

    monkeypatch.setattr(ModelRegistry, "_commit", killed)
    with pytest.raises(KeyboardInterrupt):  # forced: the same data and settings
        run_retrain(config, force=True)
    monkeypatch.undo()
    assert (reg.root / STATE).read_bytes() == before
    assert len(reg.run_reports()) == 1
    # The re-run works (forced: the data and settings are those of version 1).
    assert run_retrain(config, force=True).version == 2


@pytest.mark.slow
@pytest.mark.e2e
def test_a_run_killed_mid_training_leaves_the_registry_as_it_was_and_resumes(
    tmp_path, fresh_data
):
    config = write_config(tmp_path, fresh_data, epochs=2)
    assert main(["retrain", "--config", str(config)]) == 0
    reg = ModelRegistry(tmp_path / "registry")
    before = (reg.root / STATE).read_bytes()
    long = write_config(tmp_path, fresh_data, epochs=400, name="long.toml")
    exe = str(Path(sys.executable).parent / "anomaly-gan")
    proc = subprocess.Popen(
        [exe, "retrain", "--config", str(long)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    checkpoint = reg.root / ".retrain-checkpoints" / "checkpoint.pt"
    deadline = time.monotonic() + 120
    while (
        not checkpoint.exists() and proc.poll() is None and time.monotonic() < deadline
    ):
        time.sleep(0.05)
    assert proc.poll() is None, proc.communicate()
    time.sleep(0.5)
    proc.send_signal(signal.SIGKILL)
    proc.communicate()
    assert (reg.root / STATE).read_bytes() == before
    assert [v["version"] for v in reg.versions()] == [1]
    assert checkpoint.exists()
    # The re-run resumes from the checkpoint: fewer epochs left to train.
    import torch

    done = int(torch.load(checkpoint, weights_only=True)["epoch"]) + 1
    assert 1 <= done < 400
    short = write_config(tmp_path, fresh_data, epochs=2)
    assert main(["retrain", "--config", str(short), "--force"]) in (0, 5)
    assert [v["version"] for v in reg.versions()] == [1, 2]
    assert not checkpoint.exists()


def test_window_and_confirmed_fraud_ids_are_applied(tmp_path, fresh_data):
    frame = make_transactions(4_000, fraud_rate=0.03, random_state=7)
    confirmed = frame["transaction_id"].iloc[-25:]  # the newest rows: inside the window
    confirmed.to_frame().to_csv(tmp_path / "confirmed.csv", index=False)
    config = write_config(tmp_path, fresh_data, epochs=1)
    text = (
        config.read_text()
        .replace(
            '[normal]\nlabel_col = "is_fraud"',
            '[normal]\nlabel_col = "is_fraud"\nid_col = "transaction_id"\nconfirmed_fraud_ids = "confirmed.csv"',
        )
        .replace(
            'timestamp_col = "timestamp"',
            'timestamp_col = "timestamp"\nwindow_days = 10',
        )
    )
    config.write_text(text)
    outcome = run_retrain(RetrainConfig.from_file(config))
    stamps = frame["timestamp"]
    both = np.concatenate(
        [stamps, make_transactions(2_000, fraud_rate=0.03, random_state=8)["timestamp"]]
    )
    newest = both.max()
    in_window = int((both > newest - np.timedelta64(10, "D")).sum())
    assert outcome.rows["in_window"] == in_window
    assert outcome.rows["confirmed_fraud_excluded"] == 25


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[data]\n", "[data] paths: expected one or more paths or glob patterns"),
        (
            '[data]\npaths = ["x"]\n[gate]\nmetric = "f1"\n',
            "[gate] metric: expected one of roc_auc, average_precision, found 'f1'",
        ),
        (
            '[data]\npaths = ["x"]\nwindow_days = 3\n',
            "[data] window_days: needs timestamp_col and a positive number of days",
        ),
        (
            '[data]\npaths = ["x"]\n[normal]\nconfirmed_fraud_ids = "c.csv"\n',
            "[normal] confirmed_fraud_ids: needs id_col",
        ),
        (
            '[data]\npaths = ["x"]\n[holdout]\nfraction = 1.5\n',
            "[holdout] fraction: expected a number in (0, 1), found 1.5",
        ),
        (
            '[data]\npaths = ["x"]\n[detector]\nepochs = 0\n',
            "parameter 'epochs': expected a positive integer or None, found 0",
        ),
        ('[data]\npaths = ["x"]\n[detector]\nepoch = 3\n', "unknown parameter 'epoch'"),
        ('[data]\npaths = ["x"]\nextra = 1\n', "[data] unknown key 'extra'"),
        ("gate = ", "expected valid TOML"),
    ],
)
def test_config_errors_name_the_file_and_key(tmp_path, text, message):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as info:
        RetrainConfig.from_file(path)
    assert message in str(info.value)
    assert str(path) in str(info.value)


def test_yaml_config_reads_like_toml(tmp_path, fresh_data):
    path = tmp_path / "retrain.yaml"
    path.write_text(
        f"registry: reg\ndata:\n  paths: ['{fresh_data}/tx_*.parquet']\ngate:\n  max_fpr: 0.05\ndetector:\n  epochs: 2\n"
    )
    config = RetrainConfig.from_file(path)
    assert config.max_fpr == 0.05 and config.detector == {"epochs": 2}
    assert config.registry == str(tmp_path / "reg")


def test_deploy_examples_parse(tmp_path):
    deploy = ROOT / "docs" / "deploy"
    config = RetrainConfig.from_file(deploy / "retrain.toml")
    assert config.gate_metric == "roc_auc"
    cron = [
        line
        for line in (deploy / "crontab").read_text().splitlines()
        if line and not line.startswith("#")
    ]
    assert len(cron) == 1
    fields = cron[0].split(maxsplit=5)
    assert all(re.fullmatch(r"[\d*/,-]+", f) for f in fields[:5])
    assert "flock -n" in fields[5] and "anomaly-gan retrain --config" in fields[5]
    service = (deploy / "anomaly-gan-retrain.service").read_text()
    timer = (deploy / "anomaly-gan-retrain.timer").read_text()
    assert "SuccessExitStatus=5" in service and "Persistent=true" in timer
    if shutil.which("systemd-analyze") is None:
        pytest.skip(
            "systemd-analyze is not installed: the units were checked by parsing only"
        )
    exe = Path(sys.executable).parent / "anomaly-gan"
    (tmp_path / "anomaly-gan-retrain.service").write_text(
        service.replace("/srv/anomaly-gan/.venv/bin/anomaly-gan", str(exe))
    )
    (tmp_path / "anomaly-gan-retrain.timer").write_text(timer)
    result = subprocess.run(
        [
            "systemd-analyze",
            "verify",
            "anomaly-gan-retrain.service",
            "anomaly-gan-retrain.timer",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "SYSTEMD_LOG_LEVEL": "warning"},
    )
    assert result.returncode == 0, result.stderr


# ------------------------------------------------- don't learn what production flags
TX = {
    "id_cols": ["transaction_id", "card_id"],
    "timestamp_cols": ["timestamp"],
    "random_state": 0,
}


@pytest.fixture(scope="module")
def champion_registry(tmp_path_factory):
    """A registry whose production model was trained on 3,000 normal rows."""
    from anomaly_gan import GANomalyDetector

    root = tmp_path_factory.mktemp("champion")
    det = GANomalyDetector(**TX, exclude_cols=["is_fraud", "fraud_type"]).fit(
        make_transactions(3_000, fraud_rate=0.0, random_state=0)
    )
    ModelRegistry(root / "registry").register(
        det.save(root / "m"), promote_to="production"
    )
    return root / "registry"


def _window(tmp_path, champion_registry, *, rate=0.05, benign=None, **normal):
    """A fresh window with unlabelled card-testing fraud, and its config."""
    frame = make_transactions(3_000, fraud_rate=rate, random_state=5)
    registry = tmp_path / "registry"
    shutil.copytree(champion_registry, registry)
    frame.drop(columns=["is_fraud", "fraud_type"]).to_parquet(tmp_path / "w.parquet")
    table = {"id_col": "transaction_id", **normal}
    if benign is not None:
        frame.loc[benign, ["transaction_id"]].to_csv(
            tmp_path / "benign.csv", index=False
        )
        table["confirmed_benign_ids"] = str(tmp_path / "benign.csv")
    config = RetrainConfig.from_dict(
        {
            "registry": str(registry),
            "data": {
                "paths": [str(tmp_path / "w.parquet")],
                "timestamp_col": "timestamp",
            },
            "normal": table,
            "detector": TX,
        }
    )
    return frame, config


@pytest.mark.slow
def test_the_champions_alerts_are_held_back_and_the_gate_checks_without_labels(
    tmp_path, champion_registry
):
    frame, config = _window(tmp_path, champion_registry)
    outcome = run_retrain(config)
    rows = outcome.rows
    # The champion flags most of the window's fraud; those rows, less the ones a
    # model of the fresh data finds normal, were not learned from.
    fraud_in_training = 0.8 * frame["is_fraud"].sum()  # 20% of rows are the holdout
    assert rows["flagged_by_champion"] >= 0.8 * fraud_in_training
    # Lone alerts (the normal tail) are learned; the rest held back or given back.
    assert rows["flagged_but_isolated"] > 0
    assert (
        rows["held_back"] + rows["restored"] + rows["flagged_but_isolated"]
        == rows["flagged_by_champion"]
    )
    assert rows["learned"] == rows["train_normal"] - rows["held_back"]
    checks = {c["check"]: c for c in outcome.gate["checks"]}
    assert set(checks) == {"false_positive_rate", "alert_retention", "rank_agreement"}
    assert (
        checks["false_positive_rate"]["value"]
        == outcome.gate["agreement"]["new_alert_rate"]
    )
    assert outcome.gate["decided_by"] in ("all checks", *checks)
    report = ModelRegistry(config.registry).run_reports()[-1]
    assert report["rows"]["held_back"] == rows["held_back"]
    # The learned tail calibrates the threshold like any learned row.
    assert report["threshold"] is None


@pytest.mark.slow
def test_holding_back_every_alert_sets_the_threshold_over_the_window(
    tmp_path, champion_registry
):
    _, config = _window(tmp_path, champion_registry, learn_isolated_alerts=False)
    outcome = run_retrain(config)
    rows = outcome.rows
    assert rows["flagged_but_isolated"] == 0
    assert rows["held_back"] + rows["restored"] == rows["flagged_by_champion"]
    report = ModelRegistry(config.registry).run_reports()[-1]
    # The challenger's threshold was set over its whole window, the held-back
    # rows counted as anomalies, never below the one set on the learned rows.
    threshold = report["threshold"]
    assert threshold["over_window"] >= threshold["on_learned_rows"]
    assert threshold["held_back_share"] == pytest.approx(
        rows["held_back"] / rows["train_normal"]
    )
    assert outcome.challenger["threshold"] == pytest.approx(threshold["over_window"])


@pytest.mark.slow
def test_holding_back_keeps_the_fraud_flagged_and_can_be_turned_off(
    tmp_path, champion_registry
):
    from anomaly_gan import GANomalyDetector

    results = {}
    for hold_back in (True, False):
        work = tmp_path / str(hold_back)
        work.mkdir()
        frame, config = _window(work, champion_registry, hold_back_flagged=hold_back)
        outcome = run_retrain(config)
        challenger = GANomalyDetector.load(
            ModelRegistry(config.registry).model_path(outcome.version)
        )
        fraud = frame[frame["is_fraud"] == 1].drop(columns=["is_fraud", "fraud_type"])
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            results[hold_back] = (
                challenger.predict(fraud).mean(),
                outcome.rows.get("held_back", 0),
            )
    (kept, held), (learned, none_held) = results[True], results[False]
    assert held > 0 and none_held == 0
    # Trained on the fraud, the challenger stops flagging it; held back, it does not.
    # (Measured: the champion flags 0.97 of it; held back 0.89 on one CPU and at
    # least 0.90 on another, whose float32 rounding differs; learned 0.15.)
    assert kept >= 0.8 and kept > learned + 0.5


@pytest.mark.slow
def test_confirmed_benign_rows_and_the_cap_are_learned(tmp_path, champion_registry):
    frame = make_transactions(3_000, fraud_rate=0.05, random_state=5)
    fraud_rows = frame.index[frame["is_fraud"] == 1]
    _, config = _window(
        tmp_path, champion_registry, benign=fraud_rows, max_held_back=0.01
    )
    outcome = run_retrain(config)
    rows = outcome.rows
    # Every fraud row of the window is "confirmed benign": none is held back, and
    # the cap (1% of the training window) bounds the rest.
    assert rows["flagged_but_confirmed_benign"] > 0
    assert rows["held_back"] + rows["restored"] <= int(0.01 * rows["train_normal"])
    # The holdout's confirmed-benign rows judge the challenger's false alerts.
    benign = outcome.gate["verdicts_benign"]
    assert benign["check"] == "verdict_false_alerts" and benign["rows"] >= 5
    assert benign["champion"] is not None and 0 <= benign["value"] <= 1


@pytest.mark.slow
def test_with_the_drift_trigger_an_unmoved_window_is_skipped_and_a_moved_one_retrains(
    tmp_path, champion_registry, capsys
):
    # Same generator as the champion's training data, no fraud: nothing moved.
    registry = tmp_path / "registry"
    shutil.copytree(champion_registry, registry)
    calm = make_transactions(3_000, fraud_rate=0.0, random_state=0)
    calm.drop(columns=["is_fraud", "fraud_type"]).to_parquet(tmp_path / "calm.parquet")
    moved = calm.copy()
    moved["amount"] = moved["amount"] * 4
    moved.drop(columns=["is_fraud", "fraud_type"]).to_parquet(
        tmp_path / "moved.parquet"
    )
    text = (
        f'registry = "{registry}"\n[data]\npaths = ["{{p}}"]\n'
        'timestamp_col = "timestamp"\n[trigger]\nwhen_drift = true\n'
    ) + DETECTOR.format(epochs=2, exclude="[]")
    (tmp_path / "calm.toml").write_text(text.format(p=tmp_path / "calm.parquet"))
    assert main(["retrain", "--config", str(tmp_path / "calm.toml")]) == 5
    out = capsys.readouterr().out
    assert "skip (no drift above the trigger's bounds" in out
    (report,) = ModelRegistry(registry).run_reports()
    assert report["decision"] == "skip" and report["drift"]["triggered"] is False
    assert report["drift"]["drifted_features"] == []
    assert [v["version"] for v in ModelRegistry(registry).versions()] == [1]
    # The same config without the table retrains; with it, a moved window does.
    (tmp_path / "moved.toml").write_text(
        text.format(p=tmp_path / "moved.parquet").replace("when_drift = true", "")
    )
    assert main(
        ["retrain", "--config", str(tmp_path / "moved.toml"), "--when-drift"]
    ) in (0, 5)
    out = capsys.readouterr().out
    assert "retrained because 1 feature(s) drifted (PSI >= 0.2): amount" in out
    # (both runs may start within one second: find this one by its decision)
    (report,) = [
        r for r in ModelRegistry(registry).run_reports() if r["decision"] != "skip"
    ]
    assert report["drift"]["triggered"] is True and report["version"] == 2
    # The version's model card, rewritten once the run report existed, has the gate.
    card = (registry / "versions" / "2" / "model_card.md").read_text()
    assert "## Retraining gate" in card and f"decision: {report['decision']}" in card
    assert "drift trigger: 1 feature(s) drifted (PSI >= 0.2): amount" in card


def test_trigger_config_errors_name_the_key(tmp_path):
    base = {"data": {"paths": ["x.csv"]}}
    with pytest.raises(
        ConfigError, match=r"\[trigger\] when_drift: expected true or false"
    ):
        RetrainConfig.from_dict({**base, "trigger": {"when_drift": "yes"}})
    with pytest.raises(ConfigError, match=r"\[trigger\] unknown key 'bound'"):
        RetrainConfig.from_dict({**base, "trigger": {"bound": 1}})
    with pytest.raises(ConfigError, match=r"\[trigger\] expected psi_bound > 0"):
        RetrainConfig.from_dict({**base, "trigger": {"psi_bound": 0}})
    config = RetrainConfig.from_dict(
        {**base, "trigger": {"when_drift": True, "min_drifted_features": 2}}
    )
    assert config.when_drift and config.trigger_min_features == 2


@pytest.mark.slow
def test_the_gate_judges_the_challenger_on_confirmed_fraud(tmp_path, champion_registry):
    from anomaly_gan import GANomalyDetector
    from anomaly_gan.jobs.retrain_gate import verdict_check

    frame = make_transactions(3_000, fraud_rate=0.05, random_state=5)
    fraud = frame[frame["is_fraud"] == 1]
    fraud[["transaction_id"]].to_csv(tmp_path / "confirmed.csv", index=False)
    frame, config = _window(
        tmp_path, champion_registry, confirmed_fraud_ids=str(tmp_path / "confirmed.csv")
    )
    outcome = run_retrain(config)
    verdicts = outcome.gate["verdicts"]
    assert verdicts["rows"] == outcome.rows["confirmed_fraud_excluded"] == len(fraud)
    assert verdicts["champion"] is not None and verdicts["value"] >= 0
    assert verdicts["passed"] == (
        verdicts["value"] >= verdicts["champion"] - config.verdict_tolerance
    )
    # A challenger that learned the confirmed fraud as normal fails the check.
    reg = ModelRegistry(config.registry)
    champion = GANomalyDetector.load(reg.model_path(1))
    rows = fraud.drop(columns=["is_fraud", "fraud_type"])
    normal = make_transactions(3_000, fraud_rate=0.0, random_state=9).drop(
        columns=["is_fraud", "fraud_type"]
    )
    learned = GANomalyDetector(**TX).fit(pd.concat([normal, rows, rows, rows]))
    check = verdict_check(config, champion, champion.threshold_, learned, rows)
    assert check["passed"] is False and check["value"] < check["champion"] - 0.05
    fresh = GANomalyDetector(**TX).fit(normal)
    assert verdict_check(config, champion, champion.threshold_, fresh, rows)["passed"]
    assert (
        verdict_check(config, champion, champion.threshold_, fresh, rows.head(3))
        is None
    )


@pytest.mark.slow
def test_a_challenger_alerting_on_confirmed_false_positives_fails(champion_registry):
    from anomaly_gan import GANomalyDetector
    from anomaly_gan.jobs.retrain_gate import benign_check

    config = RetrainConfig.from_dict({"data": {"paths": ["x.csv"]}})
    champion = GANomalyDetector.load(ModelRegistry(champion_registry).model_path(1))
    benign = make_transactions(400, fraud_rate=0.0, random_state=21).drop(
        columns=["is_fraud", "fraud_type"]
    )
    normal = make_transactions(3_000, fraud_rate=0.0, random_state=9).drop(
        columns=["is_fraud", "fraud_type"]
    )
    noisy = GANomalyDetector(**TX, target_fpr=0.5).fit(normal)  # flags half of normal
    check = benign_check(config, champion, champion.threshold_, noisy, benign)
    assert check["passed"] is False
    assert check["value"] > check["champion"] + config.verdict_tolerance
    calm = GANomalyDetector(**TX).fit(normal)
    assert benign_check(config, champion, champion.threshold_, calm, benign)["passed"]
    assert (
        benign_check(config, champion, champion.threshold_, calm, benign.head(2))
        is None
    )


@pytest.mark.slow
def test_rows_of_a_suppressed_pattern_are_not_learned(tmp_path, champion_registry):
    from anomaly_gan.stores.verdicts import VerdictStore

    db = tmp_path / "v.db"
    VerdictStore(db).add_suppression({"channel": ["online"]}, analyst="ana")
    frame, config = _window(tmp_path, champion_registry, suppressions_db=str(db))
    outcome = run_retrain(config)
    rows = outcome.rows
    assert rows["suppressed_not_learned"] > 0
    online = int((frame["channel"] == "online").sum())
    assert rows["suppressed_not_learned"] < online  # the holdout keeps its own
    assert rows["learned"] <= rows["train_normal"]  # counted after the suppression


def _agreement(retention: float, explained: float | None) -> dict:
    out = {
        "new_alert_rate": 0.005,
        "champion_alerts": 200,
        "rank_agreement": 0.9,
        "alert_retention": retention,
        "challenger_margin_on_champion_alerts": 0.0,
    }
    if explained is not None:
        out["explained_share"] = explained
    return out


def test_alert_retention_is_not_asked_of_alerts_the_job_learned_as_normal():
    config = RetrainConfig.from_dict({"data": {"paths": ["w.csv"]}, "registry": "r"})
    challenger = {"false_positive_rate": 0.01, "threshold": 1.0}
    # Half of the champion's alerts in the window were learned after all (a
    # behaviour that became common): keeping 0.3 of its holdout alerts passes
    # the bound 0.5 * (1 - 0.5) = 0.25 ...
    passed, reason, gate = apply_gate(
        config, {}, challenger, None, _agreement(0.3, 0.5)
    )
    assert passed, reason
    check = {c["check"]: c for c in gate["checks"]}["alert_retention"]
    assert check["bound"] == ">= 0.25"
    assert "did not explain" in reason
    # ... while with every alert held back (fraud) the full bound applies.
    passed, reason, gate = apply_gate(
        config, {}, challenger, None, _agreement(0.3, 0.0)
    )
    assert not passed
    assert gate["decided_by"] == "alert_retention"
    assert "below 0.5" in reason
    passed, _, _ = apply_gate(config, {}, challenger, None, _agreement(0.3, None))
    assert not passed
