"""Zeek conn logs (TSV and JSON lines) and KDD files through the table readers."""

import gzip
import json

import numpy as np
import pandas as pd
import pytest

from anomaly_gan.data.network_logs import KDD_COLUMNS, log_format
from anomaly_gan.data.network_synth import ATTACK_TYPES, make_connections
from anomaly_gan.data.tables import expand_sources, iter_batches, read_table
from anomaly_gan.data.zeek_writer import write_zeek_log
from anomaly_gan.exceptions import DataError

from .conftest import shared_path

# A conn.log as Zeek writes it: the header lines, tabs, '-' for unset fields,
# '(empty)' for an empty set, and the closing line.
ZEEK_TSV = """\
#separator \\x09
#set_separator\t,
#empty_field\t(empty)
#unset_field\t-
#path\tconn
#open\t2026-11-05-09-00-00
#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tservice\tduration\torig_bytes\tresp_bytes\tconn_state\tlocal_orig\tlocal_resp\tmissed_bytes\thistory\torig_pkts\torig_ip_bytes\tresp_pkts\tresp_ip_bytes\ttunnel_parents
#types\ttime\tstring\taddr\tport\taddr\tport\tenum\tstring\tinterval\tcount\tcount\tstring\tbool\tbool\tcount\tstring\tcount\tcount\tcount\tcount\tset[string]
1793869200.123456\tCAbc1\t10.0.10.3\t51234\t10.0.1.10\t53\tudp\tdns\t0.012000\t38\t120\tSF\tT\tT\t0\tDd\t1\t66\t1\t148\t(empty)
1793869201.500000\tCAbc2\t10.0.10.3\t51240\t93.184.216.34\t443\ttcp\tssl\t1.250000\t1200\t54000\tSF\tT\tF\t0\tShADadFf\t12\t1680\t40\t55600\t(empty)
1793869202.000000\tCAbc3\t10.0.10.7\t40000\t10.0.1.30\t445\ttcp\t-\t-\t-\t-\tS0\tT\tT\t0\tS\t1\t44\t0\t0\t(empty)
#close\t2026-11-05-10-00-00
"""

ZEEK_JSON = [
    '{"ts":1793869200.123456,"uid":"CAbc1","id.orig_h":"10.0.10.3","id.orig_p":51234,"id.resp_h":"10.0.1.10","id.resp_p":53,"proto":"udp","service":"dns","duration":0.012,"orig_bytes":38,"resp_bytes":120,"conn_state":"SF","local_orig":true,"local_resp":true,"missed_bytes":0,"history":"Dd","orig_pkts":1,"orig_ip_bytes":66,"resp_pkts":1,"resp_ip_bytes":148}',
    '{"ts":"2026-11-05T09:00:01.500000Z","uid":"CAbc2","id.orig_h":"10.0.10.3","id.orig_p":51240,"id.resp_h":"93.184.216.34","id.resp_p":443,"proto":"tcp","service":"ssl","duration":1.25,"orig_bytes":1200,"resp_bytes":54000,"conn_state":"SF","local_orig":true,"local_resp":false,"missed_bytes":0,"history":"ShADadFf","orig_pkts":12,"orig_ip_bytes":1680,"resp_pkts":40,"resp_ip_bytes":55600}',
    '{"ts":1793869202.0,"uid":"CAbc3","id.orig_h":"10.0.10.7","id.orig_p":40000,"id.resp_h":"10.0.1.30","id.resp_p":445,"proto":"tcp","conn_state":"S0","local_orig":true,"local_resp":true,"missed_bytes":0,"history":"S","orig_pkts":1,"orig_ip_bytes":44,"resp_pkts":0,"resp_ip_bytes":0}',
]


