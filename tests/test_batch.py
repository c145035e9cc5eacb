"""The streaming scoring job: equal to in-memory scoring, rejections, formats, errors."""

import gzip
import json

import numpy as np
import pandas as pd
import pytest

from anomaly_gan import GANomalyDetector
from anomaly_gan.data.tables import expand_sources
from anomaly_gan.exceptions import BadRowsError, DataError, SchemaError
from anomaly_gan.jobs.batch import ScoreJob
from anomaly_gan.jobs.scored_rows import score_frame
from tests.conftest import TX_OPTIONS

UNSEEN_OK = pytest.mark.filterwarnings("ignore:.*unseen in training:UserWarning")


@pytest.fixture(scope="module")
def fresh_csv(tmp_path_factory, tx_test):
    path = tmp_path_factory.mktemp("fresh") / "fresh.csv"
    tx_test.to_csv(path, index=False)
    return path


def run(det, sources, out, **kw):
    return ScoreJob(det, expand_sources([str(s) for s in sources]), out, **kw).run()


@UNSEEN_OK
def test_streaming_equals_in_memory_scoring(fitted, tx_test, fresh_csv, tmp_path):
    summary = run(
        fitted, [fresh_csv], tmp_path / "out.csv", batch_rows=137, keep_cols=["amount"]
    )
    streamed = pd.read_csv(tmp_path / "out.csv", keep_default_na=False)
    whole = score_frame(fitted, pd.read_csv(fresh_csv), keep_cols=["amount"])
    assert summary.scored == len(tx_test) == len(streamed)
    np.testing.assert_allclose(
        streamed["anomaly_score"], whole["anomaly_score"], rtol=1e-5, atol=1e-6
    )
    for column in ("transaction_id", "card_id", "feature_1", "feature_2", "feature_3"):
        assert streamed[column].tolist() == whole[column].tolist()
    np.testing.assert_array_equal(streamed["is_anomaly"], whole["is_anomaly"])
    assert summary.flagged == int(whole["is_anomaly"].sum())


@UNSEEN_OK
def test_rerun_gives_byte_identical_output(fitted, fresh_csv, tmp_path):
    for name in ("a.csv", "b.csv", "a.parquet", "b.parquet"):
        run(fitted, [fresh_csv], tmp_path / name, batch_rows=500)
    assert (tmp_path / "a.csv").read_bytes() == (tmp_path / "b.csv").read_bytes()
    assert (tmp_path / "a.parquet").read_bytes() == (
        tmp_path / "b.parquet"
    ).read_bytes()


@UNSEEN_OK
@pytest.mark.parametrize("suffix", [".csv.gz", ".csv.zst", ".parquet"])
def test_compressed_csv_and_parquet_inputs(fitted, tx_test, tmp_path, suffix):
    path = tmp_path / f"in{suffix}"
    if suffix == ".parquet":
        tx_test.to_parquet(path)
    else:
        tx_test.to_csv(path, index=False)
    summary = run(fitted, [path], tmp_path / "out.parquet", batch_rows=300)
    out = pd.read_parquet(tmp_path / "out.parquet")
    assert summary.scored == len(out) == len(tx_test)
    assert out["transaction_id"].tolist() == tx_test["transaction_id"].tolist()


@UNSEEN_OK
def test_several_sources_a_glob_and_a_parquet_folder(fitted, tx_test, tmp_path):
    folder = tmp_path / "parts"
    folder.mkdir()
    tx_test.iloc[:700].to_parquet(folder / "p1.parquet")
    tx_test.iloc[700:1200].to_parquet(folder / "p2.parquet")
    tx_test.iloc[1200:1500].to_csv(tmp_path / "day1.csv", index=False)
    tx_test.iloc[1500:].to_csv(tmp_path / "day2.csv", index=False)
    summary = run(fitted, [folder, tmp_path / "day*.csv"], tmp_path / "out.csv")
    out = pd.read_csv(tmp_path / "out.csv")
    assert summary.sources == [
        str(folder),
        str(tmp_path / "day1.csv"),
        str(tmp_path / "day2.csv"),
    ]
    assert out["transaction_id"].tolist() == tx_test["transaction_id"].tolist()


def _bad_file(tx_test, path):
    frame = tx_test.head(12).copy()
    frame["amount"] = frame["amount"].astype(object)
    frame.loc[2, "amount"] = "twelve"
    frame.loc[5, "amount"] = "inf"
    frame["card_present"] = frame["card_present"].astype(object)
    frame.loc[7, "card_present"] = "maybe"
    frame.to_csv(path, index=False)
    lines = path.read_text().splitlines()
    lines[10] = lines[10] + ",extra,fields"  # row 10: too many fields
    path.write_text("\n".join(lines) + "\n")


