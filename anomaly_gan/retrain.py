"""The scheduled retraining job: train a challenger, gate it, promote or keep the champion.

One run:

1. takes the retraining lock (a second run at the same time exits at once);
2. reads the fresh data (paths or globs), keeps an optional time window, and
   drops rows labelled anomalous and ids analysts confirmed as fraud;
3. holds out the most recent share of rows (by timestamp, else a seeded random
   share) for the comparison; trains the challenger on the normal rows of the rest,
   with checkpoints, so that a re-run after a kill resumes training;
4. scores champion and challenger on the same holdout and applies the gate:
   with labels of both classes, the challenger's metric (ROC-AUC by default) must
   not fall below the champion's minus ``tolerance``; without, the challenger's
   false-positive rate on the holdout must stay within ``max_fpr``;
5. registers the challenger as a new version and, when it passes, moves the alias
   in the same atomic registry step; writes the run report either way.

A run killed at any point leaves the registry's state as it was (see
``registry``). Exit codes are in ``RetrainOutcome``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import logging
import secrets
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from filelock import FileLock, Timeout

from anomaly_gan.config import DetectorConfig, read_config_file
from anomaly_gan.detector import GANomalyDetector
from anomaly_gan.evaluation import anomaly_labels, evaluate_scores
from anomaly_gan.exceptions import (
    ArtifactError,
    ConfigError,
    LockedError,
    SchemaError,
)
from anomaly_gan.io import expand_sources, read_table
from anomaly_gan.registry import PRODUCTION, ModelRegistry, default_root

logger = logging.getLogger(__name__)

EXIT_PROMOTED = 0
EXIT_KEPT_CHAMPION = 5
EXIT_LOCKED = 6
_GATE_METRICS = ("roc_auc", "average_precision")


@dataclass(frozen=True)
class RetrainConfig:
    """What a retraining run reads from its config file (TOML or YAML).

    See ``docs/retraining.md`` for the file format; keys mirror these fields,
    grouped in the tables ``[data]``, ``[normal]``, ``[holdout]``, ``[gate]`` and
    ``[detector]``.
    """

    paths: tuple[str, ...]
    registry: str | None = None
    alias: str = PRODUCTION
    timestamp_col: str | None = None
    window_days: float | None = None
    label_col: str | None = None
    normal_label: str = "normal"
    confirmed_fraud_ids: str | None = None
    id_col: str | None = None
    holdout_fraction: float = 0.2
    random_state: int = 0
    gate_metric: str = "roc_auc"
    tolerance: float = 0.005
    max_fpr: float = 0.02
    detector: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_file(cls, path: str | Path) -> RetrainConfig:
        """Read and check a TOML (.toml) or YAML (.yaml, .yml) config file."""
        path = Path(path)
        raw = read_config_file(path)
        return cls.from_dict(raw, source=f"config file '{path}'", base=path.parent)

    @classmethod
    def from_dict(
        cls, raw: dict[str, Any], *, source: str = "config", base: Path | None = None
    ) -> RetrainConfig:
        """Build from the nested tables of a config file."""
        if not isinstance(raw, dict):
            msg = f"{source}: expected tables [data], [normal], [holdout], [gate], [detector]"
            raise ConfigError(msg)
        known = {"registry", "alias", "data", "normal", "holdout", "gate", "detector"}
        unknown = sorted(set(raw) - known)
        if unknown:
            msg = f"{source}: unknown key '{unknown[0]}'; expected one of {', '.join(sorted(known))}"
            raise ConfigError(msg)
        data = _table(raw, "data", source, {"paths", "timestamp_col", "window_days"})
        normal = _table(
            raw,
            "normal",
            source,
            {"label_col", "normal_label", "confirmed_fraud_ids", "id_col"},
        )
        holdout = _table(raw, "holdout", source, {"fraction", "random_state"})
        gate = _table(raw, "gate", source, {"metric", "tolerance", "max_fpr"})
        detector = raw.get("detector", {}) or {}
        paths = data.get("paths")
        if isinstance(paths, str):
            paths = [paths]
        if not paths:
            msg = f"{source}: [data] paths: expected one or more paths or glob patterns"
            raise ConfigError(msg)

        def rel(p: str) -> str:
            return (
                str(base / p) if base is not None and not Path(p).is_absolute() else p
            )

        config = cls(
            paths=tuple(rel(str(p)) for p in paths),
            registry=rel(raw["registry"]) if raw.get("registry") else None,
            alias=str(raw.get("alias", PRODUCTION)),
            timestamp_col=data.get("timestamp_col"),
            window_days=data.get("window_days"),
            label_col=normal.get("label_col"),
            normal_label=str(normal.get("normal_label", "normal")),
            confirmed_fraud_ids=rel(normal["confirmed_fraud_ids"])
            if normal.get("confirmed_fraud_ids")
            else None,
            id_col=normal.get("id_col"),
            holdout_fraction=float(holdout.get("fraction", 0.2)),
            random_state=int(holdout.get("random_state", 0)),
            gate_metric=str(gate.get("metric", "roc_auc")),
            tolerance=float(gate.get("tolerance", 0.005)),
            max_fpr=float(gate.get("max_fpr", 0.02)),
            detector=dict(detector),
        )
        config._validate(source)
        return config

    def _validate(self, source: str) -> None:
        if not 0 < self.holdout_fraction < 1:
            msg = f"{source}: [holdout] fraction: expected a number in (0, 1), found {self.holdout_fraction}"
            raise ConfigError(msg)
        if self.gate_metric not in _GATE_METRICS:
            msg = f"{source}: [gate] metric: expected one of {', '.join(_GATE_METRICS)}, found {self.gate_metric!r}"
            raise ConfigError(msg)
        if not 0 < self.max_fpr < 1 or self.tolerance < 0:
            msg = f"{source}: [gate] expected 0 < max_fpr < 1 and tolerance >= 0"
            raise ConfigError(msg)
        if self.window_days is not None and (
            self.timestamp_col is None or self.window_days <= 0
        ):
            msg = f"{source}: [data] window_days: needs timestamp_col and a positive number of days"
            raise ConfigError(msg)
        if self.confirmed_fraud_ids and not self.id_col:
            msg = f"{source}: [normal] confirmed_fraud_ids: needs id_col, the column the ids are in"
            raise ConfigError(msg)
        try:
            DetectorConfig.from_dict(self.detector, source=f"{source}: [detector]")
        except ConfigError as exc:
            if str(exc).startswith(source):
                raise
            msg = f"{source}: [detector] {exc}"
            raise ConfigError(msg) from exc


def _table(
    raw: dict[str, Any], name: str, source: str, keys: set[str]
) -> dict[str, Any]:
    table = raw.get(name, {}) or {}
    if not isinstance(table, dict):
        msg = f"{source}: [{name}]: expected a table"
        raise ConfigError(msg)
    unknown = sorted(set(table) - keys)
    if unknown:
        msg = f"{source}: [{name}] unknown key '{unknown[0]}'; expected one of {', '.join(sorted(keys))}"
        raise ConfigError(msg)
    return table


@dataclass
class RetrainOutcome:
    """The run report; ``exit_code`` is 0 promoted, 5 champion kept."""

    run_id: str
    started_at: str
    finished_at: str = ""
    decision: str = ""
    reason: str = ""
    promoted: bool = False
    version: int | None = None
    champion_version: int | None = None
    alias: str = PRODUCTION
    rows: dict[str, int] = field(default_factory=dict)
    gate: dict[str, Any] = field(default_factory=dict)
    champion: dict[str, Any] | None = None
    challenger: dict[str, Any] | None = None
    seconds: float = 0.0

    @property
    def exit_code(self) -> int:
        """0 when the challenger was promoted, 5 when the champion was kept."""
        return EXIT_PROMOTED if self.promoted else EXIT_KEPT_CHAMPION

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict."""
        return dataclasses.asdict(self)


