"""The registry commands and registry:ALIAS model specs from the command line."""

import json

import pandas as pd
import pytest

from anomaly_gan.cli import main
from anomaly_gan.data.datasets import make_transactions

TRAIN = [
    "--label-col",
    "is_fraud",
    "--id-cols",
    "transaction_id",
    "card_id",
    "--timestamp-cols",
    "timestamp",
    "--exclude-cols",
    "fraud_type",
    "--epochs",
    "3",
    "--random-state",
    "0",
    "--quiet",
]


@pytest.fixture
def workspace(tmp_path, monkeypatch):
    monkeypatch.setenv("ANOMALY_GAN_REGISTRY", str(tmp_path / "reg"))
    make_transactions(1_500, fraud_rate=0.01, random_state=0).to_csv(
        tmp_path / "train.csv", index=False
    )
    make_transactions(500, fraud_rate=0.05, random_state=1).to_csv(
        tmp_path / "fresh.csv", index=False
    )
    return tmp_path


def test_train_register_promote_score_and_roll_back(workspace, capsys):
    ws = workspace
    assert (
        main(
            [
                "train",
                "--data",
                str(ws / "train.csv"),
                "--out",
                str(ws / "m1"),
                *TRAIN,
                "--register",
                "--promote",
            ]
        )
        == 0
    )
    assert "registered as version 1" in capsys.readouterr().out
    assert (
        main(
            [
                "evaluate",
                "--model",
                "registry:production",
                "--data",
                str(ws / "fresh.csv"),
                "--label-col",
                "is_fraud",
                "--json",
                str(ws / "eval.json"),
            ]
        )
        == 0
    )
    assert (
        main(
            [
                "registry",
                "add",
                str(ws / "m1"),
                "--evaluation",
                str(ws / "eval.json"),
                "--note",
                "same model, with its report",
            ]
        )
        == 0
    )
    assert main(["registry", "promote", "2"]) == 0
    capsys.readouterr()
    assert main(["registry", "list"]) == 0
    listing = capsys.readouterr().out.splitlines()
    assert listing[0].split() == ["version", "registered", "rows", "ROC-AUC", "aliases"]
    assert listing[2].split()[0] == "2" and listing[2].split()[-1] == "production"
    assert main(["registry", "show", "production"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["version"] == 2 and shown["note"] == "same model, with its report"
    assert (
        shown["evaluation"]["roc_auc"]
        == json.loads((ws / "eval.json").read_text())["roc_auc"]
    )
    assert (
        main(
            [
                "score",
                "--model",
                "registry:production",
                "--data",
                str(ws / "fresh.csv"),
                "--out",
                str(ws / "s.csv"),
                "--quiet",
            ]
        )
        == 0
    )
    assert len(pd.read_csv(ws / "s.csv")) == 500
    assert main(["registry", "rollback"]) == 0
    assert (
        capsys.readouterr()
        .out.strip()
        .endswith("'production' rolled back from version 2 to version 1")
    )
    assert main(["registry", "diff", "1", "2"]) == 0
    diff = json.loads(capsys.readouterr().out)
    assert diff["versions"] == [1, 2] and diff["params"] == {}


@pytest.mark.parametrize(
    ("argv", "code", "message"),
    [
        (["registry", "promote", "9"], 3, "no version or alias '9'"),
        (
            ["registry", "rollback"],
            3,
            "alias 'production' has no earlier version to roll back to",
        ),
        (
            [
                "score",
                "--model",
                "registry:production",
                "--data",
                "{ws}/fresh.csv",
                "--out",
                "{ws}/o.csv",
            ],
            3,
            "no version or alias 'production'",
        ),
        (
            ["registry", "add", "{ws}/nothing"],
            3,
            "not found (expected a model directory written by 'anomaly-gan train')",
        ),
        (
            ["train", "--data", "{ws}/train.csv", "--out", "{ws}/m", "--promote"],
            2,
            "--promote: only together with --register",
        ),
    ],
)
def test_registry_errors(workspace, capsys, argv, code, message):
    argv = [a.format(ws=workspace) for a in argv]
    assert main(argv) == code
    err = capsys.readouterr().err
    assert err.startswith("anomaly-gan: error: ") and message in err
    assert err.count("\n") == 1


def test_an_empty_registry_says_what_to_do(workspace, capsys):
    assert main(["registry", "list"]) == 0
    assert (
        "no versions yet (add one with 'anomaly-gan registry add MODEL_DIR')"
        in capsys.readouterr().out
    )


def test_operating_point_is_used_by_score_and_evaluate_until_overridden(
    workspace, capsys
):
    ws = workspace
    args = ["--data", str(ws / "train.csv"), "--out", str(ws / "m1"), *TRAIN]
    assert main(["train", *args, "--register", "--promote"]) == 0
    score = [
        "score",
        "--model",
        "registry:production",
        "--data",
        str(ws / "fresh.csv"),
        "--id-cols",
        "transaction_id",
        "--quiet",
    ]
    assert main([*score, "--out", str(ws / "default.csv")]) == 0
    default = pd.read_csv(ws / "default.csv")
    cut = float(default["anomaly_score"].quantile(0.5))  # flags about half
    capsys.readouterr()
    assert (
        main(["registry", "set-threshold", "production", str(cut), "--note", "t"]) == 0
    )
    assert "version 1: operating threshold" in capsys.readouterr().out
    assert main([*score, "--out", str(ws / "op.csv")]) == 0
    op = pd.read_csv(ws / "op.csv")
    assert op["is_anomaly"].tolist() == (op["anomaly_score"] > cut).astype(int).tolist()
    assert op["is_anomaly"].sum() > default["is_anomaly"].sum()
    # --threshold still wins over the operating point.
    assert main([*score, "--out", str(ws / "t.csv"), "--threshold", "1e9"]) == 0
    assert pd.read_csv(ws / "t.csv")["is_anomaly"].sum() == 0
    capsys.readouterr()
    assert main(["registry", "show", "1"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["operating_point"]["threshold"] == pytest.approx(cut)
    assert shown["operating_point"]["note"] == "t"
    # A path to the same model directory ignores the registry's operating point.
    assert (
        main([*score[:2], str(ws / "m1"), *score[3:], "--out", str(ws / "p.csv")]) == 0
    )
    assert pd.read_csv(ws / "p.csv")["is_anomaly"].sum() == default["is_anomaly"].sum()
    assert main(["registry", "set-threshold", "9", "1.0"]) == 3
    assert "no version or alias '9'" in capsys.readouterr().err


@pytest.fixture(scope="module")
def small_model(tmp_path_factory):
    root = tmp_path_factory.mktemp("regpos")
    make_transactions(800, fraud_rate=0.0, random_state=0).to_csv(
        root / "train.csv", index=False
    )
    assert (
        main(
            [
                "train",
                "--data",
                str(root / "train.csv"),
                "--out",
                str(root / "m"),
                *TRAIN,
            ]
        )
        == 0
    )
    return root / "m"


@pytest.mark.parametrize("position", ["before the action", "after the action"])
def test_registry_option_works_before_and_after_every_action(
    small_model, tmp_path, monkeypatch, capsys, position
):
    # Issue 15, case 7: 'registry --registry DIR ACTION' wrote to ./registry.
    monkeypatch.delenv("ANOMALY_GAN_REGISTRY", raising=False)
    monkeypatch.chdir(tmp_path)
    target = tmp_path / "chosen"

    def run(action, *rest):
        where = ["--registry", str(target)]
        argv = (
            ["registry", *where, action, *rest]
            if position == "before the action"
            else ["registry", action, *rest, *where]
        )
        code = main(argv)
        return code, capsys.readouterr().out

    steps = [
        ("add", str(small_model)),
        ("add", str(small_model)),
        ("promote", "1"),
        ("promote", "2"),
        ("rollback",),
        ("set-threshold", "1", "0.5"),
        ("list",),
        ("show", "production"),
        ("runs",),
        ("diff", "1", "2"),
    ]
    for step in steps:
        assert run(*step)[0] == 0, step
    state = json.loads((target / "registry.json").read_text())
    assert state["aliases"]["production"] == 1
    assert state["operating_points"]["1"]["threshold"] == 0.5
    assert json.loads(run("show", "1")[1])["version"] == 1
    assert not (tmp_path / "registry").exists()


def test_history_records_the_actor_or_the_os_user(
    small_model, tmp_path, monkeypatch, capsys
):
    # Issue 15, case 11: a scheduled job (no login terminal, no $USER) was "unknown".
    import getpass

    monkeypatch.delenv("USER", raising=False)
    monkeypatch.delenv("LOGNAME", raising=False)
    reg = ["--registry", str(tmp_path / "r")]
    assert main(["registry", *reg, "add", str(small_model), "--actor", "ci-bot"]) == 0
    assert main(["registry", *reg, "add", str(small_model)]) == 0
    assert main(["registry", *reg, "--actor", "alice", "promote", "1"]) == 0
    assert main(["registry", "promote", "2", *reg]) == 0
    assert main(["registry", "rollback", "--actor", "bob", *reg]) == 0
    capsys.readouterr()
    state = json.loads((tmp_path / "r" / "registry.json").read_text())
    by = [event["by"] for event in state["history"]]
    assert by[0] == "alice" and by[2] == "bob"
    assert by[1] == getpass.getuser() != "unknown"
    versions = [
        json.loads((tmp_path / "r" / "versions" / str(n) / "version.json").read_text())
        for n in (1, 2)
    ]
    assert versions[0]["registered_by"] == "ci-bot"
    assert versions[1]["registered_by"] == getpass.getuser()