def test_zeek_tsv_is_typed_by_its_header(tmp_path):
    path = tmp_path / "conn.log"
    path.write_text(ZEEK_TSV)
    assert log_format(path) == "zeek"
    frame = read_table(path)
    assert len(frame) == 3
    assert frame["ts"].dtype == float
    assert frame["ts"].iloc[0] == pytest.approx(1793869200.123456)
    # Ports and addresses are text (categories or derived features), not numbers.
    assert frame["id.resp_p"].tolist() == ["53", "443", "445"]
    assert frame["id.orig_h"].iloc[1] == "10.0.10.3"
    # '-' is missing; '(empty)' is an empty value.
    assert pd.isna(frame["service"].iloc[2])
    assert np.isnan(frame["orig_bytes"].iloc[2])
    assert frame["orig_bytes"].iloc[1] == 1200
    assert frame["tunnel_parents"].tolist() == ["", "", ""]
    assert frame["local_resp"].tolist() == ["T", "F", "T"]


def test_gzip_and_json_lines_read_the_same_records(tmp_path):
    plain = tmp_path / "conn.log"
    plain.write_text(ZEEK_TSV)
    packed = tmp_path / "conn.log.gz"
    with gzip.open(packed, "wt") as fh:
        fh.write(ZEEK_TSV)
    lines = tmp_path / "conn.json"
    lines.write_text("\n".join(ZEEK_JSON) + "\n")
    tsv, gz, js = read_table(plain), read_table(packed), read_table(lines)
    pd.testing.assert_frame_equal(tsv, gz)
    js = js[tsv.columns]
    for column in tsv.columns:
        if column == "tunnel_parents":  # JSON leaves an empty set out
            continue
        left, right = tsv[column], js[column]
        if pd.api.types.is_numeric_dtype(left.dtype):
            np.testing.assert_allclose(left, right, err_msg=column)
        else:
            assert left.fillna("<na>").tolist() == right.fillna("<na>").tolist(), column


def test_a_zeek_json_log_named_dot_log_is_read_as_json(tmp_path):
    path = tmp_path / "conn.log"
    path.write_text("\n".join(ZEEK_JSON) + "\n")
    assert log_format(path) == "zeek-json"
    assert len(read_table(path)) == 3


def test_malformed_records_carry_their_number_and_reason(tmp_path):
    body = ZEEK_TSV.splitlines(keepends=True)
    records = [i for i, line in enumerate(body) if not line.startswith("#")]
    body.insert(records[1], "1793869201.0\tCbad\t10.0.10.9\n")  # 3 of 21 fields
    body[records[1] + 1] = body[records[1] + 1].replace("\t1200\t", "\tlots\t")
    path = tmp_path / "conn.log"
    path.write_text("".join(body))
    (batch,) = list(iter_batches([path]))
    assert batch.row_numbers.tolist() == [1, 4]
    assert [row for row, _ in batch.malformed] == [2, 3]
    assert "expected 21 separated fields, found 3" in batch.malformed[0][1]
    assert (
        "field 'orig_bytes': expected a number, found 'lots'" in batch.malformed[1][1]
    )
    with pytest.raises(DataError, match=r"conn.log': row 2: expected 21"):
        read_table(path)


def test_bad_json_lines_are_rejected_with_their_number(tmp_path):
    path = tmp_path / "conn.jsonl"
    path.write_text(ZEEK_JSON[0] + "\n{not json\n[1, 2]\n" + ZEEK_JSON[1] + "\n")
    (batch,) = list(iter_batches([path]))
    assert batch.row_numbers.tolist() == [1, 4]
    assert [row for row, _ in batch.malformed] == [2, 3]
    assert "bad JSON" in batch.malformed[0][1]
    assert "found list" in batch.malformed[1][1]


def test_concatenated_logs_and_small_batches(tmp_path):
    path = tmp_path / "two.log"
    path.write_text(ZEEK_TSV + ZEEK_TSV)
    batches = list(iter_batches([path], batch_rows=2))
    assert sum(len(b.frame) for b in batches) == 6
    rows = np.concatenate([b.row_numbers for b in batches])
    assert rows.tolist() == [1, 2, 3, 4, 5, 6]


def test_a_log_without_fields_is_refused_in_one_line(tmp_path):
    path = tmp_path / "conn.log"
    path.write_text("#separator \\x09\n1\t2\t3\n")
    with pytest.raises(
        DataError, match=r"^file '.*conn.log': expected a Zeek '#fields' header"
    ):
        read_table(path)