def run_retrain(
    config: RetrainConfig, *, registry: str | Path | None = None, verbose: int = 0
) -> RetrainOutcome:
    """Run one retraining job (see the module docstring)."""
    root = default_root(registry or config.registry)
    root.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(root / "retrain.lock"), timeout=0)
    try:
        lock.acquire()
    except Timeout as exc:
        msg = (
            f"registry '{root}': another retraining run holds the lock; try again later"
        )
        raise LockedError(msg) from exc
    try:
        return _run(config, ModelRegistry(root), verbose)
    finally:
        lock.release()


def _run(config: RetrainConfig, reg: ModelRegistry, verbose: int) -> RetrainOutcome:
    started = time.perf_counter()
    stamp = dt.datetime.now(dt.timezone.utc)
    outcome = RetrainOutcome(
        run_id=f"{stamp:%Y%m%dT%H%M%SZ}-{secrets.token_hex(3)}",
        started_at=stamp.isoformat(timespec="seconds"),
        alias=config.alias,
    )
    frame = _load(config, outcome)
    train, holdout = _split(config, frame)
    labels = (
        anomaly_labels(holdout[config.label_col], config.label_col, config.normal_label)
        if config.label_col
        else None
    )
    train_labels = (
        anomaly_labels(train[config.label_col], config.label_col, config.normal_label)
        if config.label_col
        else np.zeros(len(train), np.int8)
    )
    normal = train[train_labels == 0]
    outcome.rows.update({"train_normal": len(normal), "holdout": len(holdout)})
    if labels is not None:
        outcome.rows["holdout_anomalies"] = int(labels.sum())
    logger.info(
        "training the challenger on %d normal rows; holdout %d rows",
        len(normal),
        len(holdout),
    )

    challenger = _train(config, reg, normal, verbose)
    aliases = reg.aliases()
    champion_version = aliases.get(config.alias)
    outcome.champion_version = champion_version
    outcome.challenger = _assess(challenger, holdout, labels)
    if champion_version is not None:
        try:
            champion = GANomalyDetector.load(reg.model_path(champion_version))
            outcome.champion = _assess(champion, holdout, labels)
        except (SchemaError, ArtifactError) as exc:
            outcome.champion = {"error": str(exc)}
    outcome.promoted, outcome.reason, outcome.gate = _gate(
        config, outcome.champion, outcome.challenger, labels
    )
    outcome.decision = "promote" if outcome.promoted else "keep champion"

    with tempfile.TemporaryDirectory(prefix=".challenger-", dir=reg.root) as tmp:
        model_dir = challenger.save(Path(tmp) / "model")
        outcome.version = reg.register(
            model_dir,
            evaluation=outcome.challenger,
            note=f"retrain run {outcome.run_id}: {outcome.decision}",
            run_id=outcome.run_id,
            promote_to=config.alias if outcome.promoted else None,
        )
    shutil.rmtree(_checkpoint_dir(reg), ignore_errors=True)
    outcome.finished_at = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
    outcome.seconds = time.perf_counter() - started
    reg.write_run_report(outcome.run_id, outcome.to_dict())
    return outcome