@UNSEEN_OK
def test_bad_rows_go_to_the_rejection_file_with_row_and_reason(
    fitted, tx_test, tmp_path
):
    data = tmp_path / "bad.csv"
    _bad_file(tx_test, data)
    summary = run(fitted, [data], tmp_path / "out.csv", batch_rows=4)
    rejected = pd.read_csv(tmp_path / "out.csv.rejected.csv")
    assert rejected.to_dict("records") == [
        {
            "source": str(data),
            "row": 3,
            "reason": "column 'amount': expected a number, found 'twelve'",
        },
        {
            "source": str(data),
            "row": 6,
            "reason": "column 'amount': expected a finite number, found inf",
        },
        {
            "source": str(data),
            "row": 8,
            "reason": "column 'card_present': expected a boolean (true/false, 1/0, yes/no), found 'maybe'",
        },
        {
            "source": str(data),
            "row": 10,
            "reason": "malformed record: expected 19 fields, saw 21",
        },
    ]
    out = pd.read_csv(tmp_path / "out.csv")
    assert (summary.rows_in, summary.scored, summary.rejected) == (12, 8, 4)
    expected_ids = tx_test["transaction_id"].head(12).drop(index=[2, 5, 7, 9]).tolist()
    assert out["transaction_id"].tolist() == expected_ids
    assert summary.rejected_output == str(tmp_path / "out.csv.rejected.csv")


@UNSEEN_OK
def test_a_clean_rerun_removes_a_stale_rejection_file(fitted, fresh_csv, tmp_path):
    stale = tmp_path / "out.csv.rejected.csv"
    stale.write_text("source,row,reason\nold,1,old\n")
    summary = run(fitted, [fresh_csv], tmp_path / "out.csv")
    assert summary.rejected == 0 and summary.rejected_output is None
    assert not stale.exists()


