"""Bad input through the real CLI: one line naming what is wrong, the right exit code.

One table: each case builds its files, runs a command, and states the exit code
and the full message. Cases from issue 15 (found by trying the tool as a hostile
user would) each failed on the code before their fix.
"""

import pytest
import torch

from anomaly_gan.cli import main
from anomaly_gan.data.datasets import make_transactions


@pytest.fixture
def model(small_cli_model):
    return small_cli_model


def _labelled(ws):
    frame = make_transactions(200, fraud_rate=0.05, random_state=1)
    frame.to_csv(ws / "fresh.csv", index=False)
    frame.head(0).to_csv(ws / "header_only.csv", index=False)
    frame[frame["is_fraud"] == 0].head(20).to_csv(ws / "normal_only.csv", index=False)
    (ws / "a_folder").mkdir()
    (ws / "images").mkdir()
    from PIL import Image

    for i in range(10):
        Image.new("L", (8, 8), color=i * 20).save(ws / "images" / f"{i}.png")
    (ws / "not_a_db.db").write_text("just text\n")


def _unwritable():
    """A folder that refuses new files even to root (sysfs), else skip."""
    import tempfile
    from pathlib import Path

    try:
        handle, name = tempfile.mkstemp(dir="/sys")
    except OSError:
        return "/sys"
    import os

    os.close(handle)
    Path(name).unlink()
    pytest.skip("no read-only folder on this machine (/sys took a new file)")


CASES = {
    "score --engine dask --device cuda": (
        [
            "score",
            "--data",
            "fresh.csv",
            "--out",
            "parts",
            "--engine",
            "dask",
            "--device",
            "cuda",
        ],
        2,
        "--device cuda: --engine dask scores on its workers' CPUs; use --engine local",
    ),
    # issue 15, case 2: a NaN threshold flagged nothing with exit 0
    "score --threshold nan": (
        ["score", "--data", "fresh.csv", "--out", "s.csv", "--threshold", "nan"],
        2,
        "argument --threshold: expected a finite number, found 'nan' "
        "(see 'anomaly-gan score --help')",
    ),
    "evaluate --threshold inf": (
        [
            "evaluate",
            "--data",
            "fresh.csv",
            "--label-col",
            "is_fraud",
            "--threshold",
            "inf",
        ],
        2,
        "argument --threshold: expected a finite number, found 'inf' "
        "(see 'anomaly-gan evaluate --help')",
    ),
    "evaluate --fpr nan": (
        ["evaluate", "--data", "fresh.csv", "--label-col", "is_fraud", "--fpr", "nan"],
        2,
        "argument --fpr: expected a finite number, found 'nan' "
        "(see 'anomaly-gan evaluate --help')",
    ),
    "score --threshold text": (
        ["score", "--data", "fresh.csv", "--out", "s.csv", "--threshold", "high"],
        2,
        "argument --threshold: expected a number, found 'high' "
        "(see 'anomaly-gan score --help')",
    ),
    # issue 15, case 3: evaluate on a header-only file reported "rows 0", exit 0
    "evaluate a header-only file": (
        ["evaluate", "--data", "header_only.csv", "--label-col", "is_fraud"],
        2,
        "column 'is_fraud' of 'header_only.csv': expected labelled rows to "
        "evaluate, found none (a header only?)",
    ),
    "evaluate a file of one class": (
        ["evaluate", "--data", "normal_only.csv", "--label-col", "is_fraud"],
        2,
        "column 'is_fraud' of 'normal_only.csv': expected both normal and "
        "anomalous rows to evaluate, found only 20 normal rows",
    ),
    # issue 15, case 6: these were "internal error ... report it", exit 1
    "score --out an existing folder": (
        ["score", "--data", "fresh.csv", "--out", "a_folder"],
        2,
        "--out 'a_folder': expected a file name, found an existing folder; name a "
        "file (e.g. inside it)",
    ),
    "score --out in a read-only folder": (
        ["score", "--data", "fresh.csv", "--out", "{ro}/scores.csv"],
        2,
        "--out '{ro}/scores.csv': cannot be written: the folder '{ro}' refuses new "
        "files (Permission denied); choose a writable folder (nothing was written)",
    ),
    "evaluate --json where a file stands for a folder": (
        [
            "evaluate",
            "--data",
            "fresh.csv",
            "--label-col",
            "is_fraud",
            "--json",
            "fresh.csv/r.json",
        ],
        2,
        "--json 'fresh.csv/r.json': cannot be written: '{ws}/fresh.csv' is a file, "
        "not a folder",
    ),
    "train --out in a read-only folder": (
        ["train", "--data", "fresh.csv", "--out", "{ro}/model"],
        2,
        "--out '{ro}/model': cannot be written: the folder '{ro}' refuses new files "
        "(Permission denied); choose a writable folder (nothing was written)",
    ),
    "train --score-combine with images": (
        ["train", "--data", "images", "--out", "m", "--score-combine", "max"],
        2,
        "--score-combine: only for tables; image models combine their own terms "
        "(docs/images.md)",
    ),
    "train --score-combine unknown": (
        ["train", "--data", "fresh.csv", "--out", "m", "--score-combine", "min"],
        2,
        "argument --score-combine: invalid choice: 'min' (choose from 'balanced', "
        "'max', 'mean') (see 'anomaly-gan train --help')",
    ),
    "feedback export from a file that is not SQLite": (
        ["feedback", "export", "--db", "not_a_db.db", "--out", "v.csv"],
        2,
        "verdict store 'not_a_db.db': expected an SQLite database, found another "
        "kind of file (file is not a database)",
    ),
}


