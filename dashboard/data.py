"""Cached loaders shared by the dashboard's pages; only public anomaly_gan names.

Configuration comes from the environment (set by `anomaly-gan dashboard`):
ANOMALY_GAN_SCORES_DIR, ANOMALY_GAN_REGISTRY, ANOMALY_GAN_VERDICTS. Files are
only opened inside the configured scores folder.
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import streamlit as st

from anomaly_gan.registry import ModelRegistry, default_root
from anomaly_gan.verdicts import VerdictStore

SCORE_COLUMNS = (
    "anomaly_score",
    "is_anomaly",
    "score_recon",
    "score_latent",
    "score_disc",
    "score_knn",
)


def scores_dir() -> Path:
    """The folder scored files are read from (and only from)."""
    return Path(os.environ.get("ANOMALY_GAN_SCORES_DIR", "outputs")).resolve()


def score_files() -> list[Path]:
    """Scored CSV/Parquet files in the scores folder, newest first."""
    folder = scores_dir()
    if not folder.is_dir():
        return []
    files = [
        p
        for p in folder.iterdir()
        if p.suffix in (".csv", ".parquet") and not p.name.endswith(".rejected.csv")
    ]
    return sorted(files, key=lambda p: p.stat().st_mtime, reverse=True)


def confined(path: Path) -> Path:
    """Refuse a path outside the scores folder."""
    resolved = path.resolve()
    if scores_dir() not in resolved.parents:
        msg = f"file '{path}': outside the configured scores folder {scores_dir()}"
        raise PermissionError(msg)
    return resolved


@st.cache_data(max_entries=8, show_spinner="Loading scores...")
def load_scores(path: str, mtime: float) -> pd.DataFrame:
    """A scored file, with its id column first (cached per file version)."""
    file = confined(Path(path))
    frame = (
        pd.read_parquet(file)
        if file.suffix == ".parquet"
        else pd.read_csv(file, keep_default_na=False, na_values=[""])
    )
    if "anomaly_score" not in frame.columns or "is_anomaly" not in frame.columns:
        msg = f"file '{file.name}': not a scored file (expected anomaly_score and is_anomaly columns)"
        raise ValueError(msg)
    return frame


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


def choose_batch() -> tuple[Path, pd.DataFrame] | None:
    """Sidebar picker of a scored file; None (with a hint) when there is none."""
    files = score_files()
    if not files:
        st.info(
            f"No scored files in {scores_dir()}. Score a file with "
            "`anomaly-gan score --model MODEL --data FILE --out "
            f"{scores_dir()}/batch.csv`, or start the dashboard with `--scores DIR`."
        )
        return None
    names = [p.name for p in files]
    name = st.sidebar.selectbox("Scored batch", names, key="batch")
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
