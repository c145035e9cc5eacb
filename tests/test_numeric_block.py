"""The plain numeric columns, encoded as one block, match the per-column path."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from anomaly_gan.exceptions import SchemaError
from anomaly_gan.features.numeric_block import is_plain_numeric, read_block
from anomaly_gan.features.preprocessing import TabularPreprocessor
from anomaly_gan.features.transform_report import TransformReport


@pytest.fixture
def numbers() -> pd.DataFrame:
    rng = np.random.default_rng(3)
    n = 400
    frame = pd.DataFrame(
        {
            "amount": rng.lognormal(3.0, 1.5, n),  # heavy tail: logged when robust
            "score": rng.normal(0.0, 2.0, n),
            "count": rng.poisson(3, n).astype(np.int64),
            "ratio": rng.uniform(-1.0, 1.0, n).astype(np.float32),
            "constant": np.full(n, 7.0),
        }
    )
    frame.loc[[4, 50, 300], "score"] = np.nan  # a missing-value indicator column
    return frame


def _as_text_numbers(frame: pd.DataFrame) -> pd.DataFrame:
    """The same values in object columns, which take the per-column path."""
    return frame.astype(object).where(frame.notna(), None)


@pytest.mark.parametrize("transform", ["robust", "standard", "quantile"])
def test_block_encoding_equals_the_per_column_encoding(numbers, transform):
    options = {"numeric_transform": transform, "numeric_cols": list(numbers.columns)}
    fitted = TabularPreprocessor(**options).fit(numbers)
    by_column = TabularPreprocessor(**options).fit(_as_text_numbers(numbers))
    assert fitted.to_dict() == by_column.to_dict()
    shifted = numbers * 1.5 + 2.0  # values beyond the training range too
    block = fitted.transform(shifted)
    one_by_one = fitted.transform(_as_text_numbers(shifted))
    np.testing.assert_array_equal(block, one_by_one)
    assert "score__missing" in fitted.output_names_


def test_imputed_counts_are_reported_per_column_in_column_order(numbers):
    pre = TabularPreprocessor().fit(numbers)
    test = numbers.copy()
    test.loc[[1, 2], "amount"] = np.nan
    report = TransformReport()
    encoded = pre.transform_with_report(test, report)
    assert report.imputed == {"amount": 2, "score": 3}
    assert list(report.imputed) == ["amount", "score"]
    start, _ = pre.feature_slices_["score"]
    np.testing.assert_array_equal(np.flatnonzero(encoded[:, start + 1]), [4, 50, 300])


def test_an_infinite_value_is_an_error_naming_column_and_row(numbers):
    pre = TabularPreprocessor().fit(numbers)
    test = numbers.copy()
    test.loc[9, "count"] = 3  # stays an integer column
    test["ratio"] = test["ratio"].astype(np.float64)
    test.loc[12, "ratio"] = np.inf
    with pytest.raises(
        SchemaError, match=r"column 'ratio' \(row 13\): expected a finite number"
    ):
        pre.transform(test)


def test_a_missing_value_the_model_may_not_impute_names_its_row(numbers):
    complete = numbers.fillna(0.0)
    pre = TabularPreprocessor(impute_missing=False).fit(complete)
    test = complete.copy()
    test.loc[20, "amount"] = np.nan
    with pytest.raises(SchemaError, match=r"column 'amount' \(row 21\)"):
        pre.transform(test)


def test_read_block_declines_repeated_names_and_infinities():
    frame = pd.DataFrame(np.ones((3, 2)), columns=["a", "a"])
    assert read_block(frame, ["a"]) is None
    frame = pd.DataFrame({"a": [1.0, np.inf], "b": [1, 2]})
    assert read_block(frame, ["a", "b"]) is None
    values = read_block(frame.replace(np.inf, 5.0), ["b", "a"])
    np.testing.assert_array_equal(values, [[1.0, 1.0], [2.0, 5.0]])


def test_only_numpy_numbers_are_plain():
    assert is_plain_numeric(np.dtype("float32"))
    assert is_plain_numeric(np.dtype("int64"))
    assert not is_plain_numeric(np.dtype("bool"))
    assert not is_plain_numeric(np.dtype("object"))
    assert not is_plain_numeric(pd.Int64Dtype())
    assert not is_plain_numeric(None)