def _load(config: RetrainConfig, outcome: RetrainOutcome) -> pd.DataFrame:
    frames = [read_table(path) for path in expand_sources(list(config.paths))]
    frame = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
    outcome.rows["read"] = len(frame)
    for name in (config.timestamp_col, config.label_col):
        if name and name not in frame.columns:
            msg = f"column '{name}' (named in the retrain config): not found in the fresh data"
            raise SchemaError(msg)
    if config.timestamp_col:
        stamps = pd.to_datetime(frame[config.timestamp_col], errors="coerce", utc=True)
        if stamps.isna().any():
            row = int(np.flatnonzero(stamps.isna().to_numpy())[0]) + 1
            msg = f"column '{config.timestamp_col}' (row {row}): expected a timestamp, found {frame[config.timestamp_col].iloc[row - 1]!r}"
            raise SchemaError(msg)
        frame = frame.assign(**{"__ts": stamps})
        if config.window_days is not None:
            start = stamps.max() - pd.Timedelta(days=config.window_days)
            frame = frame[frame["__ts"] > start]
        outcome.rows["in_window"] = len(frame)
    if config.confirmed_fraud_ids:
        assert config.id_col is not None
        if config.id_col not in frame.columns:
            msg = f"column '{config.id_col}' (named by id_col): not found in the fresh data"
            raise SchemaError(msg)
        confirmed = read_table(config.confirmed_fraud_ids)
        column = (
            config.id_col
            if config.id_col in confirmed.columns
            else confirmed.columns[0]
        )
        ids = set(confirmed[column].astype(str))
        mask = frame[config.id_col].astype(str).isin(ids)
        outcome.rows["confirmed_fraud_excluded"] = int(mask.sum())
        frame = frame[~mask]
    if len(frame) < 20:
        msg = f"fresh data: expected at least 20 rows after the window and exclusions, found {len(frame)}"
        raise SchemaError(msg)
    return frame.reset_index(drop=True)


