"""What encoding a batch noticed: unseen categories, coerced values, extra columns.

``TabularPreprocessor.transform_with_report`` fills a ``TransformReport``; the
streaming job merges the reports of its batches and prints one summary, and
``warn_report`` turns a report into one warning for API users.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

# The category every value unseen in training is encoded as.
OTHER = "<other>"


@dataclass
class TransformReport:
    """What a transform met that it could absorb: counted, never raised.

    Attributes
    ----------
    n_rows : int
        Rows transformed.
    unseen : dict of str to int
        Per categorical column, values never seen in training (mapped to other).
    imputed : dict of str to int
        Per numeric or boolean column, missing values replaced by the median.
    extra_columns : list of str
        Input columns the model does not use.
    """

    n_rows: int = 0
    unseen: dict[str, int] = field(default_factory=dict)
    imputed: dict[str, int] = field(default_factory=dict)
    extra_columns: list[str] = field(default_factory=list)

    def merge(self, other: TransformReport) -> None:
        """Add another batch's counts to this report."""
        self.n_rows += other.n_rows
        for name, count in other.unseen.items():
            self.unseen[name] = self.unseen.get(name, 0) + count
        for name, count in other.imputed.items():
            self.imputed[name] = self.imputed.get(name, 0) + count
        for name in other.extra_columns:
            if name not in self.extra_columns:
                self.extra_columns.append(name)

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict."""
        return {
            "n_rows": self.n_rows,
            "unseen": dict(self.unseen),
            "imputed": dict(self.imputed),
            "extra_columns": list(self.extra_columns),
        }


def warn_numbers_as_text(frame: pd.DataFrame, names: list[str]) -> None:
    """Warn once about text columns whose values are mostly numbers.

    Such a column was inferred as categorical because some of its values are
    not numbers: most likely a number column with bad values, which would be
    learned as categories.
    """
    found = []
    for name in names:
        values = frame[name].dropna()
        if not len(values):
            continue
        numbers = pd.to_numeric(values, errors="coerce").notna()
        if numbers.all():  # numbers stored as text, e.g. a log's string field
            found.append(f"'{name}' (all numbers, stored as text)")
        elif numbers.mean() >= 0.5:
            example = values[~numbers.to_numpy()].iloc[0]
            found.append(f"'{name}' ({numbers.mean():.0%} numbers, also {example!r})")
    if found:
        warnings.warn(
            f"column(s) inferred as categorical though most of their values are "
            f"numbers: {', '.join(found)}; name them in numeric_cols if they are "
            "number columns (their other values are then rejected)",
            UserWarning,
            stacklevel=3,
        )


def warn_report(report: TransformReport, *, stacklevel: int = 3) -> None:
    """Emit one warning per kind of absorbed surprise (extra columns, unseen values)."""
    if report.extra_columns:
        warnings.warn(
            f"{len(report.extra_columns)} input column(s) not used by the model "
            f"were ignored: {', '.join(report.extra_columns[:5])}"
            + (" ..." if len(report.extra_columns) > 5 else ""),
            UserWarning,
            stacklevel=stacklevel,
        )
    if report.unseen:
        total = sum(report.unseen.values())
        detail = ", ".join(f"{k} ({v})" for k, v in report.unseen.items())
        warnings.warn(
            f"{total} categorical value(s) unseen in training were mapped to "
            f"'{OTHER}': {detail}",
            UserWarning,
            stacklevel=stacklevel,
        )
