"""Cached loaders shared by the dashboard's pages; only public anomaly_gan names.

Configuration comes from the environment (set by `anomaly-gan dashboard`):
ANOMALY_GAN_SCORES_DIR, ANOMALY_GAN_REGISTRY, ANOMALY_GAN_VERDICTS. Files are
only opened inside the configured scores folder.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import streamlit as st

from anomaly_gan.data.scored_meta import read_meta
from anomaly_gan.data.times import utc_times
from anomaly_gan.stores.registry import ModelRegistry, default_root
from anomaly_gan.stores.verdicts import VerdictStore

SCORE_COLUMNS = (
    "anomaly_score",
    "is_anomaly",
    "score_recon",
    "score_latent",
    "score_disc",
    "score_knn",
    "score_marginal",
)
COMPONENT_COLUMNS = (
    "score_recon",
    "score_latent",
    "score_disc",
    "score_knn",
    "score_marginal",
)
UNREVIEWED = "unreviewed"
MAX_FILTER_VALUES = 50  # a column with more distinct values is not offered as a filter


def scores_dir() -> Path:
    """The folder scored files are read from (and only from)."""
    return Path(os.environ.get("ANOMALY_GAN_SCORES_DIR", "outputs")).resolve()


# What a scoring run writes beside its output: not batches of scored rows.
SIDE_FILES = (".rejected.csv", ".entities.csv")


def score_files() -> list[Path]:
    """Scored CSV/Parquet files in the scores folder, newest first.

    A folder of ``part-*.parquet`` files (``score --engine dask``) is one batch;
    the rejection file and entity roll-up beside an output are not batches.
    """
    folder = scores_dir()
    if not folder.is_dir():
        return []
    files = [
        p
        for p in folder.iterdir()
        if not p.name.startswith(".")
        and (
            (p.suffix in (".csv", ".parquet") and not p.name.endswith(SIDE_FILES))
            or (p.is_dir() and any(p.glob("part-*.parquet")))
        )
    ]
    return sorted(files, key=lambda p: p.stat().st_mtime, reverse=True)


def drift_reports() -> list[tuple[Path, dict[str, Any]]]:
    """Drift reports of the scored files (``OUT.drift.json``), oldest first.

    Each is what ``anomaly-gan score`` wrote beside its output; unreadable ones
    are skipped.
    """
    out = []
    for scored in reversed(score_files()):
        path = scored.with_name(scored.name + ".drift.json")
        if path.is_file():
            report = _drift_report(str(path), path.stat().st_mtime)
            if report is not None:
                out.append((scored, report))
    return out


@st.cache_data(show_spinner=False)
def _drift_report(path: str, mtime: float) -> dict[str, Any] | None:
    try:
        report = json.loads(Path(path).read_text())
    except (OSError, ValueError):
        return None
    return report if isinstance(report, dict) and "features" in report else None


def confined(path: Path) -> Path:
    """Refuse a path outside the scores folder."""
    resolved = path.resolve()
    if scores_dir() not in resolved.parents:
        msg = f"file '{path.name}': outside the configured scores folder '{scores_dir().name}'"
        raise PermissionError(msg)
    return resolved


@st.cache_data(max_entries=8, show_spinner="Loading scores...")
def load_scores(path: str, mtime: float) -> pd.DataFrame:
    """A scored file, with its id column first (cached per file version)."""
    file = confined(Path(path))
    frame = (
        pd.read_parquet(file)
        if file.suffix == ".parquet" or file.is_dir()
        else pd.read_csv(file, keep_default_na=False, na_values=[""])
    )
    if "anomaly_score" not in frame.columns or "is_anomaly" not in frame.columns:
        msg = f"file '{file.name}': not a scored file (expected anomaly_score and is_anomaly columns)"
        raise ValueError(msg)
    return frame


@st.cache_data(show_spinner=False)
def _scored_meta(path: str, mtime: float) -> dict[str, Any] | None:
    return read_meta(confined(Path(path)))


def batch_threshold(path: Path, frame: pd.DataFrame) -> tuple[float | None, str]:
    """The threshold the batch was scored at, and a line saying where it comes from.

    Files scored since 0.5 record it (``anomaly_gan.data.scored_meta``); for older
    files it is not known: the lowest flagged score stands in when something is
    flagged, else there is none (None).
    """
    meta = _scored_meta(str(path), path.stat().st_mtime)
    if meta is not None and meta.get("threshold") is not None:
        rate = meta.get("target_fpr")
        version = meta.get("model_version")
        source = str(meta.get("threshold_source", "model"))
        how = {
            "model": "the model's own",
            "registry operating point": "the registry's operating point",
        }.get(source, f"given by {source}")
        details = [how]
        if rate is not None:
            details.append(f"target false-positive rate {rate:g}")
        details.append(
            f"model {meta.get('model', '?')}"
            + (f" version {version}" if version is not None else "")
        )
        return float(meta["threshold"]), (
            f"threshold {float(meta['threshold']):.4f} ({'; '.join(details)})"
        )
    flagged = frame.loc[frame["is_anomaly"] == 1, "anomaly_score"]
    if len(flagged):
        return float(flagged.min()), (
            "the file records no threshold (scored before 0.5): the lowest "
            "flagged score stands in for it"
        )
    return None, "the file records no threshold (scored before 0.5) and flags nothing"


TIME_COLUMNS = ("timestamp", "time", "event_time", "ts")


def time_columns(frame: pd.DataFrame) -> list[str]:
    """Columns that hold the events' times, by their usual names."""
    return [c for c in frame.columns if str(c).lower() in TIME_COLUMNS]


