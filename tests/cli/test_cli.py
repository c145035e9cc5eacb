import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from anomaly_gan.cli import main
from anomaly_gan.data.datasets import make_transactions

TRAIN_ARGS = [
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
    "6",
    "--random-state",
    "0",
    "--quiet",
]


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    root = tmp_path_factory.mktemp("cli")
    make_transactions(3_000, fraud_rate=0.01, random_state=0).to_csv(
        root / "train.csv", index=False
    )
    make_transactions(1_500, fraud_rate=0.05, random_state=1).to_parquet(
        root / "fresh.parquet"
    )
    return root


@pytest.fixture(scope="module")
def model(workspace):
    out = workspace / "model"
    code = main(
        [
            "train",
            "--data",
            str(workspace / "train.csv"),
            "--out",
            str(out),
            *TRAIN_ARGS,
        ]
    )
    assert code == 0
    return out


def test_train_writes_a_model_and_reports(model, workspace, capsys):
    assert (model / "manifest.json").exists()
    assert not (workspace / "model.checkpoints").exists()
    meta = json.loads((model / "metadata.json").read_text())
    assert meta["n_training_rows"] == 2_970  # fraud rows dropped by --label-col


def test_score_writes_ids_scores_components_and_reasons(model, workspace, capsys):
    out = workspace / "scores.csv"
    summary = workspace / "summary.json"
    code = main(
        [
            "score",
            "--model",
            str(model),
            "--data",
            str(workspace / "fresh.parquet"),
            "--out",
            str(out),
            "--label-col",
            "is_fraud",
            "--keep-cols",
            "amount",
            "--summary-json",
            str(summary),
        ]
    )
    assert code == 0
    scored = pd.read_csv(out)
    assert list(scored.columns[:10]) == [
        "transaction_id",
        "card_id",
        "amount",
        "anomaly_score",
        "is_anomaly",
        "fpr_estimate",
        "score_recon",
        "score_latent",
        "score_disc",
        "score_knn",
    ]
    assert {"feature_1", "value_1", "expected_1", "feature_3"} <= set(scored.columns)
    assert len(scored) == 1_500
    report = json.loads(summary.read_text())
    assert report["rows_in"] == 1_500
    assert report["scored"] == 1_500
    assert report["rejected"] == 0
    assert report["flagged"] == int(scored["is_anomaly"].sum())
    assert report["roc_auc"] > 0.85
    text = capsys.readouterr().out
    assert "rows in 1,500: scored 1,500, rejected 0" in text and "ROC-AUC" in text


def test_score_output_is_reproducible(model, workspace):
    outs = []
    for name in ("a.parquet", "b.parquet"):
        path = workspace / name
        assert (
            main(
                [
                    "score",
                    "--model",
                    str(model),
                    "--data",
                    str(workspace / "fresh.parquet"),
                    "--out",
                    str(path),
                ]
            )
            == 0
        )
        outs.append(pd.read_parquet(path))
    pd.testing.assert_frame_equal(outs[0], outs[1])


def _error_cases(ws, model):
    fresh = str(ws / "fresh.parquet")
    bad = ws / "bad.csv"
    frame = pd.read_parquet(ws / "fresh.parquet").head(20)
    frame["amount"] = frame["amount"].astype(object)
    frame.loc[4, "amount"] = "twelve"
    frame.to_csv(bad, index=False)
    missing_col = ws / "missing_col.csv"
    frame.drop(columns=["country"]).assign(amount=1.0).to_csv(missing_col, index=False)
    return [
        (
            [
                "score",
                "--model",
                str(ws / "nope"),
                "--data",
                fresh,
                "--out",
                str(ws / "o.csv"),
            ],
            3,
            f"anomaly-gan: error: model '{ws / 'nope'}': not found (expected a model directory written by 'anomaly-gan train')",
        ),
        (
            [
                "score",
                "--model",
                str(model),
                "--data",
                str(ws / "none.csv"),
                "--out",
                str(ws / "o.csv"),
            ],
            2,
            f"anomaly-gan: error: file '{ws / 'none.csv'}': not found",
        ),
        (
            [
                "score",
                "--model",
                str(model),
                "--data",
                str(bad),
                "--out",
                str(ws / "o.csv"),
                "--fail-on-bad-rows",
            ],
            4,
            f"anomaly-gan: error: file '{bad}' row 5: column 'amount': expected a number, found 'twelve' (--fail-on-bad-rows)",
        ),
        (
            [
                "score",
                "--model",
                str(model),
                "--data",
                str(missing_col),
                "--out",
                str(ws / "o.csv"),
            ],
            2,
            "anomaly-gan: error: column 'country': required by the model, missing from the input (1 missing in all)",
        ),
        (
            [
                "score",
                "--model",
                str(model),
                "--data",
                fresh,
                "--out",
                str(ws / "o.xlsx"),
            ],
            2,
            f"anomaly-gan: error: file '{ws / 'o.xlsx'}': expected a name ending in .csv, .csv.gz, .csv.zst, .csv.bz2, .csv.xz, .parquet, .pq (or a folder of Parquet files), or give the format explicitly",
        ),
        (
            [
                "score",
                "--model",
                str(model),
                "--data",
                fresh,
                "--out",
                str(ws / "o.csv"),
                "--keep-cols",
                "nope",
            ],
            2,
            "anomaly-gan: error: column 'nope': asked to be copied to the output, missing from the input",
        ),
        (
            [
                "train",
                "--data",
                str(ws / "train.csv"),
                "--out",
                str(ws / "m2"),
                "--label-col",
                "nope",
            ],
            2,
            f"anomaly-gan: error: column 'nope' (named by --label-col): not found in '{ws / 'train.csv'}'",
        ),
        (
            [
                "train",
                "--data",
                str(ws / "train.csv"),
                "--out",
                str(ws / "m2"),
                "--epochs",
                "0",
            ],
            2,
            "anomaly-gan: error: --epochs: expected a positive integer, found 0",
        ),
        (
            [
                "train",
                "--data",
                str(ws / "train.csv"),
                "--out",
                str(ws / "m2"),
                "--config",
                str(ws / "none.toml"),
            ],
            2,
            f"anomaly-gan: error: config file '{ws / 'none.toml'}': cannot be read (No such file or directory)",
        ),
        (
            [
                "generate",
                "--rows",
                "10",
                "--fraud-rate",
                "2",
                "--out",
                str(ws / "g.csv"),
            ],
            2,
            "anomaly-gan: error: --fraud-rate: expected a number in [0, 0.5], found 2.0",
        ),
        (
            ["score", "--model", str(model)],
            2,
            "anomaly-gan: error: the following arguments are required: --data, --out (see 'anomaly-gan score --help')",
        ),
    ]


