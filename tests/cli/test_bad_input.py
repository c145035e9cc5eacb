"""Bad input through the real CLI: one line naming what is wrong, the right exit code.

One table: each case builds its files, runs a command, and states the exit code
and the full message. Cases from issue 15 (found by trying the tool as a hostile
user would) each failed on the code before their fix.
"""

import pytest

from anomaly_gan.cli import main
from anomaly_gan.datasets import make_transactions

from .test_cli import TRAIN_ARGS


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    root = tmp_path_factory.mktemp("badinput")
    make_transactions(1_000, fraud_rate=0.0, random_state=0).to_csv(
        root / "train.csv", index=False
    )
    out = root / "model"
    argv = ["train", "--data", str(root / "train.csv"), "--out", str(out)]
    assert main([*argv, *TRAIN_ARGS]) == 0
    return out


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
    from anomaly_gan import commands

    def fail(args):
        raise error

    monkeypatch.setattr(commands, "run_generate", fail)
    assert main(["generate", "--rows", "10", "--out", "out.csv"]) == code
    assert capsys.readouterr().err.strip() == message