def event_times(values: pd.Series) -> pd.Series:
    """Event times as UTC datetimes: numbers are seconds since the epoch (Zeek's ts)."""
    return utc_times(values)


def event_label(row: pd.Series, column: str) -> str:
    """One line naming an event: id, score, time and top reason."""
    parts = [str(row[column]), f"score {float(row['anomaly_score']):.2f}"]
    parts += [str(row[c]) for c in time_columns(row.to_frame().T)]
    if "feature_1" in row.index and pd.notna(row["feature_1"]):
        parts.append(f"top reason {row['feature_1']}")
    return " · ".join(parts)


def id_column(frame: pd.DataFrame) -> str | None:
    """The event id column: the first column, when it is not a score column."""
    first = str(frame.columns[0])
    return None if first in SCORE_COLUMNS else first


def verdict_store() -> VerdictStore:
    """The verdict store (created on first use)."""
    return _store(
        str(Path(os.environ.get("ANOMALY_GAN_VERDICTS", "verdicts.db")).resolve())
    )


@st.cache_resource
def _store(path: str) -> VerdictStore:
    return VerdictStore(path)


def registry() -> ModelRegistry:
    """The model registry."""
    return ModelRegistry(default_root(os.environ.get("ANOMALY_GAN_REGISTRY")))


def upload_limit_mb() -> int:
    """Largest upload accepted, in MB (``anomaly-gan dashboard --max-upload-mb``)."""
    return int(os.environ.get("ANOMALY_GAN_MAX_UPLOAD_MB", "200"))


def save_upload(name: str, data: bytes) -> Path:
    """Validate an uploaded scored file and add it to the scores folder (atomic).

    Raises ValueError with a one-line reason: too large, bad name or suffix, an
    existing file of that name, unreadable, or not a scored file.
    """
    if len(data) > upload_limit_mb() * 2**20:
        msg = f"file '{name}': {len(data) / 2**20:.1f} MB is over the {upload_limit_mb()} MB upload limit"
        raise ValueError(msg)
    clean = re.sub(r"[^A-Za-z0-9._-]", "_", Path(name).name).lstrip(".")
    if Path(clean).suffix not in (".csv", ".parquet"):
        msg = f"file '{name}': expected a .csv or .parquet scored file"
        raise ValueError(msg)
    target = scores_dir() / clean
    if target.exists():
        msg = f"file '{clean}': a scored file of that name exists already; rename the upload"
        raise ValueError(msg)
    partial = scores_dir() / f".{clean}.upload"
    partial.write_bytes(data)
    try:
        _check_scored(partial, Path(clean).suffix)
    except ValueError:
        partial.unlink(missing_ok=True)
        raise
    partial.rename(target)
    return target


def _check_scored(path: Path, suffix: str) -> None:
    shown = path.name[1 : -len(".upload")]
    try:
        frame = (
            pd.read_parquet(path)
            if suffix == ".parquet"
            else pd.read_csv(path, keep_default_na=False, na_values=[""])
        )
    except Exception as exc:  # any parser error is the upload's fault
        msg = f"file '{shown}': cannot be read as {suffix[1:]} ({exc.__class__.__name__}: {str(exc).splitlines()[0] if str(exc) else ''})"
        raise ValueError(msg) from exc
    missing = [c for c in ("anomaly_score", "is_anomaly") if c not in frame.columns]
    if missing:
        msg = f"file '{shown}': not a scored file (missing column {', '.join(missing)})"
        raise ValueError(msg)
    score = pd.to_numeric(frame["anomaly_score"], errors="coerce")
    if score.isna().any():
        row = int(np.flatnonzero(score.isna().to_numpy())[0]) + 2
        msg = f"file '{shown}': row {row}, column anomaly_score: expected a number"
        raise ValueError(msg)


