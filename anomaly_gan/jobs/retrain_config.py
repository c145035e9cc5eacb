"""The retraining job's settings: ``RetrainConfig``, from ``retrain.toml`` or options."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from anomaly_gan.config import DetectorConfig, read_config_file
from anomaly_gan.exceptions import (
    ConfigError,
)
from anomaly_gan.stores.registry import PRODUCTION

_GATE_METRICS = ("roc_auc", "average_precision")


@dataclass(frozen=True)
class RetrainConfig:
    """What a retraining run reads from its config file (TOML or YAML).

    See ``docs/retraining.md`` for the file format; keys mirror these fields,
    grouped in the tables ``[data]``, ``[normal]``, ``[holdout]``, ``[gate]``,
    ``[trigger]`` and ``[detector]``.
    """

    paths: tuple[str, ...]
    registry: str | None = None
    alias: str = PRODUCTION
    timestamp_col: str | None = None
    window_days: float | None = None
    label_col: str | None = None
    normal_label: str = "normal"
    confirmed_fraud_ids: str | None = None
    confirmed_benign_ids: str | None = None
    suppressions_db: str | None = None
    id_col: str | None = None
    hold_back_flagged: bool = True
    learn_isolated_alerts: bool = True
    max_held_back: float = 0.1
    holdout_fraction: float = 0.2
    random_state: int = 0
    gate_metric: str = "roc_auc"
    tolerance: float = 0.005
    max_fpr: float = 0.02
    min_alert_retention: float = 0.5
    min_rank_agreement: float = 0.5
    verdict_tolerance: float = 0.05
    min_verdict_rows: int = 5
    detector: dict[str, Any] = field(default_factory=dict)
    when_drift: bool = False
    trigger_psi_bound: float = 0.2
    trigger_min_features: int = 1
    trigger_flag_ratio: float = 2.0

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
        known = {
            "registry",
            "alias",
            "data",
            "normal",
            "holdout",
            "gate",
            "trigger",
            "detector",
        }
        unknown = sorted(set(raw) - known)
        if unknown:
            msg = f"{source}: unknown key '{unknown[0]}'; expected one of {', '.join(sorted(known))}"
            raise ConfigError(msg)
        data = _table(raw, "data", source, {"paths", "timestamp_col", "window_days"})
        normal = _table(
            raw,
            "normal",
            source,
            {
                "label_col",
                "normal_label",
                "confirmed_fraud_ids",
                "confirmed_benign_ids",
                "id_col",
                "hold_back_flagged",
                "learn_isolated_alerts",
                "max_held_back",
                "suppressions_db",
            },
        )
        holdout = _table(raw, "holdout", source, {"fraction", "random_state"})
        gate = _table(
            raw,
            "gate",
            source,
            {
                "metric",
                "tolerance",
                "max_fpr",
                "min_alert_retention",
                "min_rank_agreement",
                "verdict_tolerance",
                "min_verdict_rows",
            },
        )
        trigger = _table(
            raw,
            "trigger",
            source,
            {"when_drift", "psi_bound", "min_drifted_features", "flag_rate_ratio"},
        )
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
            confirmed_benign_ids=rel(normal["confirmed_benign_ids"])
            if normal.get("confirmed_benign_ids")
            else None,
            id_col=normal.get("id_col"),
            suppressions_db=rel(normal["suppressions_db"])
            if normal.get("suppressions_db")
            else None,
            hold_back_flagged=_flag(normal, "hold_back_flagged", source),
            learn_isolated_alerts=_flag(normal, "learn_isolated_alerts", source),
            max_held_back=float(normal.get("max_held_back", 0.1)),
            holdout_fraction=float(holdout.get("fraction", 0.2)),
            random_state=int(holdout.get("random_state", 0)),
            gate_metric=str(gate.get("metric", "roc_auc")),
            tolerance=float(gate.get("tolerance", 0.005)),
            max_fpr=float(gate.get("max_fpr", 0.02)),
            min_alert_retention=float(gate.get("min_alert_retention", 0.5)),
            min_rank_agreement=float(gate.get("min_rank_agreement", 0.5)),
            verdict_tolerance=float(gate.get("verdict_tolerance", 0.05)),
            min_verdict_rows=int(gate.get("min_verdict_rows", 5)),
            detector=dict(detector),
            when_drift=_flag(
                trigger, "when_drift", source, default=False, table_name="trigger"
            ),
            trigger_psi_bound=float(trigger.get("psi_bound", 0.2)),
            trigger_min_features=int(trigger.get("min_drifted_features", 1)),
            trigger_flag_ratio=float(trigger.get("flag_rate_ratio", 2.0)),
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
        for key in ("confirmed_fraud_ids", "confirmed_benign_ids"):
            if getattr(self, key) and not self.id_col:
                msg = (
                    f"{source}: [normal] {key}: needs id_col, the column the ids are in"
                )
                raise ConfigError(msg)
        if not 0 <= self.max_held_back < 1:
            msg = f"{source}: [normal] max_held_back: expected a number in [0, 1), found {self.max_held_back}"
            raise ConfigError(msg)
        if not 0 <= self.verdict_tolerance <= 1 or self.min_verdict_rows < 1:
            msg = f"{source}: [gate] expected 0 <= verdict_tolerance <= 1 and min_verdict_rows >= 1"
            raise ConfigError(msg)
        if not self.trigger_psi_bound > 0 or self.trigger_flag_ratio <= 0:
            msg = f"{source}: [trigger] expected psi_bound > 0 and flag_rate_ratio > 0"
            raise ConfigError(msg)
        if self.trigger_min_features < 0:
            msg = f"{source}: [trigger] min_drifted_features: expected 0 or more, found {self.trigger_min_features}"
            raise ConfigError(msg)
        for key in ("min_alert_retention", "min_rank_agreement"):
            value = getattr(self, key)
            if not -1 <= value <= 1:
                msg = f"{source}: [gate] {key}: expected a number in [-1, 1], found {value}"
                raise ConfigError(msg)
        try:
            DetectorConfig.from_dict(self.detector, source=f"{source}: [detector]")
        except ConfigError as exc:
            if str(exc).startswith(source):
                raise
            msg = f"{source}: [detector] {exc}"
            raise ConfigError(msg) from exc


def _flag(
    table: dict[str, Any],
    key: str,
    source: str,
    *,
    default: bool = True,
    table_name: str = "normal",
) -> bool:
    value = table.get(key, default)
    if not isinstance(value, bool):
        msg = f"{source}: [{table_name}] {key}: expected true or false, found {value!r}"
        raise ConfigError(msg)
    return value


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