def test_fail_on_bad_rows_raises_and_writes_nothing(fitted, tx_test, tmp_path):
    data = tmp_path / "bad.csv"
    _bad_file(tx_test, data)
    with pytest.raises(BadRowsError) as info:
        run(fitted, [data], tmp_path / "out.csv", fail_on_bad_rows=True)
    assert (
        str(info.value)
        == f"file '{data}' row 3: column 'amount': expected a number, found 'twelve' (--fail-on-bad-rows)"
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.csv"]


@UNSEEN_OK
def test_missing_values_are_rejected_when_the_model_does_not_impute(
    tx_train, tx_test, tmp_path
):
    det = GANomalyDetector(
        epochs=2, random_state=0, impute_missing=False, **TX_OPTIONS
    ).fit(tx_train)
    frame = tx_test.head(5).copy()
    frame.loc[1, "amount"] = np.nan
    frame.to_csv(tmp_path / "in.csv", index=False)
    summary = run(det, [tmp_path / "in.csv"], tmp_path / "out.csv")
    rejected = pd.read_csv(tmp_path / "out.csv.rejected.csv")
    assert rejected["reason"].tolist() == [
        "column 'amount': expected a value (this model does not impute), found nan"
    ]
    assert summary.scored == 4


def test_empty_and_header_only_files(fitted, tx_test, tmp_path):
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(DataError) as info:
        run(fitted, [empty], tmp_path / "out.csv")
    assert (
        str(info.value)
        == f"file '{empty}': expected a CSV header and rows, found an empty file"
    )
    header = tmp_path / "header.csv"
    tx_test.head(0).to_csv(header, index=False)
    summary = run(fitted, [header], tmp_path / "out.csv")
    assert summary.rows_in == 0
    out = pd.read_csv(tmp_path / "out.csv")
    assert len(out) == 0
    assert list(out.columns[:4]) == [
        "transaction_id",
        "card_id",
        "anomaly_score",
        "is_anomaly",
    ]


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_a_missing_column_fails_the_run_and_leaves_nothing(
    fitted, tx_test, tmp_path, fmt
):
    data = tmp_path / f"in.{fmt}"
    frame = tx_test.drop(columns=["merchant_category"])
    frame.to_csv(data, index=False) if fmt == "csv" else frame.to_parquet(data)
    with pytest.raises(SchemaError) as info:
        run(fitted, [data], tmp_path / "out.csv")
    assert (
        str(info.value)
        == "column 'merchant_category': required by the model, missing from the input (1 missing in all)"
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == [data.name]


def test_a_corrupt_gzip_or_parquet_is_a_data_error(fitted, tmp_path):
    gz = tmp_path / "in.csv.gz"
    gz.write_bytes(gzip.compress(b"a,b\n1,2\n")[:12])
    with pytest.raises(
        DataError, match=r"^file '.*in\.csv\.gz': cannot be read as CSV"
    ):
        run(fitted, [gz], tmp_path / "out.csv")
    bad = tmp_path / "in.parquet"
    bad.write_bytes(b"PAR1 not really")
    with pytest.raises(
        DataError, match=r"^file '.*in\.parquet': cannot be read as PARQUET"
    ):
        run(fitted, [bad], tmp_path / "out.csv")


def test_unknown_categories_are_counted_not_rejected(fitted, tx_test, tmp_path):
    frame = tx_test.head(50).assign(merchant_category="casino", country="XX")
    frame.to_csv(tmp_path / "in.csv", index=False)
    summary = run(fitted, [tmp_path / "in.csv"], tmp_path / "out.csv")
    assert summary.rejected == 0
    assert summary.unseen == {"merchant_category": 50, "country": 50}


@UNSEEN_OK
def test_threshold_override_and_label_metrics(fitted, fresh_csv, tmp_path):
    base = run(fitted, [fresh_csv], tmp_path / "a.csv", label_col="is_fraud")
    low = run(fitted, [fresh_csv], tmp_path / "b.csv", threshold=-100.0)
    assert low.flagged == low.scored
    assert base.roc_auc is not None and base.roc_auc > 0.9
    json.dumps(base.to_dict())  # schedulers read it as JSON


def test_expand_sources_errors(tmp_path):
    with pytest.raises(
        DataError, match=r"^input '.*nothing\*\.csv': the pattern matches no file$"
    ):
        expand_sources([str(tmp_path / "nothing*.csv")])
    with pytest.raises(DataError, match=r"^file '.*none\.csv': not found$"):
        expand_sources([str(tmp_path / "none.csv")])


def test_a_parquet_folder_with_conflicting_schemas_is_a_data_error(
    fitted, tx_test, tmp_path
):
    folder = tmp_path / "parts"
    folder.mkdir()
    tx_test.iloc[:10].to_parquet(folder / "a.parquet")
    tx_test.iloc[10:20].assign(
        amount=lambda f: f["amount"].astype(str) + " EUR"
    ).to_parquet(folder / "b.parquet")
    with pytest.raises(DataError, match=r"^file '.*parts': cannot be read as PARQUET"):
        run(fitted, [folder], tmp_path / "out.csv")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["parts"]


def test_a_text_column_in_parquet_rejects_its_bad_rows(fitted, tx_test, tmp_path):
    frame = tx_test.head(6).assign(amount=["1.5", "2", "x", "4", "5", "6"])
    frame.to_parquet(tmp_path / "in.parquet")
    summary = run(fitted, [tmp_path / "in.parquet"], tmp_path / "out.parquet")
    assert (summary.scored, summary.rejected) == (5, 1)
    rejected = pd.read_csv(tmp_path / "out.parquet.rejected.csv")
    assert rejected[["row", "reason"]].values.tolist() == [
        [3, "column 'amount': expected a number, found 'x'"]
    ]


def test_progress_shows_a_bar_on_a_terminal_and_log_lines_otherwise(
    capsys, monkeypatch
):
    from anomaly_gan.cli.score import _Progress
    from anomaly_gan.jobs.batch import ScoreSummary

    progress = _Progress(quiet=False)
    progress.tty = True
    progress.update(ScoreSummary(rows_in=5_000, flagged=7))
    progress.close()
    err = capsys.readouterr().err
    assert "scoring" in err and "rows" in err and "flagged=7" in err
    progress = _Progress(quiet=False)
    progress.tty = False
    progress.last_line -= 11  # as if the last line was printed 11 s ago
    progress.update(ScoreSummary(rows_in=5_000, flagged=7, rejected=1))
    assert (
        capsys.readouterr().err
        == "anomaly-gan: 5,000 rows read, 7 flagged, 1 rejected\n"
    )
    quiet = _Progress(quiet=True)
    quiet.update(ScoreSummary(rows_in=1))
    assert capsys.readouterr().err == ""


def test_a_job_allocates_arrow_memory_with_the_system_allocator_then_restores_the_pool(
    monkeypatch,
):
    import pyarrow as pa

    from anomaly_gan.jobs.batch import _system_memory_pool

    monkeypatch.delenv("ARROW_DEFAULT_MEMORY_POOL", raising=False)
    before = pa.default_memory_pool().backend_name
    with _system_memory_pool():
        assert pa.default_memory_pool().backend_name == "system"
    assert pa.default_memory_pool().backend_name == before
    # A pool the user chose is left alone.
    monkeypatch.setenv("ARROW_DEFAULT_MEMORY_POOL", before)
    with _system_memory_pool():
        assert pa.default_memory_pool().backend_name == before