if not torch.cuda.is_available():
    CASES["score --device cuda without a GPU"] = (
        ["score", "--data", "fresh.csv", "--out", "s.csv", "--device", "cuda"],
        2,
        "parameter 'device': expected an available device, found 'cuda' (no CUDA "
        "GPU here); use 'auto' or 'cpu'",
    )


@pytest.mark.parametrize("case", CASES)
def test_bad_input_is_one_line_with_its_exit_code(
    model, tmp_path, monkeypatch, capsys, case
):
    monkeypatch.chdir(tmp_path)
    _labelled(tmp_path)
    argv, code, message = CASES[case]
    names = {"ws": str(tmp_path)}
    if "{ro}" in " ".join(argv):
        names["ro"] = _unwritable()
    argv = [a.format(**names) for a in argv]
    if argv[0] in ("score", "evaluate"):
        argv = [argv[0], "--model", str(model), *argv[1:]]
    before = sorted(p.name for p in tmp_path.iterdir())
    assert main(argv) == code
    err = capsys.readouterr().err
    assert err.strip() == f"anomaly-gan: error: {message.format(**names)}"
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # nothing written


@pytest.mark.parametrize(
    ("error", "code", "message"),
    [
        (
            OSError(28, "No space left on device", "out.csv"),
            2,
            "anomaly-gan: error: file 'out.csv': No space left on device (outputs "
            "are written to a temporary file and renamed: none was left)",
        ),
        (
            ConnectionResetError("peer went away"),
            1,
            "anomaly-gan: internal error: ConnectionResetError: peer went away "
            "(re-run with --debug for the traceback and report it)",
        ),
    ],
)
def test_file_system_errors_are_one_line_and_other_os_errors_are_bugs(
    monkeypatch, capsys, error, code, message
):
    from anomaly_gan.cli import generate

    def fail(args):
        raise error

    monkeypatch.setattr(generate, "run", fail)
    assert main(["generate", "--rows", "10", "--out", "out.csv"]) == code
    assert capsys.readouterr().err.strip() == message


