"""The marginal component: how rare each of a row's values is in its own column.

For every model column the component keeps the sorted values of the normal
reference rows (training rows, capped). A value's tail probability is the
smaller of the shares of reference values at or below it and at or above it,
doubled (two-sided) and floored at ``1 / (m + 1)`` for ``m`` reference rows.
A row's raw value is the sum over columns of ``-log`` of that probability: the
log-likelihood of its values under independent empirical marginals, as in
ECOD (Li et al., 2022), which it follows in spirit with a two-sided tail.

Why it is in the score: an anomaly that is extreme in a single column (a
transaction amount far above any seen, a connection with an unseen flag) is
easy for an axis-aligned test and hard for distances, since one column moves
a distance little, and for a GAN trained on rows that hold a few such
anomalies. The empirical tails are also robust to a few percent of unlabelled
anomalies in the training rows, which shift a quantile only a little
(docs/benchmarks.md, log item 15). The component is rank based, so any
monotone scaling of a column gives the same value; it runs on the model's
encoded columns (one-hot categories included: a rare category is a rare 1).
No torch, no pandas here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np

# Rows scored per block (bounds the memory of one searchsorted pass).
_BLOCK_ROWS = 65_536


class _Column(NamedTuple):
    """One column's distinct reference values and how many rows hold each."""

    values: np.ndarray  # ascending, distinct
    counts: np.ndarray  # rows holding each value
    below: np.ndarray  # rows below each value (len(values) + 1 entries)


@dataclass
class MarginalTails:
    """Sorted reference values per column; empty when the model keeps none."""

    sorted_columns: np.ndarray  # (m, d) float32, each column sorted ascending
    _columns: list[_Column] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self._columns = []
        for j in range(self.sorted_columns.shape[1]):
            values, counts = np.unique(self.sorted_columns[:, j], return_counts=True)
            below = np.concatenate([[0], np.cumsum(counts)])
            self._columns.append(_Column(values, counts, below))

    @classmethod
    def fit(cls, reference: np.ndarray) -> MarginalTails:
        """Keep the sorted columns of ``reference`` (normal rows, encoded)."""
        values = np.asarray(reference, dtype=np.float32)
        return cls(np.sort(values, axis=0))

    @classmethod
    def empty(cls, n_columns: int) -> MarginalTails:
        """Return a component that scores every row 0 (models written before it)."""
        return cls(np.zeros((0, n_columns), dtype=np.float32))

    @property
    def n_reference(self) -> int:
        """Number of reference rows."""
        return int(self.sorted_columns.shape[0])

    def surprise(self, encoded: np.ndarray) -> np.ndarray:
        """Per row, the sum over columns of ``-log`` two-sided tail probability.

        Returns
        -------
        ndarray of shape (n,), float64; zeros when there are no reference rows.
        """
        encoded = np.asarray(encoded, dtype=np.float32)
        n = encoded.shape[0]
        m = self.n_reference
        out = np.zeros(n, dtype=np.float64)
        if m == 0 or n == 0:
            return out
        for start in range(0, n, _BLOCK_ROWS):
            # Column-major, so that each column's values are contiguous.
            block = np.asfortranarray(encoded[start : start + _BLOCK_ROWS])
            total = np.zeros(block.shape[0], dtype=np.float64)
            for j, column in enumerate(self._columns):
                value = block[:, j]
                # One binary search over the distinct values: rows strictly
                # below, and (on an exact match) the rows equal to the value.
                at = np.searchsorted(column.values, value, side="left")
                match = np.minimum(at, len(column.values) - 1)
                equal = np.where(column.values[match] == value, column.counts[match], 0)
                below = column.below[at]
                at_or_below, at_or_above = below + equal, m - below
                count = np.maximum(np.minimum(at_or_below, at_or_above), 1)
                share = np.minimum(2.0 * count / (m + 1), 1.0)
                total -= np.log(share)
            out[start : start + block.shape[0]] = total
        return out

    def to_state(self) -> tuple[dict[str, Any], dict[str, Any]]:
        """Arrays and JSON part for the model directory."""
        return (
            {"marginal.sorted_columns": self.sorted_columns},
            {"reference_rows": self.n_reference},
        )

    @classmethod
    def from_state(cls, arrays: dict[str, Any], part: dict[str, Any]) -> MarginalTails:
        """Rebuild from ``to_state`` output."""
        values = np.asarray(arrays["marginal.sorted_columns"], dtype=np.float32)
        if values.ndim != 2 or values.shape[0] != int(part["reference_rows"]):
            msg = "marginal component: stored reference does not match its description"
            raise ValueError(msg)
        if values.shape[0] > 1 and bool(np.any(np.diff(values, axis=0) < 0)):
            msg = "marginal component: stored reference columns are not sorted"
            raise ValueError(msg)
        return cls(values)
