import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings

from anomaly_gan.exceptions import SchemaError
from anomaly_gan.features.preprocessing import TabularPreprocessor
from anomaly_gan.features.transform_report import OTHER, TransformReport
from tests.strategies import mixed_frames


@pytest.fixture
def frame():
    rng = np.random.default_rng(0)
    n = 400
    return pd.DataFrame(
        {
            "tx_id": [f"T{i}" for i in range(n)],
            "when": pd.date_range("2026-01-01", periods=n, freq="min"),
            "amount": np.exp(rng.normal(3, 1.5, n)),  # heavy right tail
            "temp": rng.normal(20, 2, n),
            "bytes": np.where(rng.random(n) < 0.1, np.nan, rng.integers(0, 1000, n)),
            "country": rng.choice(
                ["US", "GB", "DE", "rare"], n, p=[0.6, 0.25, 0.149, 0.001]
            ),
            "card_present": rng.random(n) < 0.5,
            "flag_text": rng.choice(["yes", "no"], n),
            "label": rng.integers(0, 2, n),
        }
    )


def fit(frame, **kw):
    kw.setdefault("id_cols", ["tx_id"])
    kw.setdefault("label_col", "label")
    return TabularPreprocessor(**kw).fit(frame)


def test_roles_are_inferred_and_options_exclude_columns(frame):
    pre = fit(frame)
    roles = {c["name"]: c["role"] for c in pre.columns_}
    assert roles == {
        "amount": "numeric",
        "temp": "numeric",
        "bytes": "numeric",
        "country": "categorical",
        "card_present": "boolean",
        "flag_text": "boolean",
    }
    assert pre.excluded_ == {
        "tx_id": "identifier",
        "label": "label",
        "when": "timestamp (datetime dtype)",
    }


def test_explicit_roles_override_inference(frame):
    pre = fit(frame, categorical_cols=["bytes"], exclude_cols=["temp"])
    roles = {c["name"]: c["role"] for c in pre.columns_}
    assert roles["bytes"] == "categorical"
    assert "temp" not in roles
    assert pre.excluded_["temp"] == "excluded by option"


def test_identifier_and_datetime_text_are_excluded_without_options():
    n = 2_000
    frame = pd.DataFrame(
        {
            "ref": [f"R{i:06d}" for i in range(n)],
            "ts": pd.date_range("2026-01-01", periods=n, freq="h").astype(str),
            "x": np.arange(n, dtype=float),
        }
    )
    pre = TabularPreprocessor().fit(frame)
    assert pre.excluded_ == {
        "ref": "identifier (most values distinct)",
        "ts": "timestamp (date-time text)",
    }


def test_heavy_tailed_column_is_logged_and_missing_values_get_an_indicator(frame):
    pre = fit(frame)
    spec = {c["name"]: c for c in pre.columns_}
    assert spec["amount"]["log"] is True
    assert spec["temp"]["log"] is False
    assert spec["bytes"]["missing_indicator"] is True
    assert spec["temp"]["missing_indicator"] is False
    assert "bytes__missing" in pre.output_names_
    x = pre.transform(frame)
    col = pre.output_names_.index("bytes__missing")
    np.testing.assert_array_equal(x[:, col], frame["bytes"].isna().to_numpy())
    assert x.dtype == np.float32
    assert x.shape == (len(frame), len(pre.output_names_))


def test_extreme_values_are_clipped(frame):
    pre = fit(frame, clip=5.0)
    extreme = frame.head(2).copy()
    extreme["temp"] = [1e9, -1e9]
    x = pre.transform(extreme)
    col = pre.output_names_.index("temp")
    assert x[:, col].tolist() == [5.0, -5.0]


def test_rare_and_unseen_categories_go_to_other_and_are_counted(frame):
    pre = fit(frame, min_frequency=0.01)
    spec = {c["name"]: c for c in pre.columns_}
    assert spec["country"]["categories"] == ["US", "GB", "DE"]
    batch = frame.head(3).copy()
    batch["country"] = ["FR", "US", "rare"]
    report = TransformReport()
    x = pre.transform_with_report(batch, report)
    other = pre.output_names_.index(f"country={OTHER}")
    assert x[:, other].tolist() == [1.0, 0.0, 1.0]
    assert report.unseen == {"country": 2}
    with pytest.warns(
        UserWarning,
        match=r"^2 categorical value\(s\) unseen in training were mapped to '<other>': country \(2\)$",
    ):
        pre.transform(batch)


