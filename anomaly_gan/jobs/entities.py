"""The entity roll-up of a scoring run: per card, account or host, its rows and alerts.

``EntityRollup`` is fed each scored batch's output table and keeps, per value
of the entity columns (e.g. ``card_id``, ``src_host``): the rows scored, the
rows flagged, the highest score and the mean score, the first and last
flagged time (when a timestamp column is kept) and the feature most often
named first among its flagged rows' reasons. Partial aggregates of batches
merge exactly, so memory grows with the number of entities, not of rows.
``score --entity-cols`` writes it as ``OUT.entities.csv``, most flagged first;
the dashboard's Entities page reads it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pyarrow as pa

from anomaly_gan.data.tables import atomic_write
from anomaly_gan.data.times import utc_times
from anomaly_gan.scoring import columns


@dataclass
class EntityRollup:
    """Per-entity counts of a run (see the module docstring)."""

    entity_cols: list[str]
    timestamp_col: str | None = None
    _parts: list[pd.DataFrame] = field(default_factory=list)
    _reasons: list[pd.DataFrame] = field(default_factory=list)

    def add(self, table: pa.Table) -> None:
        """Fold one scored batch's output table in."""
        if table.num_rows == 0:
            return
        keep = [*self.entity_cols, columns.SCORE, columns.FLAG]
        first = columns.reason("feature", 1)
        if first in table.column_names:
            keep.append(first)
        if self.timestamp_col and self.timestamp_col in table.column_names:
            keep.append(self.timestamp_col)
        frame = table.select(keep).to_pandas()
        for col in self.entity_cols:
            frame[col] = frame[col].astype(str)
        flagged = frame[columns.FLAG] == 1
        groups = frame.groupby(self.entity_cols, sort=False)
        part = groups.agg(
            rows=(columns.SCORE, "size"),
            flagged=(columns.FLAG, "sum"),
            score_sum=(columns.SCORE, "sum"),
            max_score=(columns.SCORE, "max"),
        )
        if self.timestamp_col and self.timestamp_col in frame.columns:
            stamps = utc_times(frame[self.timestamp_col])
            hits = frame.assign(_t=stamps)[flagged]
            times = hits.groupby(self.entity_cols, sort=False)["_t"].agg(["min", "max"])
            part = part.join(
                times.rename(columns={"min": "first_flagged", "max": "last_flagged"})
            )
        self._parts.append(part)
        if first in frame.columns and flagged.any():
            named = frame.loc[flagged, [*self.entity_cols, first]]
            self._reasons.append(
                named.groupby([*self.entity_cols, first], sort=False)
                .size()
                .rename("n")
                .reset_index()
            )

    def frame(self) -> pd.DataFrame:
        """Return the roll-up, most flagged entities first (then the highest score)."""
        if not self._parts:
            return pd.DataFrame(
                columns=[
                    *self.entity_cols,
                    "rows",
                    "flagged",
                    "max_score",
                    "mean_score",
                ]
            )
        parts = pd.concat(self._parts)
        agg = {"rows": "sum", "flagged": "sum", "score_sum": "sum", "max_score": "max"}
        if "first_flagged" in parts.columns:
            agg.update({"first_flagged": "min", "last_flagged": "max"})
        out = parts.groupby(level=list(range(len(self.entity_cols))), sort=False).agg(
            agg
        )
        out["mean_score"] = out.pop("score_sum") / out["rows"]
        out["flagged"] = out["flagged"].astype(int)
        if self._reasons:
            first = columns.reason("feature", 1)
            counts = (
                pd.concat(self._reasons).groupby([*self.entity_cols, first])["n"].sum()
            )
            top = counts.reset_index().sort_values("n", ascending=False)
            top = top.drop_duplicates(self.entity_cols).set_index(self.entity_cols)[
                first
            ]
            out["top_reason"] = top.reindex(out.index)
        out = out.reset_index()
        return out.sort_values(
            ["flagged", "max_score"], ascending=False, ignore_index=True
        )

    def write(self, path: Path) -> int:
        """Write the roll-up as CSV (complete, renamed into place); return its rows."""
        out = self.frame()
        with atomic_write(path) as tmp:
            out.to_csv(tmp, index=False)
        return len(out)


def entities_path(out: Path) -> Path:
    """Where a scoring run's entity roll-up goes: ``OUT.entities.csv``."""
    return out.with_name(out.name + ".entities.csv")
