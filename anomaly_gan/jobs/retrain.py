"""The scheduled retraining job: train a challenger, gate it, promote or keep the champion.

One run:

1. takes the retraining lock (a second run at the same time exits at once);
2. reads the fresh data (paths or globs), keeps an optional time window, and
   drops rows labelled anomalous and ids analysts confirmed as fraud;
3. holds out the most recent share of rows (by timestamp, else a seeded random
   share) for the comparison;
4. scores the rest with the champion: the rows it flags are held back, not
   learned from ("don't learn what production flags"; fresh traffic holds fraud
   nobody has labelled yet), unless analysts confirmed them benign or they
   stand alone (most of their nearest rows are not alerts); at most
   ``max_held_back`` of the rows, the champion's highest scores first, so that
   a new behaviour that has become common is still learned;
5. trains a model on the rest; the held-back rows that this model of the fresh
   data does not flag (the champion's own false positives, a behaviour that
   has become common) go back into training, and the challenger is trained
   again; with checkpoints, so that a re-run after a kill resumes training;
6. scores champion and challenger on the same holdout and applies the gate:
   with labels of both classes, the challenger's metric (ROC-AUC by default) must
   not fall below the champion's minus ``tolerance``; without, three checks: the
   challenger's false-positive rate on the holdout within ``max_fpr``, the share
   of the champion's alerts it keeps (alert retention) and the rank agreement of
   their scores, each against its bound;
7. registers the challenger as a new version and, when it passes, moves the alias
   in the same atomic registry step; writes the run report either way, saying
   which check decided and how many rows were held back and why.

A run killed at any point leaves the registry's state as it was (see
``registry``). Exit codes are in ``RetrainOutcome``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
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

from anomaly_gan.data.tables import expand_sources, frame_fingerprint, read_table
from anomaly_gan.data.times import utc_times
from anomaly_gan.detectors.tabular import GANomalyDetector
from anomaly_gan.exceptions import (
    ArtifactError,
    LockedError,
    SchemaError,
)
from anomaly_gan.features.connections import (
    DERIVED,
    derive_frame,
    is_connection_table,
    network_roles,
)
from anomaly_gan.jobs.alert_groups import isolated_alerts
from anomaly_gan.jobs.retrain_config import RetrainConfig
from anomaly_gan.jobs.retrain_gate import (
    apply_gate,
    assess_scores,
    benign_check,
    score_agreement,
    verdict_check,
)
from anomaly_gan.jobs.retrain_trigger import drift_trigger
from anomaly_gan.jobs.suppression import matched_rule
from anomaly_gan.scoring.metrics import anomaly_labels
from anomaly_gan.scoring.scorer import threshold_with_held_back
from anomaly_gan.stores.registry import PRODUCTION, ModelRegistry, default_root
from anomaly_gan.stores.verdicts import VerdictStore

logger = logging.getLogger(__name__)

EXIT_PROMOTED = 0
EXIT_KEPT_CHAMPION = 5
EXIT_LOCKED = 6


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
    data_fingerprint: str = ""
    seconds: float = 0.0
    drift: dict[str, Any] | None = None
    threshold: dict[str, Any] | None = None

    @property
    def exit_code(self) -> int:
        """0 when the challenger was promoted, 5 when the champion was kept."""
        return EXIT_PROMOTED if self.promoted else EXIT_KEPT_CHAMPION

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict."""
        return dataclasses.asdict(self)


def run_retrain(
    config: RetrainConfig,
    *,
    registry: str | Path | None = None,
    verbose: int = 0,
    actor: str | None = None,
    force: bool = False,
) -> RetrainOutcome:
    """Run one retraining job (see the module docstring).

    ``actor`` is who the registry history records (default: the OS user).
    A run on data that a registered version was already trained on, with the
    same settings, is skipped (decision "skip", exit code 5) unless ``force``.
    """
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
        return _run(config, ModelRegistry(root), verbose, actor, force)
    finally:
        lock.release()


