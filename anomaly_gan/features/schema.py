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


class RowIssues:
    """The first problem of each bad row in a batch, or an error at the first one.

    Parameters
    ----------
    n_rows : int
        Rows in the batch.
    row_numbers : ndarray of int, optional
        Row number of each row in its file (from 1, header excluded); default
        ``row_offset + 1 ... row_offset + n_rows``.
    row_offset : int, default=0
    raise_first : bool, default=True
        Raise a ``SchemaError`` at the first problem instead of collecting.
    """

    def __init__(
        self,
        n_rows: int,
        *,
        row_numbers: np.ndarray | None = None,
        row_offset: int = 0,
        raise_first: bool = True,
    ) -> None:
        self.row_numbers = (
            np.arange(row_offset + 1, row_offset + n_rows + 1)
            if row_numbers is None
            else np.asarray(row_numbers)
        )
        self.raise_first = raise_first
        self.mask = np.zeros(n_rows, dtype=bool)
        self.reasons: dict[int, str] = {}

    def add(
        self, column: str, bad: np.ndarray, expected: str, values: pd.Series
    ) -> None:
        """Record rows flagged in ``bad`` (the first reason per row is kept)."""
        if not bad.any():
            return
        if self.raise_first:
            i = int(np.flatnonzero(bad)[0])
            msg = (
                f"column '{column}' (row {self.row_numbers[i]}): expected {expected}, "
                f"found {_show(values.iloc[i])}"
            )
            raise SchemaError(msg)
        for j in np.flatnonzero(bad & ~self.mask):
            self.reasons[int(j)] = (
                f"column '{column}': expected {expected}, found {_show(values.iloc[j])}"
            )
        self.mask |= bad


def parse_numeric(name: str, values: pd.Series, issues: RowIssues) -> np.ndarray:
    """Read a column as float64, NaN for missing; text and infinities are issues."""
    if pd.api.types.is_bool_dtype(values.dtype):
        return np.asarray(values.to_numpy(dtype=np.float64, na_value=np.nan))
    if pd.api.types.is_numeric_dtype(values.dtype):
        x = values.to_numpy(dtype=np.float64, na_value=np.nan)
    else:
        parsed = pd.to_numeric(values, errors="coerce")
        x = parsed.to_numpy(dtype=np.float64, na_value=np.nan)
        issues.add(name, np.isnan(x) & values.notna().to_numpy(), "a number", values)
    infinite = np.isinf(x)
    if infinite.any():
        issues.add(name, infinite, "a finite number", values)
        x = np.where(infinite, np.nan, x)
    return np.asarray(x)


def parse_boolean(
    name: str, values: pd.Series, issues: RowIssues
) -> tuple[np.ndarray, np.ndarray]:
    """Read a column as 0/1 flags plus a missing mask; other text is an issue."""
    missing = values.isna().to_numpy()
    if pd.api.types.is_bool_dtype(values.dtype) and not missing.any():
        return values.to_numpy(dtype=np.float32), missing
    text = values.astype("string").str.strip().str.lower()
    is_true = text.isin(_TRUE).to_numpy(dtype=bool, na_value=False)
    is_false = text.isin(_FALSE).to_numpy(dtype=bool, na_value=False)
    bad = ~(is_true | is_false | missing)
    issues.add(name, bad, "a boolean (true/false, 1/0, yes/no)", values)
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