def _split(
    config: RetrainConfig, frame: pd.DataFrame
) -> tuple[pd.DataFrame, pd.DataFrame]:
    n_holdout = max(1, round(config.holdout_fraction * len(frame)))
    if "__ts" in frame.columns:
        order = np.argsort(frame["__ts"].to_numpy(), kind="stable")
        frame = frame.drop(columns="__ts")
    else:
        order = np.random.default_rng(config.random_state).permutation(len(frame))
    hold = np.sort(order[-n_holdout:])
    train = np.sort(order[:-n_holdout])
    return frame.iloc[train].reset_index(drop=True), frame.iloc[hold].reset_index(
        drop=True
    )


def _checkpoint_dir(reg: ModelRegistry) -> Path:
    return reg.root / ".retrain-checkpoints"


def _train(
    config: RetrainConfig, reg: ModelRegistry, normal: pd.DataFrame, verbose: int
) -> GANomalyDetector:
    params = {
        "random_state": config.random_state,
        **config.detector,
        "verbose": verbose,
    }
    if config.label_col:
        params.setdefault("label_col", config.label_col)
    det = GANomalyDetector(**params, checkpoint_dir=_checkpoint_dir(reg))
    try:
        return det.fit(normal, resume=True)
    except ArtifactError as exc:  # a checkpoint of other data: start over
        logger.info("not resuming: %s", exc)
        shutil.rmtree(_checkpoint_dir(reg), ignore_errors=True)
        return det.fit(normal)


def _assess(
    det: GANomalyDetector, holdout: pd.DataFrame, labels: np.ndarray | None
) -> dict[str, Any]:
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter(
            "ignore", UserWarning
        )  # unseen categories are expected in fresh data
        scores = det.decision_function(holdout)
    if labels is None:
        flagged = scores > det.threshold_
        return {
            "false_positive_rate": float(flagged.mean()),
            "n_rows": len(scores),
            "threshold": float(det.threshold_),
        }
    return evaluate_scores(scores, labels, det.threshold_).to_dict()


def _gate(
    config: RetrainConfig,
    champion: dict[str, Any] | None,
    challenger: dict[str, Any],
    labels: np.ndarray | None,
) -> tuple[bool, str, dict[str, Any]]:
    labelled = labels is not None and 0 < int(labels.sum()) < len(labels)
    if labelled:
        metric = config.gate_metric
        rule = {
            "rule": f"{metric} >= champion's - {config.tolerance}",
            "metric": metric,
            "tolerance": config.tolerance,
        }
        new = challenger.get(metric)
        if champion is None or "error" in champion or champion.get(metric) is None:
            why = (
                "no champion"
                if champion is None
                else "the champion cannot score this data"
            )
            return (
                True,
                f"{why}; challenger {metric} {new:.4f}",
                {**rule, "challenger": new},
            )
        old = champion[metric]
        passed = new >= old - config.tolerance
        verdict = "not lower than" if passed else "lower than"
        return (
            passed,
            f"challenger {metric} {new:.4f} is {verdict} champion's {old:.4f} minus {config.tolerance}",
            {**rule, "challenger": new, "champion": old},
        )
    rule = {
        "rule": f"false_positive_rate <= {config.max_fpr} on the holdout (no labels of both classes)",
        "max_fpr": config.max_fpr,
    }
    fpr = challenger["false_positive_rate"]
    passed = fpr <= config.max_fpr
    verdict = "within" if passed else "above"
    return (
        passed,
        f"challenger false-positive rate {fpr:.4f} on the holdout is {verdict} the bound {config.max_fpr}",
        {**rule, "challenger": fpr},
    )


def outcome_text(outcome: RetrainOutcome) -> str:
    """Return the run's result as a few lines for a terminal or a log."""
    lines = [
        f"run {outcome.run_id}: {outcome.decision} ({outcome.reason})",
        f"challenger registered as version {outcome.version}"
        + (
            f"; '{outcome.alias}' now points at it"
            if outcome.promoted
            else f"; '{outcome.alias}' stays at version {outcome.champion_version}"
        ),
        f"rows: {json.dumps(outcome.rows)}",
    ]
    return "\n".join(lines)