def test_user_errors_exit_with_one_line_and_leave_no_output(model, workspace, capsys):
    for argv, code, message in _error_cases(workspace, model):
        got = main(argv)
        err = capsys.readouterr().err
        assert got == code, argv
        assert err.strip() == message, argv
        assert "Traceback" not in err
    assert not (workspace / "o.csv").exists()
    assert not (workspace / "m2").exists()
    assert not any(p.name.startswith(".o.csv") for p in workspace.iterdir())


def test_an_altered_model_exits_3(model, workspace, capsys, tmp_path):
    import shutil

    copy = tmp_path / "model"
    shutil.copytree(model, copy)
    (copy / "scorer.json").write_text("{}")
    code = main(
        [
            "score",
            "--model",
            str(copy),
            "--data",
            str(workspace / "fresh.parquet"),
            "--out",
            str(tmp_path / "o.csv"),
        ]
    )
    assert code == 3
    assert "does not match its SHA-256" in capsys.readouterr().err
    assert not (tmp_path / "o.csv").exists()


def test_train_from_a_config_file(workspace, tmp_path, capsys):
    config = tmp_path / "detector.toml"
    config.write_text("epochs = 2\nlatent_dim = 3\nhidden_dims = [16]\n")
    out = tmp_path / "m"
    assert (
        main(
            [
                "train",
                "--data",
                str(workspace / "train.csv"),
                "--out",
                str(out),
                "--config",
                str(config),
                *TRAIN_ARGS[:-5],
                "--quiet",
            ]
        )
        == 0
    )
    saved = json.loads((out / "config.json").read_text())
    assert saved["sizes"]["latent_dim"] == 3
    assert saved["sizes"]["hidden_dims"] == [16]
    assert saved["sizes"]["epochs"] == 2


def test_generate_writes_transactions(tmp_path, capsys):
    assert (
        main(
            [
                "generate",
                "--rows",
                "500",
                "--fraud-rate",
                "0.1",
                "--out",
                str(tmp_path / "g.parquet"),
            ]
        )
        == 0
    )
    frame = pd.read_parquet(tmp_path / "g.parquet")
    assert len(frame) == 500 and frame["is_fraud"].sum() == 50
    assert (
        capsys.readouterr().out.strip()
        == f"wrote 500 transactions (50 fraud) to {tmp_path / 'g.parquet'}"
    )