def choose_batch() -> tuple[Path, pd.DataFrame] | None:
    """Sidebar picker of a scored file; None (with a hint) when there is none."""
    _upload_widget()
    files = score_files()
    if not files:
        # The folder's name only: a server path is nothing for a browser to see.
        st.info(
            f"No scored files in the scores folder '{scores_dir().name}'. Score a "
            "file with `anomaly-gan score --model MODEL --data FILE --out "
            f"{scores_dir().name}/batch.csv`, or start the dashboard with `--scores DIR`."
        )
        return None
    names = [p.name for p in files]
    name = st.sidebar.selectbox("Scored batch", names, key="batch") or names[0]
    path = files[names.index(name)]
    return path, load_scores(str(path), path.stat().st_mtime)


def batch_id(path: Path, frame: pd.DataFrame) -> int | None:
    """The verdict store's id of this batch, registering it on first use."""
    column = id_column(frame)
    if column is None:
        return None
    store = verdict_store()
    known = store.batches()
    match = known[known["source"] == str(path)] if len(known) else known
    if len(match):
        return int(match["id"].iloc[0])
    return store.add_batch(path.name, frame, id_col=column, source=str(path))


def _upload_widget() -> None:
    upload = st.sidebar.file_uploader(
        f"Add a scored file (up to {upload_limit_mb()} MB)",
        type=["csv", "parquet"],
        key="upload",
    )
    if upload is None or st.session_state.get("uploaded") == upload.file_id:
        return
    try:
        saved = save_upload(upload.name, upload.getvalue())
    except ValueError as exc:
        st.sidebar.error(str(exc))
        return
    st.session_state["uploaded"] = upload.file_id
    st.sidebar.success(f"Added {saved.name}.")


def verdict_column(batch: int | None, frame: pd.DataFrame) -> pd.Series:
    """Each row's verdict in this batch (``unreviewed`` when none), aligned to frame."""
    column = id_column(frame)
    if batch is None or column is None:
        return pd.Series(UNREVIEWED, index=frame.index)
    verdicts = verdict_store().verdicts(batch)
    lookup = dict(
        zip(verdicts["event_id"].astype(str), verdicts["verdict"], strict=True)
    )
    ids = frame[column].astype(str)
    return pd.Series([lookup.get(i, UNREVIEWED) for i in ids], index=frame.index)


def filter_columns(frame: pd.DataFrame) -> list[str]:
    """Kept columns with few distinct text values: offered as category filters."""
    skip = {id_column(frame), *SCORE_COLUMNS}
    out = []
    for name in frame.columns:
        if name in skip or re.fullmatch(r"(feature|share|value|expected)_\d+", name):
            continue
        column = frame[name]
        text = column.dtype == object or isinstance(column.dtype, pd.StringDtype)
        if text and column.nunique(dropna=True) <= MAX_FILTER_VALUES:
            out.append(str(name))
    return out


def similar_reviewed(
    row: pd.Series, frame: pd.DataFrame, batch: int | None, n: int = 5
) -> pd.DataFrame:
    """Reviewed events of this batch nearest to ``row`` by score components.

    Distance is Euclidean over ``anomaly_score`` and the normalised components,
    so events flagged for the same reasons come first; the event itself is left out.
    """
    column = id_column(frame)
    if batch is None or column is None:
        return pd.DataFrame()
    verdicts = verdict_store().verdicts(batch)
    if verdicts.empty:
        return pd.DataFrame()
    reviewed = frame[frame[column].astype(str).isin(verdicts["event_id"].astype(str))]
    reviewed = reviewed[reviewed[column].astype(str) != str(row[column])]
    if reviewed.empty:
        return pd.DataFrame()
    dims = [c for c in ("anomaly_score", *COMPONENT_COLUMNS) if c in frame.columns]
    target = row[dims].to_numpy(float)
    distance = np.sqrt(((reviewed[dims].to_numpy(float) - target) ** 2).sum(axis=1))
    nearest = reviewed.assign(distance=distance).nsmallest(n, "distance")
    info = verdicts.assign(event_id=verdicts["event_id"].astype(str))[
        ["event_id", "verdict", "note", "analyst"]
    ]
    keep = [column, "anomaly_score", "distance"]
    if "feature_1" in frame.columns:
        keep.append("feature_1")
    out = nearest[keep].assign(event_id=nearest[column].astype(str))
    return out.merge(info, on="event_id", how="left").drop(columns="event_id")


def image_file(scored: Path, name: str) -> Path | None:
    """A heat-map PNG named in a scored file, if it lies inside the scores folder."""
    candidate = Path(name)
    if not candidate.is_absolute():
        candidate = scored.parent / candidate
    try:
        resolved = confined(candidate)
    except PermissionError:
        return None
    return resolved if resolved.is_file() and resolved.suffix == ".png" else None
