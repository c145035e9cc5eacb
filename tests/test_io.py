import gzip

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from anomaly_gan.data.tables import atomic_write, read_table, table_format, write_table
from anomaly_gan.exceptions import DataError

FRAME = pd.DataFrame(
    {"id": ["a", "b", "c"], "amount": [1.5, 2.0, None], "n": [1, 2, 3]}
)


@pytest.mark.parametrize(
    "name", ["t.csv", "t.csv.gz", "t.csv.zst", "t.parquet", "t.pq"]
)
def test_write_then_read_round_trips(tmp_path, name):
    if name.endswith(".zst"):
        pytest.importorskip("zstandard", reason="zstandard is needed for .zst files")
    path = write_table(FRAME, tmp_path / name)
    back = read_table(path)
    pd.testing.assert_frame_equal(back, FRAME, check_dtype=False)
    assert sorted(p.name for p in tmp_path.iterdir()) == [name]


def test_a_folder_of_parquet_files_reads_as_one_table(tmp_path):
    folder = tmp_path / "parts"
    folder.mkdir()
    pq.write_table(
        pa.Table.from_pandas(FRAME.iloc[:2], preserve_index=False), folder / "a.parquet"
    )
    pq.write_table(
        pa.Table.from_pandas(FRAME.iloc[2:], preserve_index=False), folder / "b.parquet"
    )
    assert len(read_table(folder)) == 3


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        (lambda p: None, "file '{p}': not found"),
        (
            lambda p: p.write_text(""),
            "file '{p}': expected a CSV header and rows, found an empty file",
        ),
        (lambda p: p.write_bytes(gzip.compress(b"")[:5]), None),
    ],
)
def test_unreadable_csv_names_the_file(tmp_path, setup, message):
    path = tmp_path / "in.csv"
    setup(path)
    with pytest.raises(DataError) as info:
        read_table(path)
    if message is not None:
        assert str(info.value) == message.format(p=path)
    else:
        assert str(info.value).startswith(f"file '{path}'")


def test_corrupt_parquet_is_a_data_error(tmp_path):
    path = tmp_path / "in.parquet"
    path.write_bytes(b"not parquet at all")
    with pytest.raises(
        DataError, match=r"^file '.*in.parquet': cannot be read as PARQUET"
    ):
        read_table(path)


def test_unknown_extension_is_refused(tmp_path):
    with pytest.raises(DataError, match=r"expected a name ending in \.csv"):
        table_format(tmp_path / "x.xlsx")
    assert table_format(tmp_path / "x.txt", "csv") == "csv"
    with pytest.raises(
        DataError, match=r"^format: expected 'csv' or 'parquet', found 'xls'$"
    ):
        table_format(tmp_path / "x.csv", "xls")


def test_atomic_write_leaves_nothing_on_failure(tmp_path):
    target = tmp_path / "out.csv"
    target.write_text("previous complete output\n")

    def killed_mid_write():
        with atomic_write(target) as tmp:
            tmp.write_text("half of the ")
            raise RuntimeError("killed")

    with pytest.raises(RuntimeError):
        killed_mid_write()
    assert target.read_text() == "previous complete output\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.csv"]


def test_written_files_get_ordinary_permissions(tmp_path):
    path = write_table(FRAME, tmp_path / "t.csv")
    assert (
        path.stat().st_mode & 0o044 == 0o044
    )  # readable by group and others (umask 022)