def test_extra_columns_are_ignored_and_reported_once(frame):
    pre = fit(frame)
    batch = frame.head(5).assign(extra1=1, extra2="x")
    with pytest.warns(
        UserWarning,
        match=r"^2 input column\(s\) not used by the model were ignored: extra1, extra2$",
    ):
        x = pre.transform(batch)
    np.testing.assert_array_equal(x, pre.transform(frame.head(5)))


def test_numeric_missing_values_are_imputed_with_the_median_and_counted(frame):
    pre = fit(frame)
    batch = frame.head(4).copy()
    batch["temp"] = [np.nan, 1.0, np.nan, 2.0]
    report = TransformReport()
    x = pre.transform_with_report(batch, report)
    spec = {c["name"]: c for c in pre.columns_}["temp"]
    col = pre.output_names_.index("temp")
    assert x[0, col] == pytest.approx(
        (spec["median"] - spec["center"]) / spec["scale"], abs=1e-5
    )
    assert report.imputed == {"temp": 2}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda f: f.drop(columns=["amount"]),
            "column 'amount': required by the model, missing from the input (1 missing in all)",
        ),
        (
            lambda f: f.drop(columns=["amount", "temp"]),
            "column 'amount': required by the model, missing from the input (2 missing in all)",
        ),
        (
            lambda f: f.assign(amount=["12.5", "N/A?", "3"] + ["1"] * (len(f) - 3)),
            "column 'amount' (row 2): expected a number, found 'N/A?'",
        ),
        (
            lambda f: f.assign(temp=[1.0, 2.0, np.inf] + [1.0] * (len(f) - 3)),
            "column 'temp' (row 3): expected a finite number, found inf",
        ),
        (
            lambda f: f.assign(
                card_present=["true", "maybe"] + ["false"] * (len(f) - 2)
            ),
            "column 'card_present' (row 2): expected a boolean (true/false, 1/0, yes/no), found 'maybe'",
        ),
    ],
)
def test_schema_errors_name_the_column_row_and_value(frame, change, message):
    pre = fit(frame)
    with pytest.raises(SchemaError) as info:
        pre.transform(change(frame.head(10).copy()))
    assert str(info.value) == message


def test_row_offset_shifts_row_numbers_in_errors(frame):
    pre = fit(frame)
    batch = frame.head(3).assign(amount=["1", "x", "2"])
    with pytest.raises(SchemaError, match=r"^column 'amount' \(row 1002\)"):
        pre.transform_with_report(batch, TransformReport(), row_offset=1000)


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        (
            {"id_cols": ["nope"]},
            "column 'nope' (named by id_cols): not found in the training data",
        ),
        (
            {"categorical_cols": ["nope"]},
            "column 'nope' (named by categorical_cols): not found in the training data",
        ),
        (
            {"label_col": "nope"},
            "column 'nope' (named by label_col): not found in the training data",
        ),
    ],
)
def test_options_naming_absent_columns_are_refused(frame, kw, message):
    with pytest.raises(SchemaError) as info:
        TabularPreprocessor(**kw).fit(frame)
    assert str(info.value) == message


def test_a_table_with_nothing_to_learn_is_refused():
    with pytest.raises(SchemaError) as info:
        TabularPreprocessor(id_cols=["a"]).fit(pd.DataFrame({"a": [1, 2]}))
    assert (
        str(info.value)
        == "training data: expected at least one usable feature column, found none (excluded: a)"
    )
    with pytest.raises(SchemaError, match="expected at least one row"):
        TabularPreprocessor().fit(pd.DataFrame({"a": []}))


@pytest.mark.parametrize("transform", ["robust", "standard", "quantile"])
def test_json_round_trip_gives_identical_encoding(frame, transform):
    pre = fit(frame, numeric_transform=transform)
    again = TabularPreprocessor.from_dict(json.loads(json.dumps(pre.to_dict())))
    np.testing.assert_array_equal(again.transform(frame), pre.transform(frame))
    assert again.output_names_ == pre.output_names_


