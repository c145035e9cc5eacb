"""An output path that is, holds or enters an input is refused before any work.

Issue 15, case 1: ``score --data X.csv --out X.csv`` used to replace the input
with its scores. Every case below names the same file (or a folder around it)
through another option or spelling; each must exit 2 with one line and leave
every input byte for byte as it was, and write nothing.
"""

import hashlib
import os
import sqlite3

import pytest

from anomaly_gan.cli import main
from anomaly_gan.data.datasets import make_transactions


@pytest.fixture
def model(small_cli_model):
    return small_cli_model


def _digest(folder):
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def _inputs(ws):
    frame = make_transactions(200, fraud_rate=0.05, random_state=1)
    frame.to_csv(ws / "x.csv", index=False)
    frame.to_parquet(ws / "x.parquet")
    (ws / "parts").mkdir()
    frame.to_parquet(ws / "parts" / "part-0.parquet")
    (ws / "in").mkdir()
    frame.to_csv(ws / "in" / "a.csv", index=False)
    (ws / "link.csv").symlink_to(ws / "x.csv")
    os.link(ws / "x.csv", ws / "hard.csv")
    with sqlite3.connect(ws / "verdicts.db") as con:
        con.execute("create table t (a int)")


CASES = [
    # (argv after the command's model option, option, given output, what was found)
    (
        ["score", "--data", "x.csv", "--out", "x.csv"],
        "--out",
        "x.csv",
        "it is the input file 'x.csv'",
    ),
    (
        ["score", "--data", "x.parquet", "--out", "x.parquet"],
        "--out",
        "x.parquet",
        "it is the input file 'x.parquet'",
    ),
    (
        ["score", "--data", "x.csv", "--out", "link.csv"],
        "--out",
        "link.csv",
        "it is the input file 'x.csv'",
    ),
    (
        ["score", "--data", "x.csv", "--out", "hard.csv"],
        "--out",
        "hard.csv",
        "it is the input file 'x.csv'",
    ),
    (
        ["score", "--data", "in/*.csv", "--out", "in/a.csv"],
        "--out",
        "in/a.csv",
        "it is the input file 'in/a.csv'",
    ),
    (
        ["score", "--data", "x.csv", "--out", "s.csv", "--summary-json", "x.csv"],
        "--summary-json",
        "x.csv",
        "it is the input file 'x.csv'",
    ),
    (
        ["score", "--data", "x.csv.rejected.csv", "--out", "x.csv"],
        "--out (its rejection file)",
        "x.csv.rejected.csv",
        "it is the input file 'x.csv.rejected.csv'",
    ),
    (
        ["score", "--data", "in/a.csv", "--out", "s.csv", "--heatmaps", "in"],
        "--heatmaps",
        "in",
        "it holds the input 'in/a.csv' and would be replaced",
    ),
    (
        [
            "score",
            "--data",
            "parts/part-0.parquet",
            "--out",
            "parts",
            "--engine",
            "dask",
        ],
        "--out",
        "parts",
        "it holds the input 'parts/part-0.parquet' and would be replaced",
    ),
    (
        ["score", "--data", "parts", "--out", "parts/scores.parquet"],
        "--out",
        "parts/scores.parquet",
        "it lies inside the input folder 'parts'",
    ),
    (
        ["evaluate", "--data", "x.csv", "--label-col", "is_fraud", "--json", "x.csv"],
        "--json",
        "x.csv",
        "it is the input file 'x.csv'",
    ),
]


@pytest.mark.parametrize(("argv", "option", "given", "found"), CASES)
def test_an_output_over_an_input_is_refused_and_the_input_kept(
    model, tmp_path, monkeypatch, capsys, argv, option, given, found
):
    monkeypatch.chdir(tmp_path)
    _inputs(tmp_path)
    if given == "x.csv.rejected.csv":
        (tmp_path / given).write_text("row,reason\n")
    before = _digest(tmp_path)
    code = main([argv[0], "--model", str(model), *argv[1:]])
    err = capsys.readouterr().err
    assert code == 2
    assert err.strip() == (
        f"anomaly-gan: error: {option} '{given}': expected a path apart from the "
        f"inputs, found {found}; choose another output path (nothing was written)"
    )
    assert _digest(tmp_path) == before


def test_train_and_feedback_refuse_to_write_over_their_input(
    tmp_path, monkeypatch, capsys
):
    monkeypatch.chdir(tmp_path)
    _inputs(tmp_path)
    (tmp_path / "export.csv").symlink_to(tmp_path / "verdicts.db")
    before = _digest(tmp_path)
    assert main(["train", "--data", "x.csv", "--out", "x.csv", "--quiet"]) == 2
    assert (
        "--out 'x.csv': expected a path apart from the inputs, found it is the input file 'x.csv'"
        in capsys.readouterr().err
    )
    assert (
        main(["feedback", "export", "--db", "verdicts.db", "--out", "export.csv"]) == 2
    )
    assert (
        "--out 'export.csv': expected a path apart from the inputs, found it is the input file 'verdicts.db'"
        in capsys.readouterr().err
    )
    assert _digest(tmp_path) == before


def test_outputs_apart_from_the_inputs_still_work(model, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    _inputs(tmp_path)
    # Beside the input, in a sibling folder, and a name that merely starts alike.
    assert (
        main(
            [
                "score",
                "--model",
                str(model),
                "--data",
                "x.csv",
                "--out",
                "x.scores.csv",
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
                str(model),
                "--data",
                "in/*.csv",
                "--out",
                "in2/s.csv",
                "--quiet",
            ]
        )
        == 0
    )
    assert (tmp_path / "x.scores.csv").stat().st_size > 0
    assert (tmp_path / "in2" / "s.csv").stat().st_size > 0