def _run(
    config: RetrainConfig,
    reg: ModelRegistry,
    verbose: int,
    actor: str | None,
    force: bool,
) -> RetrainOutcome:
    started = time.perf_counter()
    stamp = dt.datetime.now(dt.timezone.utc)
    outcome = RetrainOutcome(
        run_id=f"{stamp:%Y%m%dT%H%M%SZ}-{secrets.token_hex(3)}",
        started_at=stamp.isoformat(
            timespec="microseconds"
        ),  # runs can start within a second
        alias=config.alias,
    )
    frame, fraud = _load(config, outcome)
    outcome.data_fingerprint = _data_fingerprint(config, frame)
    seen = [
        v["version"]
        for v in reg.versions()
        if v.get("data_fingerprint") == outcome.data_fingerprint
    ]
    if seen and not force:
        outcome.decision = "skip"
        outcome.reason = (
            f"no new data: version {seen[-1]} was trained on exactly this data with "
            "these settings by an earlier run (--force retrains anyway)"
        )
        outcome.champion_version = reg.aliases().get(config.alias)
        return _finish(outcome, reg, started)
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
    normal = train[train_labels == 0].reset_index(drop=True)
    if config.suppressions_db:  # benign patterns analysts marked: not learned
        rules = VerdictStore(config.suppressions_db).suppressions()
        covered = matched_rule(normal, rules) != ""
        outcome.rows["suppressed_not_learned"] = int(covered.sum())
        normal = normal[~covered].reset_index(drop=True)
    outcome.rows.update({"train_normal": len(normal), "holdout": len(holdout)})
    if labels is not None:
        outcome.rows["holdout_anomalies"] = int(labels.sum())
    champion_version = reg.aliases().get(config.alias)
    outcome.champion_version = champion_version
    champion, champion_cut, champion_error = _load_champion(
        config, reg, champion_version
    )
    if config.when_drift and champion is not None and not force:
        outcome.drift = drift_trigger(config, champion, champion_cut, frame)
        if not outcome.drift["triggered"]:
            outcome.decision = "skip"
            outcome.reason = (
                "no drift above the trigger's bounds: no feature drifted and the "
                "champion's flag rate is within "
                f"{config.trigger_flag_ratio:g}x its calibration rows' (--force "
                "retrains anyway)"
            )
            return _finish(outcome, reg, started)
    learn = _hold_back(config, champion, champion_cut, normal, outcome)
    challenger = _train(
        config, reg, normal if learn is None else normal[learn], verbose
    )
    if learn is not None and not learn.all():
        challenger = _restore(config, reg, normal, learn, challenger, outcome, verbose)
        if not config.learn_isolated_alerts:
            _recalibrate(challenger, normal, learn, outcome)
    outcome.rows["learned"] = len(normal) if learn is None else int(learn.sum())
    challenger_scores = _scores(challenger, holdout)
    outcome.challenger = assess_scores(challenger_scores, challenger.threshold_, labels)
    agreement: dict[str, Any] | None = None
    if champion is not None:
        try:
            champion_scores = _scores(champion, holdout)
        except SchemaError as exc:
            outcome.champion = {"error": str(exc)}
        else:
            outcome.champion = assess_scores(champion_scores, champion_cut, labels)
            agreement = score_agreement(
                champion_scores,
                champion_cut,
                challenger_scores,
                challenger.threshold_,
                config.max_held_back,
            )
            # The champion's alerts in the window that the job learned after
            # all (given back, confirmed benign, over the cap): a new normal.
            flagged = outcome.rows.get("flagged_by_champion", 0)
            if flagged:
                held = outcome.rows.get("held_back", 0)
                agreement["explained_share"] = 1.0 - held / flagged
    elif champion_error:
        outcome.champion = {"error": champion_error}
    outcome.promoted, outcome.reason, outcome.gate = apply_gate(
        config, outcome.champion, outcome.challenger, labels, agreement
    )
    benign = (
        holdout[_id_mask(config, holdout, config.confirmed_benign_ids)]
        if config.confirmed_benign_ids
        else None
    )
    for key, check in (
        ("verdicts", verdict_check(config, champion, champion_cut, challenger, fraud)),
        (
            "verdicts_benign",
            benign_check(config, champion, champion_cut, challenger, benign),
        ),
    ):
        if check is None:
            continue
        outcome.gate[key] = {k: v for k, v in check.items() if k != "text"}
        if not check["passed"]:
            outcome.reason = check["text"] + "; " + outcome.reason
            if outcome.promoted:
                outcome.promoted = False
                outcome.gate["decided_by"] = check["check"]
    outcome.decision = "promote" if outcome.promoted else "keep champion"

    with tempfile.TemporaryDirectory(prefix=".challenger-", dir=reg.root) as tmp:
        model_dir = challenger.save(Path(tmp) / "model")
        outcome.version = reg.register(
            model_dir,
            evaluation=outcome.challenger,
            note=f"retrain run {outcome.run_id}: {outcome.decision}",
            run_id=outcome.run_id,
            promote_to=config.alias if outcome.promoted else None,
            user=actor,
            data_fingerprint=outcome.data_fingerprint,
        )
    shutil.rmtree(_checkpoint_dir(reg), ignore_errors=True)
    return _finish(outcome, reg, started)