@pytest.mark.parametrize("transform", ["robust", "standard", "quantile"])
def test_expected_values_invert_the_encoding(frame, transform):
    pre = fit(frame, numeric_transform=transform)
    rows = frame.head(50)
    decoded = pre.expected_values(pre.transform(rows))
    tol = 0.05 if transform == "quantile" else 1e-3
    for name in ("amount", "temp"):
        np.testing.assert_allclose(
            decoded[name], rows[name], rtol=tol, atol=tol * rows[name].abs().max()
        )
    assert (
        decoded["country"].tolist()
        == rows["country"].where(rows["country"] != "rare", OTHER).tolist()
    )
    # Decoding only some columns gives those columns, the same values.
    some = pre.expected_values(pre.transform(rows), ["country", "amount"])
    assert list(some.columns) == [
        c for c in decoded.columns if c in ("country", "amount")
    ]
    pd.testing.assert_frame_equal(some, decoded[list(some.columns)])
    assert decoded["card_present"].tolist() == rows["card_present"].tolist()


def test_quantile_transform_keeps_values_beyond_the_training_range_apart(frame):
    pre = fit(frame, numeric_transform="quantile")
    batch = frame.head(2).assign(
        temp=[frame["temp"].max() + 10, frame["temp"].max() + 100]
    )
    x = pre.transform(batch)
    col = pre.output_names_.index("temp")
    assert x[1, col] > x[0, col]


def test_array_input_gets_positional_column_names():
    pre = TabularPreprocessor().fit(np.arange(20.0).reshape(10, 2))
    assert pre.required_columns_ == ["x0", "x1"]
    with pytest.raises(SchemaError, match="expected a 2-D table"):
        pre.transform(np.arange(3.0))


@settings(max_examples=40, deadline=None)
@given(mixed_frames())
def test_transform_is_row_wise_and_round_trips(frame):
    pre = TabularPreprocessor().fit(frame)
    x = pre.transform(frame)
    assert np.isfinite(x).all()
    # Row order does not matter: permuting rows permutes the encoding.
    perm = np.random.default_rng(0).permutation(len(frame))
    np.testing.assert_array_equal(pre.transform(frame.iloc[perm]), x[perm])
    # Batches equal the whole: what streaming relies on.
    half = len(frame) // 2
    np.testing.assert_array_equal(
        np.vstack([pre.transform(frame.iloc[:half]), pre.transform(frame.iloc[half:])]),
        x,
    )
    again = TabularPreprocessor.from_dict(json.loads(json.dumps(pre.to_dict())))
    np.testing.assert_array_equal(again.transform(frame), x)


def test_inferred_roles_are_recorded_and_numbers_in_text_are_warned_of():
    # Issue 15, case 4: a number column with a bad value is read as text and
    # would be learned as categories without a word.
    frame = pd.DataFrame(
        {
            "amount": ["12.5", "3.0", "twelve", "7.25"] * 25,
            "country": ["US", "DE", "FR", "GB"] * 25,
            "hour": list(range(100)),
        }
    )
    with pytest.warns(UserWarning, match="inferred as categorical") as caught:
        pre = TabularPreprocessor(categorical_cols=["country"]).fit(frame)
    messages = [str(w.message) for w in caught]
    assert messages == [
        "column(s) inferred as categorical though most of their values are "
        "numbers: 'amount' (75% numbers, also 'twelve'); name them in numeric_cols "
        "if they are number columns (their other values are then rejected)"
    ]
    assert {item["name"]: item["inferred"] for item in pre.describe_schema()} == {
        "amount": True,
        "country": False,
        "hour": True,
    }


def test_a_text_column_of_only_numbers_is_named_in_the_warning():
    frame = pd.DataFrame({"port": ["22", "443", "53"] * 20, "x": np.arange(60.0)})
    with pytest.warns(UserWarning, match=r"'port' \(all numbers, stored as text\)"):
        TabularPreprocessor().fit(frame)
