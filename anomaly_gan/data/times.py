"""Event times as UTC datetimes, whichever way a file writes them.

Numbers are seconds since the epoch (Zeek's ``ts``); text is ISO 8601 or any
form pandas reads; datetimes pass through. Unreadable values become NaT.
"""

from __future__ import annotations

import pandas as pd


def utc_times(values: pd.Series) -> pd.Series:
    """Return ``values`` as UTC datetimes (numbers: seconds since the epoch)."""
    if pd.api.types.is_numeric_dtype(values.dtype) and not pd.api.types.is_bool_dtype(
        values.dtype
    ):
        return pd.to_datetime(values, errors="coerce", unit="s", utc=True)
    return pd.to_datetime(values, errors="coerce", utc=True, format="mixed")