def _data_fingerprint(config: RetrainConfig, frame: pd.DataFrame) -> str:
    """Identify a run's input: the rows read and every setting but the paths."""
    settings = {
        k: v
        for k, v in dataclasses.asdict(config).items()
        if k not in ("paths", "registry")
    }
    blob = frame_fingerprint(frame) + json.dumps(settings, sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()


def _finish(
    outcome: RetrainOutcome, reg: ModelRegistry, started: float
) -> RetrainOutcome:
    """Stamp the end of the run and write its report."""
    outcome.finished_at = dt.datetime.now(dt.timezone.utc).isoformat(
        timespec="microseconds"
    )
    outcome.seconds = time.perf_counter() - started
    reg.write_run_report(outcome.run_id, outcome.to_dict())
    if outcome.version is not None:
        reg.write_card(outcome.version)  # now with the gate's result
    return outcome


def _load_champion(
    config: RetrainConfig, reg: ModelRegistry, version: int | None
) -> tuple[GANomalyDetector | None, float, str]:
    """Return the model in service, its operating threshold, or why it is unusable."""
    if version is None:
        return None, float("inf"), ""
    try:
        champion = GANomalyDetector.load(reg.model_path(version))
    except ArtifactError as exc:
        return None, float("inf"), str(exc)
    point = reg.operating_point(config.alias)
    cut = float(point["threshold"]) if point is not None else champion.threshold_
    return champion, cut, ""


def _hold_back(
    config: RetrainConfig,
    champion: GANomalyDetector | None,
    cut: float,
    normal: pd.DataFrame,
    outcome: RetrainOutcome,
) -> np.ndarray | None:
    """Which training rows the challenger learns from (None: all).

    The rows the champion flags are held back, unless analysts confirmed them
    benign or they stand alone among the window's rows (most of their nearest
    rows are not alerts: the tail of normal traffic, ``alert_groups``); at most
    ``max_held_back`` of the rows, the highest champion scores first. Held-back rows neither train nor calibrate the challenger: its
    threshold is set on the rows it learns from. ``_restore`` then gives back
    those a model of the fresh data finds normal. The counts go into the run
    report.
    """
    if not config.hold_back_flagged or champion is None:
        return None
    try:
        scores = _scores(champion, normal)
    except SchemaError as exc:
        logger.warning("the champion cannot score the fresh data: %s", exc)
        outcome.rows["held_back"] = 0
        return None
    flagged = scores > cut
    benign = np.zeros(len(normal), dtype=bool)
    if config.confirmed_benign_ids:
        benign = _id_mask(config, normal, config.confirmed_benign_ids)
    candidates = np.flatnonzero(flagged & ~benign)
    isolated = np.zeros(len(candidates), dtype=bool)
    if config.learn_isolated_alerts:
        isolated = isolated_alerts(
            lambda rows: _encoded(champion, normal.iloc[rows]),
            len(normal),
            flagged,
            candidates,
            random_state=config.random_state,
        )
        candidates = candidates[~isolated]
    cap = int(np.floor(config.max_held_back * len(normal)))
    if len(candidates) > cap:  # the champion's highest scores first
        order = np.argsort(-scores[candidates], kind="stable")
        candidates = candidates[order[:cap]]
    learn = np.ones(len(normal), dtype=bool)
    learn[candidates] = False
    outcome.rows.update(
        {
            "flagged_by_champion": int(flagged.sum()),
            "held_back": int((~learn).sum()),
            "flagged_but_confirmed_benign": int((flagged & benign).sum()),
            "flagged_but_isolated": int(isolated.sum()),
            "flagged_but_over_max_held_back": int(
                (flagged & ~benign).sum() - isolated.sum() - (~learn).sum()
            ),
        }
    )
    return learn


def _load(
    config: RetrainConfig, outcome: RetrainOutcome
) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """Return the window's rows, and apart the rows analysts confirmed as fraud."""
    frames = [read_table(path) for path in expand_sources(list(config.paths))]
    frame = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
    if is_connection_table(frame.columns):  # network events: as ``train`` derives them
        frame = derive_frame(frame)
    outcome.rows["read"] = len(frame)
    for name in (config.timestamp_col, config.label_col):
        if name and name not in frame.columns:
            msg = f"column '{name}' (named in the retrain config): not found in the fresh data"
            raise SchemaError(msg)
    if config.timestamp_col:
        stamps = utc_times(frame[config.timestamp_col])  # numbers: Zeek's epoch seconds
        if stamps.isna().any():
            row = int(np.flatnonzero(stamps.isna().to_numpy())[0]) + 1
            msg = f"column '{config.timestamp_col}' (row {row}): expected a timestamp, found {frame[config.timestamp_col].iloc[row - 1]!r}"
            raise SchemaError(msg)
        frame = frame.assign(**{"__ts": stamps})
        if config.window_days is not None:
            start = stamps.max() - pd.Timedelta(days=config.window_days)
            frame = frame[frame["__ts"] > start]
        outcome.rows["in_window"] = len(frame)
    fraud = None
    if config.confirmed_fraud_ids:
        mask = _id_mask(config, frame, config.confirmed_fraud_ids)
        outcome.rows["confirmed_fraud_excluded"] = int(mask.sum())
        fraud = (
            frame[mask].drop(columns=["__ts"], errors="ignore").reset_index(drop=True)
        )
        frame = frame[~mask]
    if len(frame) < 20:
        msg = f"fresh data: expected at least 20 rows after the window and exclusions, found {len(frame)}"
        raise SchemaError(msg)
    return frame.reset_index(drop=True), fraud


def _id_mask(config: RetrainConfig, frame: pd.DataFrame, ids_file: str) -> np.ndarray:
    """Rows of ``frame`` whose ``id_col`` value is listed in ``ids_file``."""
    assert config.id_col is not None
    if config.id_col not in frame.columns:
        msg = f"column '{config.id_col}' (named by id_col): not found in the fresh data"
        raise SchemaError(msg)
    listed = read_table(ids_file)
    column = config.id_col if config.id_col in listed.columns else listed.columns[0]
    ids = set(listed[column].astype(str))
    mask: np.ndarray = frame[config.id_col].astype(str).isin(ids).to_numpy(dtype=bool)
    return mask


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


def _restore(
    config: RetrainConfig,
    reg: ModelRegistry,
    normal: pd.DataFrame,
    learn: np.ndarray,
    fresh: GANomalyDetector,
    outcome: RetrainOutcome,
    verbose: int,
) -> GANomalyDetector:
    """Give back the held-back rows that a model of the fresh data does not flag.

    The champion's alerts hold its own false positives as well as the fraud:
    rows in the tail of normal behaviour, or of a behaviour that has become
    common since it was trained. ``fresh``, trained on the rows kept, has
    seen that tail and that behaviour but not the held-back fraud; the
    held-back rows it scores at or below its own threshold go back into
    training, and the challenger is trained again. ``learn`` is updated.
    """
    held = np.flatnonzero(~learn)
    back = _scores(fresh, normal.iloc[held]) <= fresh.threshold_
    outcome.rows["restored"] = int(back.sum())
    outcome.rows["held_back"] = int(len(held) - back.sum())
    if not back.any():
        return fresh
    learn[held[back]] = True
    logger.info("%d held-back rows are normal to a model of the fresh data", back.sum())
    return _train(config, reg, normal[learn], verbose)


def _recalibrate(
    challenger: GANomalyDetector,
    normal: pd.DataFrame,
    learn: np.ndarray,
    outcome: RetrainOutcome,
) -> None:
    """Set the challenger's threshold over its whole window, held-back rows included.

    Its calibration rows are a sample of the rows it learned from, whose top
    (the champion's false positives that ``_restore`` did not give back) was
    held back; a threshold set on them alone flagged up to three times the
    target share of normal rows (docs/benchmarks.md, issue 21). The held-back
    rows are counted as the window's anomalies instead
    (``scorer.threshold_with_held_back``). Models thresholded by
    contamination keep their rule. Only when every alert is held back
    (``learn_isolated_alerts = false``): otherwise the lone alerts, the normal
    tail, are learned and calibrate the threshold like any learned row.
    """
    if challenger.config_.threshold_method == "contamination" or learn.all():
        return
    before = float(challenger.threshold_)
    held = _scores(challenger, normal[~learn])
    after = max(
        before,
        threshold_with_held_back(
            challenger.validation_scores_,
            int(learn.sum()),
            held,
            challenger.config_.target_fpr,
        ),
    )
    challenger.calibrator_.threshold = after
    challenger._finish_threshold()
    outcome.threshold = {
        "rule": "window, held-back rows counted as anomalies",
        "on_learned_rows": before,
        "over_window": after,
        "held_back_share": float((~learn).mean()),
    }


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
    if is_connection_table(normal.columns) and DERIVED[0] in normal.columns:
        params.update(network_roles(params, normal.columns))
        params["network_features"] = True
    det = GANomalyDetector(**params, checkpoint_dir=_checkpoint_dir(reg))
    try:
        return det.fit(normal, resume=True)
    except ArtifactError as exc:  # a checkpoint of other data: start over
        logger.info("not resuming: %s", exc)
        shutil.rmtree(_checkpoint_dir(reg), ignore_errors=True)
        return det.fit(normal)


def _encoded(det: GANomalyDetector, frame: pd.DataFrame) -> np.ndarray:
    """Return the model's encoding of ``frame`` (unseen categories expected)."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        encoded: np.ndarray = np.asarray(det.preprocessor_.transform(frame))
    return encoded


def _scores(det: GANomalyDetector, frame: pd.DataFrame) -> np.ndarray:
    import warnings

    with warnings.catch_warnings():
        # unseen categories are expected in fresh data
        warnings.simplefilter("ignore", UserWarning)
        scores: np.ndarray = np.asarray(det.decision_function(frame), dtype=np.float64)
    return scores


def outcome_text(outcome: RetrainOutcome) -> str:
    """Return the run's result as a few lines for a terminal or a log."""
    head = f"run {outcome.run_id}: {outcome.decision} ({outcome.reason})"
    if outcome.drift and outcome.drift["triggered"]:
        head += "\nretrained because " + "; ".join(outcome.drift["reasons"])
    if outcome.version is None:  # skipped: nothing was trained or registered
        stays = f"'{outcome.alias}' stays at version {outcome.champion_version}"
        return "\n".join([head, f"nothing registered; {stays}"])
    lines = [
        head,
        f"challenger registered as version {outcome.version}"
        + (
            f"; '{outcome.alias}' now points at it"
            if outcome.promoted
            else f"; '{outcome.alias}' stays at version {outcome.champion_version}"
        ),
        f"rows: {json.dumps(outcome.rows)}",
    ]
    if outcome.threshold:
        t = outcome.threshold
        lines.append(
            f"threshold {t['over_window']:.4g} set over the window with the "
            f"{t['held_back_share']:.2%} held-back rows counted as anomalies "
            f"(on the learned rows alone: {t['on_learned_rows']:.4g})"
        )
    if outcome.gate.get("decided_by"):
        lines.append(f"decided by: {outcome.gate['decided_by']}")
    return "\n".join(lines)
