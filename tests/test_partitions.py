"""Cutting inputs into pieces: together they read back exactly the streamed batches."""

import gzip

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from anomaly_gan.data.partitions import plan_pieces, read_piece
from anomaly_gan.data.tables import iter_batches
from anomaly_gan.exceptions import DataError


def _frame(n: int) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    return pd.DataFrame(
        {
            "id": [f"00{i}" for i in range(n)],
            "x": rng.normal(size=n),
            "k": rng.integers(0, 5, size=n),
            "c": rng.choice(["a", "b, with comma", "c"], size=n),
        }
    )


def _streamed(path, text_columns=()):
    batches = list(iter_batches([path], batch_rows=10**9, text_columns=text_columns))
    frame = pd.concat([b.frame for b in batches], ignore_index=True)
    rows = np.concatenate([b.row_numbers for b in batches])
    malformed = [m for b in batches for m in b.malformed]
    return frame, rows, malformed


def _pieced(path, target, text_columns=()):
    pieces = plan_pieces([path], target_bytes=target)
    batches = [read_piece(p, text_columns=text_columns) for p in pieces]
    frame = pd.concat([b.frame for b in batches], ignore_index=True)
    rows = np.concatenate([b.row_numbers for b in batches])
    malformed = [m for b in batches for m in b.malformed]
    return pieces, frame, rows, malformed


@pytest.mark.parametrize("target", [1, 333, 4096, 10**9])
def test_csv_pieces_read_back_the_whole_file(tmp_path, target):
    path = tmp_path / "t.csv"
    _frame(500).to_csv(path, index=False)
    pieces, frame, rows, _ = _pieced(path, target, text_columns=["id"])
    whole, whole_rows, _ = _streamed(path, text_columns=["id"])
    pd.testing.assert_frame_equal(frame, whole)
    np.testing.assert_array_equal(rows, whole_rows)
    assert [p.index for p in pieces] == list(range(len(pieces)))
    assert pieces[0].start == len(path.read_bytes().split(b"\n", 1)[0]) + 1
    assert pieces[-1].end == path.stat().st_size
    if target == 4096:
        assert 2 < len(pieces) < 20
        assert all(path.read_bytes()[p.end - 1 : p.end] == b"\n" for p in pieces)


def test_malformed_records_keep_their_row_numbers(tmp_path):
    lines = ["a,b", *[f"{i},{i * 2}" for i in range(1, 301)]]
    lines[150] = "150,300,extra"  # record 150 has a field too many
    lines[260] = "260,520,x,y"
    path = tmp_path / "bad.csv"
    path.write_text("\n".join(lines) + "\n")
    _, frame, rows, malformed = _pieced(path, 200)
    _, whole_rows, whole_bad = _streamed(path)
    assert [row for row, _ in malformed] == [row for row, _ in whole_bad] == [150, 260]
    np.testing.assert_array_equal(rows, whole_rows)
    assert len(frame) == 298


def test_file_without_final_newline_and_header_only(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("a,b\n1,2\n3,4")
    pieces, frame, rows, _ = _pieced(path, 4)
    assert frame.to_dict("list") == {"a": [1, 3], "b": [2, 4]}
    assert rows.tolist() == [1, 2]
    empty = tmp_path / "empty.csv"
    empty.write_text("a,b\n")
    pieces = plan_pieces([empty], target_bytes=10)
    assert len(pieces) == 1
    assert len(read_piece(pieces[0]).frame) == 0


def test_compressed_csv_is_one_piece(tmp_path):
    path = tmp_path / "t.csv.gz"
    with gzip.open(path, "wt") as fh:
        _frame(300).to_csv(fh, index=False)
    pieces, _, rows, _ = _pieced(path, 100)
    assert len(pieces) == 1
    assert pieces[0].kind == "csv-whole"
    assert rows.tolist() == list(range(1, 301))


def test_parquet_pieces_follow_row_groups_across_a_folder(tmp_path):
    folder = tmp_path / "ds"
    folder.mkdir()
    frame = _frame(1000)
    pq.write_table(
        pa.Table.from_pandas(frame.iloc[:600]), folder / "a.parquet", row_group_size=100
    )
    pq.write_table(
        pa.Table.from_pandas(frame.iloc[600:]), folder / "b.parquet", row_group_size=150
    )
    pieces, got, rows, _ = _pieced(folder, 1)
    assert len(pieces) == 6 + 3
    assert {p.source for p in pieces} == {str(folder)}
    whole, whole_rows, _ = _streamed(folder)
    pd.testing.assert_frame_equal(got, whole)
    np.testing.assert_array_equal(rows, whole_rows)
    assert rows.tolist() == list(range(1, 1001))
    two = plan_pieces([folder], target_bytes=10**9)
    assert [len(p.row_groups) for p in two] == [6, 3]


def test_unreadable_inputs_name_the_file(tmp_path):
    bad = tmp_path / "bad.parquet"
    bad.write_bytes(b"not parquet")
    with pytest.raises(DataError, match=r"bad\.parquet"):
        plan_pieces([bad], target_bytes=100)
    empty = tmp_path / "nothing.csv"
    empty.write_text("")
    with pytest.raises(DataError, match=r"nothing\.csv.*empty"):
        plan_pieces([empty], target_bytes=100)
    with pytest.raises(DataError, match="positive"):
        plan_pieces([empty], target_bytes=0)
