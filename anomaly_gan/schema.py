"""Column roles and the parsing of column values, with one-line errors.

Owns what a column *is* (numeric, categorical, boolean, or excluded as a
timestamp or identifier) and how its values are read (numbers, booleans,
category text), raising a ``SchemaError`` that names the column, the row and the
bad value. It knows nothing of encodings or models.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from anomaly_gan.exceptions import SchemaError

NUMERIC = "numeric"
CATEGORICAL = "categorical"
BOOLEAN = "boolean"
MISSING = "<missing>"

_TRUE = frozenset({"1", "true", "t", "yes", "y"})
_FALSE = frozenset({"0", "false", "f", "no", "n"})
ID_MIN_UNIQUE = 1000
ID_UNIQUE_SHARE = 0.5


def infer_role(values: pd.Series) -> str:
    """Return a role (numeric, categorical, boolean) or the reason to exclude."""
    dtype = values.dtype
    if pd.api.types.is_bool_dtype(dtype):
        return BOOLEAN
    if pd.api.types.is_datetime64_any_dtype(dtype) or isinstance(dtype, pd.PeriodDtype):
        return "timestamp (datetime dtype)"
    if pd.api.types.is_numeric_dtype(dtype):
        return NUMERIC
    text = values.dropna()
    if len(text) and _looks_like_datetime(text):
        return "timestamp (date-time text)"
    n_unique = values.nunique(dropna=True)
    if n_unique >= ID_MIN_UNIQUE and n_unique > ID_UNIQUE_SHARE * len(values):
        return "identifier (most values distinct)"
    if len(text) and set(text.astype(str).str.lower().unique()) <= (_TRUE | _FALSE):
        return BOOLEAN
    return CATEGORICAL


def _looks_like_datetime(text: pd.Series) -> bool:
    sample = text.iloc[:200].astype(str)
    if not sample.str.match(r"^\d{4}-\d{2}-\d{2}").all():
        return False
    parsed = pd.to_datetime(sample, errors="coerce", format="ISO8601")
    return bool(parsed.notna().all())


def parse_numeric(name: str, values: pd.Series, *, row_offset: int) -> np.ndarray:
    """Read a column as float64 (NaN for missing); raise on text or infinity."""
    if pd.api.types.is_bool_dtype(values.dtype):
        return np.asarray(values.to_numpy(dtype=np.float64, na_value=np.nan))
    if pd.api.types.is_numeric_dtype(values.dtype):
        x = values.to_numpy(dtype=np.float64, na_value=np.nan)
    else:
        parsed = pd.to_numeric(values, errors="coerce")
        x = parsed.to_numpy(dtype=np.float64, na_value=np.nan)
        bad = np.isnan(x) & values.notna().to_numpy()
        if bad.any():
            raise _row_error(name, values, bad, row_offset, "a number")
    infinite = np.isinf(x)
    if infinite.any():
        raise _row_error(name, values, infinite, row_offset, "a finite number")
    return np.asarray(x)


def parse_boolean(
    name: str, values: pd.Series, row_offset: int
) -> tuple[np.ndarray, np.ndarray]:
    """Read a column as 0/1 flags plus a missing mask; raise on other text."""
    missing = values.isna().to_numpy()
    if pd.api.types.is_bool_dtype(values.dtype) and not missing.any():
        return values.to_numpy(dtype=np.float32), missing
    text = values.astype("string").str.strip().str.lower()
    is_true = text.isin(_TRUE).to_numpy(dtype=bool, na_value=False)
    is_false = text.isin(_FALSE).to_numpy(dtype=bool, na_value=False)
    bad = ~(is_true | is_false | missing)
    if bad.any():
        raise _row_error(
            name, values, bad, row_offset, "a boolean (true/false, 1/0, yes/no)"
        )
    return is_true.astype(np.float32), missing


def _show(value: Any) -> str:
    """Show a value as messages do: numpy scalars as plain Python values."""
    if isinstance(value, np.generic):
        value = value.item()
    return repr(value)


def as_text(values: pd.Series) -> pd.Series:
    """Return category text: strings, with missing values as ``<missing>``."""
    text = values.astype("string").fillna(MISSING)
    return text.astype(object)


def category_codes(values: pd.Series, categories: list[str]) -> np.ndarray:
    """Return each value's index in ``categories``, -1 when absent."""
    index = pd.Index(categories, dtype=object)
    return np.asarray(index.get_indexer(as_text(values)), dtype=np.int64)


def _row_error(
    name: str, values: pd.Series, bad: np.ndarray, row_offset: int, expected: str
) -> SchemaError:
    """Build the error for the first bad row (rows count from 1, header excluded)."""
    i = int(np.flatnonzero(bad)[0])
    msg = (
        f"column '{name}' (row {row_offset + i + 1}): expected {expected}, "
        f"found {_show(values.iloc[i])}"
    )
    return SchemaError(msg)
