"""Which rows a suppression rule covers: benign patterns analysts marked.

A rule (``stores.verdicts.VerdictStore.add_suppression``) maps columns to the
values that match; a row matches when every named column holds one of its
values (compared as text); a rule naming a column the data lacks does not
apply to it (``applicable`` lists the ones that do). ``matched_rule`` names, per row, the first active
rule that matches (an empty string for none). ``score --suppressions`` writes
it as the ``suppressed`` column, and alerts leave those rows out;
``retrain`` does not learn from them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd


def matched_rule(frame: pd.DataFrame, rules: Sequence[dict[str, Any]]) -> np.ndarray:
    """Return, per row of ``frame``, the first matching rule's name ('' for none)."""
    out = np.full(len(frame), "", dtype=object)
    for rule in rules:
        conditions: dict[str, list[str]] = rule["conditions"]
        if any(c not in frame.columns for c in conditions):
            continue  # a rule about other data (see applicable)
        mask = np.ones(len(frame), dtype=bool)
        for column, values in conditions.items():
            text = frame[column].astype(str).to_numpy()
            mask &= np.isin(text, np.asarray(values, dtype=object))
        out[(out == "") & mask] = str(rule["name"])
    return out


def applicable(
    columns: Sequence[str], rules: Sequence[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Return the rules whose columns are all among ``columns``."""
    present = set(columns)
    return [r for r in rules if all(c in present for c in r["conditions"])]