@pytest.mark.e2e
def test_console_script_help_and_exit_codes(tmp_path):
    exe = Path(sys.executable).parent / "anomaly-gan"
    for command in (
        [],
        ["train"],
        ["score"],
        ["evaluate"],
        ["registry"],
        ["retrain"],
        ["generate"],
    ):
        out = subprocess.run(
            [exe, *command, "--help"], capture_output=True, text=True, check=False
        )
        assert out.returncode == 0, out.stderr
        assert "usage: anomaly-gan" in out.stdout
    data = tmp_path / "x.csv"
    data.write_text("a\n1\n")
    out = subprocess.run(
        [
            exe,
            "score",
            "--model",
            "/nonexistent",
            "--data",
            str(data),
            "--out",
            str(tmp_path / "y.csv"),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert out.returncode == 3
    assert out.stderr.count("\n") == 1


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--address", "0.0.0.0"], "reachable by others without a sign-in"),
        (["--auth", "secret"], "expected --secret-file FILE"),
        (["--auth", "secret", "--secret-file", "nope.txt"], "cannot be read"),
        (["--auth", "secret", "--secret-file", "short.txt"], "at least 12 characters"),
        (["--max-upload-mb", "0"], "--max-upload-mb: expected a positive integer"),
        # issue 15, case 10: started, then showed a traceback on every page
        (
            ["--auth", "oidc"],
            "--auth oidc: expected redirect_uri, cookie_secret, client_id, "
            "client_secret, server_metadata_url in the [auth] section of",
        ),
        (
            ["--auth", "oidc", "--partial-secrets"],
            "--auth oidc: expected client_id, client_secret, server_metadata_url in "
            "the [auth] section of",
        ),
    ],
)
def test_dashboard_refuses_unsafe_settings_before_starting(
    tmp_path, monkeypatch, capsys, extra, message
):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    (tmp_path / "short.txt").write_text("abc\n")
    if "--partial-secrets" in extra:
        extra = [e for e in extra if e != "--partial-secrets"]
        (tmp_path / ".streamlit").mkdir()
        (tmp_path / ".streamlit" / "secrets.toml").write_text(
            '[auth]\nredirect_uri = "http://localhost:8501/oauth2callback"\n'
            'cookie_secret = "0123456789abcdef"\n'
        )
    assert main(["dashboard", *extra]) == 2
    err = capsys.readouterr().err
    assert message in err
    assert len(err.strip().splitlines()) == 1


def _serving(port: int) -> bool:
    import urllib.error
    import urllib.request

    try:
        with urllib.request.urlopen(
            f"http://127.0.0.1:{port}/_stcore/health", timeout=1
        ) as r:
            return r.status == 200
    except (urllib.error.URLError, OSError):
        return False


@pytest.mark.slow
def test_dashboard_stopped_with_sigterm_stops_its_streamlit_server(tmp_path):
    """`kill PID` of `anomaly-gan dashboard` must not leave the server running."""
    import signal
    import socket
    import time

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    (tmp_path / "scores").mkdir()
    command = [sys.executable, "-m", "anomaly_gan", "dashboard", "--port", str(port)]
    command += ["--scores", str(tmp_path / "scores"), "--db", str(tmp_path / "v.db")]
    command += ["--registry", str(tmp_path / "reg")]
    cli = subprocess.Popen(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        deadline = time.monotonic() + 60
        while not _serving(port):
            assert cli.poll() is None, "the dashboard command exited early"
            assert time.monotonic() < deadline, "the dashboard did not start in 60 s"
            time.sleep(0.5)
        cli.send_signal(signal.SIGTERM)
        assert cli.wait(timeout=30) is not None
        deadline = time.monotonic() + 15
        while _serving(port):
            assert time.monotonic() < deadline, "Streamlit still serves after SIGTERM"
            time.sleep(0.5)
    finally:
        if cli.poll() is None:
            cli.kill()


def test_train_warns_of_a_column_numeric_in_the_model_in_service(
    tmp_path, capsys, caplog
):
    # Issue 15, case 4: 'amount' holding only text was learned as a category.
    registry = tmp_path / "reg"
    good = make_transactions(600, fraud_rate=0.0, random_state=0)
    good.to_csv(tmp_path / "good.csv", index=False)
    argv = ["--registry", str(registry), "--register", "--promote", *TRAIN_ARGS]
    assert (
        main(
            [
                "train",
                "--data",
                str(tmp_path / "good.csv"),
                "--out",
                str(tmp_path / "m1"),
                *argv,
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "column roles inferred from the data: numeric" in out
    assert (
        "categorical 5: merchant_category, country, home_country, channel, device_type"
        in out
    )
    bad = good.assign(amount="twelve")
    bad.to_csv(tmp_path / "bad.csv", index=False)
    assert (
        main(
            [
                "train",
                "--data",
                str(tmp_path / "bad.csv"),
                "--out",
                str(tmp_path / "m2"),
                *TRAIN_ARGS[:-1],
                "--registry",
                str(registry),
            ]
        )
        == 0
    )
    assert (
        "column 'amount': numeric in registry version 1 ('production'), "
        "but its values here are text (e.g. 'twelve'), so it would be learned as "
        "categorical; name it in --numeric-cols if it is a number column"
    ) in [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    schema = json.loads((tmp_path / "m2" / "metadata.json").read_text())[
        "feature_schema"
    ]
    assert {
        "name": "amount",
        "role": "categorical",
        "inferred": True,
        "n_categories": 1,
    } in schema


def test_complete_oidc_settings_pass_the_check(tmp_path):
    from anomaly_gan.cli.dashboard import OIDC_KEYS, _check_oidc_settings

    (tmp_path / "home" / ".streamlit").mkdir(parents=True)
    keys = "\n".join(f'{key} = "x"' for key in OIDC_KEYS)
    (tmp_path / "home" / ".streamlit" / "secrets.toml").write_text(f"[auth]\n{keys}\n")
    _check_oidc_settings(tmp_path / "project", tmp_path / "home")  # no error