# ----------------------------------------------------------------- classics
def _classic_files(ws):
    """One file per classic kind of bad (or merely unusual) input."""
    import gzip

    import numpy as np

    f = make_transactions(200, fraud_rate=0.05, random_state=1)
    f.to_csv(ws / "ok.csv", index=False)
    f.drop(columns=["country"]).to_csv(ws / "missing_col.csv", index=False)
    f.assign(extra=1).to_csv(ws / "extra_col.csv", index=False)
    f[f.columns[::-1]].to_csv(ws / "reordered.csv", index=False)

    def with_value(name, column, value):
        g = f.copy()
        g[column] = g[column].astype(object)
        g.loc[3, column] = value
        g.to_csv(ws / name, index=False)

    with_value("nan.csv", "amount", np.nan)
    with_value("inf.csv", "amount", "inf")
    with_value("huge.csv", "amount", 1e308)
    with_value("text_number.csv", "amount", "twelve")
    with_value("bad_bool.csv", "card_present", "maybe")
    with_value("quoted_newline.csv", "merchant_category", "grocery\nstore")
    raw = (ws / "ok.csv").read_bytes()
    (ws / "latin1.csv").write_bytes(
        raw.replace(b"grocery", "gr\xf6cery".encode("latin-1"), 1)
    )
    lines = raw.decode().splitlines()
    lines[5] += ",x,y"
    (ws / "ragged.csv").write_text("\n".join(lines) + "\n")
    packed = gzip.compress(raw)
    (ws / "truncated.csv.gz").write_bytes(packed[: len(packed) // 2])
    (ws / "not_gzip.csv.gz").write_bytes(raw)
    f.to_parquet(ws / "ok.parquet")
    whole = (ws / "ok.parquet").read_bytes()
    (ws / "corrupt.parquet").write_bytes(whole[: len(whole) // 2])
    (ws / "empty.csv").write_text("")
    f.head(0).to_csv(ws / "header_only.csv", index=False)
    (ws / "mixed").mkdir()
    f.head(50).to_parquet(ws / "mixed" / "a.parquet")
    f.head(50).to_csv(ws / "mixed" / "b.csv", index=False)
    f.assign(amount=f["amount"].astype(str)).to_parquet(ws / "text_amount.parquet")
    (ws / "bom.csv").write_bytes(b"\xef\xbb\xbf" + raw)
    dup = f.copy()
    dup.columns = [*dup.columns[:-1], "amount"]
    dup.to_csv(ws / "dup_cols.csv", index=False)
    (ws / "notes.txt").write_text("x")
    (ws / "notes.docx").write_text("x")


# case: (argv after --model M, exit code, where the message is, fragment)
CLASSIC = {
    "missing column": (
        ["score", "--data", "missing_col.csv", "--out", "o.csv"],
        2,
        "err",
        "column 'country': required by the model, missing from the input",
    ),
    "extra column": (
        ["score", "--data", "extra_col.csv", "--out", "o.csv"],
        0,
        "out",
        "columns not used by the model: extra",
    ),
    "reordered columns": (
        ["score", "--data", "reordered.csv", "--out", "o.csv"],
        0,
        "out",
        "rows in 200: scored 200, rejected 0",
    ),
    "missing number (imputed)": (
        ["score", "--data", "nan.csv", "--out", "o.csv"],
        0,
        "out",
        "rows in 200: scored 200, rejected 0",
    ),
    "inf": (
        ["score", "--data", "inf.csv", "--out", "o.csv"],
        0,
        "rejected",
        "inf.csv,4,\"column 'amount': expected a finite number, found inf\"",
    ),
    "inf, --fail-on-bad-rows": (
        ["score", "--data", "inf.csv", "--out", "o.csv", "--fail-on-bad-rows"],
        4,
        "err",
        "file 'inf.csv' row 4: column 'amount': expected a finite number, found inf",
    ),
    "huge number (clipped, scored)": (
        ["score", "--data", "huge.csv", "--out", "o.csv"],
        0,
        "out",
        "rows in 200: scored 200, rejected 0",
    ),
    "text in a number column": (
        ["score", "--data", "text_number.csv", "--out", "o.csv"],
        0,
        "rejected",
        "text_number.csv,4,\"column 'amount': expected a number, found 'twelve'\"",
    ),
    "text in a number column, --fail-on-bad-rows": (
        ["score", "--data", "text_number.csv", "--out", "o.csv", "--fail-on-bad-rows"],
        4,
        "err",
        "row 4: column 'amount': expected a number, found 'twelve' (--fail-on-bad-rows)",
    ),
    "unknown boolean": (
        ["score", "--data", "bad_bool.csv", "--out", "o.csv"],
        0,
        "rejected",
        "column 'card_present': expected a boolean (true/false, 1/0, yes/no), found 'maybe'",
    ),
    "quoted newline in a field": (
        ["score", "--data", "quoted_newline.csv", "--out", "o.csv"],
        0,
        "out",
        "rows in 200: scored 200, rejected 0",
    ),
    "not UTF-8": (
        ["score", "--data", "latin1.csv", "--out", "o.csv"],
        2,
        "err",
        "file 'latin1.csv': cannot be read as CSV ('utf-8' codec can't decode byte 0xf6",
    ),
    "ragged row": (
        ["score", "--data", "ragged.csv", "--out", "o.csv"],
        0,
        "rejected",
        'ragged.csv,5,"malformed record: expected 19 fields, saw 21"',
    ),
    "ragged row, --fail-on-bad-rows": (
        ["score", "--data", "ragged.csv", "--out", "o.csv", "--fail-on-bad-rows"],
        4,
        "err",
        "file 'ragged.csv' row 5: malformed record: expected 19 fields, saw 21",
    ),
    "truncated gzip": (
        ["score", "--data", "truncated.csv.gz", "--out", "o.csv"],
        2,
        "err",
        "file 'truncated.csv.gz': cannot be read as CSV (Compressed file ended",
    ),
    "not gzip though named so": (
        ["score", "--data", "not_gzip.csv.gz", "--out", "o.csv"],
        2,
        "err",
        "file 'not_gzip.csv.gz': cannot be read as CSV (Not a gzipped file",
    ),
    "corrupt Parquet": (
        ["score", "--data", "corrupt.parquet", "--out", "o.csv"],
        2,
        "err",
        "file 'corrupt.parquet': cannot be read as PARQUET",
    ),
    "empty file": (
        ["score", "--data", "empty.csv", "--out", "o.csv"],
        2,
        "err",
        "file 'empty.csv': expected a CSV header and rows, found an empty file",
    ),
    "header only (nothing to score)": (
        ["score", "--data", "header_only.csv", "--out", "o.csv"],
        0,
        "out",
        "rows in 0: scored 0, rejected 0",
    ),
    "folder of Parquet and CSV": (
        ["score", "--data", "mixed", "--out", "o.csv"],
        2,
        "err",
        "folder 'mixed': expected only Parquet files (a folder is read as one Parquet "
        "table), found 'b.csv'; pass CSV files by name or glob",
    ),
    "numbers as text in Parquet": (
        ["score", "--data", "text_amount.parquet", "--out", "o.csv"],
        0,
        "out",
        "rows in 200: scored 200, rejected 0",
    ),
    "byte-order mark": (
        ["score", "--data", "bom.csv", "--out", "o.csv"],
        0,
        "out",
        "rows in 200: scored 200, rejected 0",
    ),
    "a column name twice": (
        ["score", "--data", "dup_cols.csv", "--out", "o.csv"],
        2,
        "err",
        "file 'dup_cols.csv': column 'amount' appears 2 times in the header; expected "
        "each name once (rename or drop the copies)",
    ),
    "unknown file type": (
        ["score", "--data", "notes.docx", "--out", "o.csv"],
        2,
        "err",
        "file 'notes.docx': expected a name ending in .csv",
    ),
    "a .txt file that is not KDD records": (
        ["score", "--data", "notes.txt", "--out", "o.csv"],
        2,
        "err",
        "file 'notes.txt': expected NSL-KDD or KDD-99 records",
    ),
    "a glob matching nothing": (
        ["score", "--data", "nothing*.csv", "--out", "o.csv"],
        2,
        "err",
        "input 'nothing*.csv': the pattern matches no file",
    ),
    "evaluate without its label column": (
        ["evaluate", "--data", "ok.csv", "--label-col", "nope"],
        2,
        "err",
        "column 'nope' (named by --label-col): missing from 'ok.csv'",
    ),
    "a model that is not there": (
        ["score", "--data", "ok.csv", "--out", "o.csv", "--model", "no_model"],
        3,
        "err",
        "model 'no_model': not found",
    ),
}


@pytest.fixture(scope="module")
def classics(tmp_path_factory):
    ws = tmp_path_factory.mktemp("classics")
    _classic_files(ws)
    return ws


@pytest.mark.parametrize("case", CLASSIC)
def test_classic_bad_input(model, classics, monkeypatch, capsys, case):
    monkeypatch.chdir(classics)
    argv, code, where, fragment = CLASSIC[case]
    for leftover in ("o.csv", "o.csv.rejected.csv", "o.csv.meta.json"):
        (classics / leftover).unlink(missing_ok=True)
    if "--model" not in argv:
        argv = [argv[0], "--model", str(model), *argv[1:]]
    assert main([*argv, "--quiet"] if argv[0] == "score" else argv) == code
    captured = capsys.readouterr()
    if where == "rejected":
        text = (classics / "o.csv.rejected.csv").read_text()
    else:
        text = {"err": captured.err, "out": captured.out}[where]
    assert fragment in text
    if code:  # an error: one line on stderr, and no output left behind
        assert len(captured.err.strip().splitlines()) == 1
        assert not (classics / "o.csv").exists()


def test_reordered_columns_score_exactly_as_the_original_order(
    model, classics, monkeypatch
):
    import pandas as pd

    monkeypatch.chdir(classics)
    for name in ("ok", "reordered"):
        argv = [
            "score",
            "--model",
            str(model),
            "--data",
            f"{name}.csv",
            "--out",
            f"{name}_scores.csv",
            "--quiet",
        ]
        assert main(argv) == 0
    pd.testing.assert_frame_equal(
        pd.read_csv(classics / "ok_scores.csv"),
        pd.read_csv(classics / "reordered_scores.csv"),
    )


def test_evaluate_leaves_out_rows_score_rejects_and_says_how_many(
    model, tmp_path, capsys
):
    # Issue 16: evaluate stopped at the first bad row where score rejects it.
    frame = make_transactions(300, fraud_rate=0.05, random_state=1)
    frame["amount"] = frame["amount"].astype(object)
    frame.loc[[4, 9], "amount"] = "lots"
    frame.to_csv(tmp_path / "bad.csv", index=False)
    argv = ["evaluate", "--model", str(model), "--data", str(tmp_path / "bad.csv")]
    argv += ["--label-col", "is_fraud", "--json", str(tmp_path / "r.json")]
    assert main(argv) == 0
    err = capsys.readouterr().err
    assert "2 row(s) could not be scored and are left out of the metrics" in err
    assert "row 5: column 'amount': expected a number" in err  # as score numbers rows
    import json

    report = json.loads((tmp_path / "r.json").read_text())
    assert report["rows_rejected"] == 2
    assert report["n_rows"] == 298
    argv = ["score", "--model", str(model), "--data", str(tmp_path / "bad.csv")]
    assert main([*argv, "--out", str(tmp_path / "s.csv"), "--quiet"]) == 0
    rejected = (tmp_path / "s.csv.rejected.csv").read_text().splitlines()
    assert len(rejected) == 3  # header + the same two rows