def test_an_unknown_input_name_lists_the_log_formats(tmp_path):
    path = tmp_path / "conn.xlsx"
    path.write_text("x")
    with pytest.raises(DataError, match=r"a Zeek log \(.log, .json"):
        expand_sources([path])


def test_kdd_99_records_lose_the_labels_trailing_dot(tmp_path):
    row = ",".join(["0", "tcp", "http", "SF", *["0"] * 37, "smurf."])
    path = tmp_path / "kddcup.data"
    path.write_text(row + "\n" + row.replace("smurf.", "normal.") + "\n")
    frame = read_table(path)
    assert list(frame.columns) == KDD_COLUMNS[:42]
    assert frame["attack"].tolist() == ["smurf", "normal"]
    path.write_text(row + "\n" + row + ",surplus\n" + row + "\n")
    (batch,) = list(iter_batches([path]))
    assert batch.row_numbers.tolist() == [1, 3]
    assert [r for r, _ in batch.malformed] == [2]


def test_a_kdd_file_with_the_wrong_fields_is_refused(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("a,b,c\n")
    with pytest.raises(
        DataError,
        match=r"expected NSL-KDD or KDD-99 records .* found 3; other tables need",
    ):
        read_table(path)


@pytest.mark.shared_data
def test_nsl_kdd_files_read_with_their_column_names():
    frame = read_table(shared_path("nsl-kdd", "KDDTest+.txt"))
    assert list(frame.columns) == KDD_COLUMNS
    assert len(frame) == 22_544
    assert (frame["attack"] == "normal").sum() == 9_711


def test_generated_traffic_round_trips_through_both_zeek_forms(tmp_path):
    frame = make_connections(3_000, attack_rate=0.05, random_state=3)
    assert set(frame["attack_type"]) == {"normal", *ATTACK_TYPES}
    assert frame["ts"].is_monotonic_increasing
    write_zeek_log(frame, tmp_path / "c.log.gz")
    write_zeek_log(frame, tmp_path / "c.json", as_json=True)
    tsv = read_table(tmp_path / "c.log.gz")
    js = read_table(tmp_path / "c.json")[tsv.columns]
    for column in ("ts", "orig_bytes", "duration", "is_attack"):
        np.testing.assert_allclose(tsv[column], frame[column], rtol=1e-9)
        np.testing.assert_allclose(js[column], frame[column], rtol=1e-9)
    assert tsv["id.resp_p"].tolist() == frame["id.resp_p"].astype(str).tolist()
    assert js["service"].fillna("-").tolist() == tsv["service"].fillna("-").tolist()
    with gzip.open(tmp_path / "c.log.gz", "rt") as fh:
        header = [next(fh) for _ in range(8)]
    assert header[0] == "#separator \\x09\n"  # Zeek's own header layout
    assert [line.split("\t")[0] for line in header[1:]] == [
        "#set_separator", "#empty_field", "#unset_field", "#path", "#open", "#fields", "#types",
    ]  # fmt: skip
    assert header[7].split("\t")[1:4] == ["time", "string", "addr"]
    first = json.loads((tmp_path / "c.json").read_text().splitlines()[0])
    assert isinstance(first["id.resp_p"], int) and first["local_orig"] is True


def test_the_generator_is_seeded_and_sized():
    a = make_connections(2_000, attack_rate=0.05, random_state=7)
    b = make_connections(2_000, attack_rate=0.05, random_state=7)
    pd.testing.assert_frame_equal(a, b)
    assert len(a) == 2_000
    assert a["is_attack"].sum() == 100
    counts = a.loc[a["is_attack"] == 1, "attack_type"].value_counts()
    assert set(counts.index) == set(ATTACK_TYPES)
    assert (counts == 20).all()
    scan = a[a["attack_type"] == "port_scan"]
    assert scan["id.resp_p"].nunique() == len(scan)
    assert (
        make_connections(500, attack_rate=0.0, random_state=1)["is_attack"] == 0
    ).all()
