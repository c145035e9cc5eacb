"""Model cards: what a registered version is, how it was made and how it did.

``model_card`` gathers, for one registry version, from its ``version.json``,
its model directory's JSON parts and tensor shapes, and the retraining run
that registered it (when one did): the data (rows, fingerprints, time window),
the columns and their roles, the held-out metrics and the gate's result, the
threshold and the false-positive rate it was set for, the drift baseline
(reference and calibration rows), the seed, the training time and device, and
what the model directory holds. ``card_markdown`` renders it for people.
``ModelRegistry`` writes both beside the version (``model_card.json``,
``model_card.md``) when it registers one; ``retrain`` rewrites them once its
run report exists. No torch: the tensor shapes come from the safetensors
header.
"""

from __future__ import annotations

import json
import struct
from pathlib import Path
from typing import Any

# Reference tensors in a model directory and what they hold.
_KEPT = {
    "knn_reference": "encoded training rows kept for the neighbour (knn) term, per view",
    "marginal": "training rows kept for the marginal term and as the drift reference",
    "validation_scores": "held-out normal rows the threshold was calibrated on",
    "decision_scores": "training rows' scores (PyOD's decision_scores_)",
}


def tensor_shapes(weights: Path) -> dict[str, list[int]]:
    """Return each tensor's shape from a safetensors file's header (no torch)."""
    with weights.open("rb") as fh:
        (length,) = struct.unpack("<Q", fh.read(8))
        header = json.loads(fh.read(length))
    return {
        name: list(spec["shape"])
        for name, spec in header.items()
        if name != "__metadata__" and isinstance(spec, dict)
    }


def model_card(
    info: dict[str, Any], model_dir: Path, run_report: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Return a version's card (JSON-ready); ``info`` is its ``version.json``."""
    parts = {
        name: _read(model_dir / f"{name}.json")
        for name in ("config", "metadata", "scorer", "history", "manifest")
    }
    config, meta, scorer = parts["config"], parts["metadata"], parts["scorer"]
    history = parts["history"]
    params = config.get("params", {})
    shapes = tensor_shapes(model_dir / "weights.safetensors")
    kept: dict[str, Any] = {}
    for prefix, meaning in _KEPT.items():
        rows = [s[0] for n, s in shapes.items() if n.split(".")[0] == prefix and s]
        if rows:
            kept[prefix] = {"rows": max(rows), "tensors": len(rows), "meaning": meaning}
    epochs = history.get("epochs", [])
    best = history.get("best_epoch")
    best_row = next((e for e in epochs if e.get("epoch") == best), None)
    card: dict[str, Any] = {
        "version": info.get("version"),
        "modality": config.get("modality", "tabular"),
        "registered": {
            "at": info.get("registered_at"),
            "by": info.get("registered_by"),
            "note": info.get("note", ""),
            "run_id": info.get("run_id"),
        },
        "data": {
            "training_rows": meta.get("n_training_rows"),
            "training_fingerprint": meta.get("training_fingerprint"),
            "data_fingerprint": info.get("data_fingerprint"),
            "window": meta.get("data_window"),
        },
        "columns": {
            "features": meta.get("feature_schema", []),
            "excluded": meta.get("excluded_columns", {}),
        },
        "threshold": {
            "value": scorer.get("threshold"),
            "method": scorer.get("threshold_method"),
            "target_fpr": params.get("target_fpr"),
            "contamination": params.get("contamination"),
        },
        "evaluation": info.get("evaluation"),
        "gate": None,
        "drift_baseline": {
            "reference_rows": kept.get("marginal", {}).get("rows"),
            "calibration_rows": kept.get("validation_scores", {}).get("rows"),
        },
        "training": {
            "seed": params.get("random_state"),
            "epochs_run": len(epochs),
            "best_epoch": best,
            "validation_loss": None if best_row is None else best_row.get("val_loss"),
            "fit_seconds": meta.get("fit_seconds"),
            "device": meta.get("device"),
            "anomaly_gan_version": meta.get("anomaly_gan_version"),
            "torch_version": meta.get("torch_version"),
            "created_at": meta.get("created_at"),
        },
        "contents": {
            "files": {
                name: entry.get("size")
                for name, entry in parts["manifest"].get("files", {}).items()
            },
            "format_version": parts["manifest"].get("format_version"),
            "kept_rows": kept,
            "score_weights": scorer.get("calibrator", {}).get("weights"),
        },
    }
    if run_report is not None:
        card["gate"] = {
            "decision": run_report.get("decision"),
            "reason": run_report.get("reason"),
            "decided_by": (run_report.get("gate") or {}).get("decided_by"),
            "checks": (run_report.get("gate") or {}).get("checks"),
            "verdicts": (run_report.get("gate") or {}).get("verdicts"),
            "verdicts_benign": (run_report.get("gate") or {}).get("verdicts_benign"),
            "champion_version": run_report.get("champion_version"),
            "rows": run_report.get("rows"),
            "drift_trigger": run_report.get("drift"),
        }
    return card


def card_markdown(card: dict[str, Any]) -> str:
    """Return a model card as Markdown."""
    data, thr, train = card["data"], card["threshold"], card["training"]
    lines = [
        f"# Model card: version {card['version']} ({card['modality']})",
        "",
        f"Registered {card['registered']['at']} by {card['registered']['by']}"
        + (f": {card['registered']['note']}" if card["registered"]["note"] else ""),
        "",
        "## Data",
        "",
        f"- training rows: {_num(data['training_rows'])}",
    ]
    window = data.get("window")
    if window:
        lines.append(
            f"- window: {window['start']} to {window['end']} (`{window['column']}`)"
        )
    if data.get("data_fingerprint"):
        lines.append(
            f"- data fingerprint (retraining run): `{data['data_fingerprint'][:16]}`"
        )
    if data.get("training_fingerprint"):
        lines.append(
            f"- training fingerprint: `{str(data['training_fingerprint'])[:16]}`"
        )
    features = card["columns"]["features"]
    if features:
        lines += ["", "## Columns", "", "| column | role | how |", "|---|---|---|"]
        for f in features:
            how = "inferred" if f.get("inferred") else "named"
            extra = f", {f['n_categories']} categories" if f.get("n_categories") else ""
            lines.append(f"| {f['name']} | {f['role']}{extra} | {how} |")
        excluded = card["columns"]["excluded"]
        if excluded:
            lines.append("")
            lines.append(
                "Not used: "
                + ", ".join(f"{k} ({v})" for k, v in sorted(excluded.items()))
            )
    lines += [
        "",
        "## Threshold",
        "",
        f"- {_num(thr['value'])} ({thr['method']}"
        + (
            f", flags {thr['target_fpr']:.2%} of held-out normal rows)"
            if thr["method"] == "fpr" and thr.get("target_fpr") is not None
            else f", contamination {thr.get('contamination')})"
        ),
    ]
    evaluation = card.get("evaluation") or {}
    if evaluation:
        lines += ["", "## Held-out evaluation", ""]
        for key in (
            "roc_auc",
            "average_precision",
            "precision",
            "recall",
            "false_positive_rate",
            "n_rows",
            "n_anomalies",
        ):
            if evaluation.get(key) is not None:
                lines.append(f"- {key.replace('_', ' ')}: {_num(evaluation[key])}")
    gate = card.get("gate")
    if gate:
        lines += [
            "",
            "## Retraining gate",
            "",
            f"- decision: {gate['decision']} ({gate['reason']})",
        ]
        if gate.get("decided_by"):
            lines.append(f"- decided by: {gate['decided_by']}")
        for check in gate.get("checks") or []:
            verdict = "pass" if check.get("passed") else "fail"
            lines.append(
                f"- {check.get('check')}: {_num(check.get('value'))} against "
                f"{_num(check.get('bound'))} ({verdict})"
            )
        for key, what in (
            ("verdicts", "rows analysts confirmed as fraud"),
            ("verdicts_benign", "holdout rows confirmed as false positives"),
        ):
            found = gate.get(key)
            if found:
                champ = found.get("champion")
                lines.append(
                    f"- {found['rows']} {what}: the challenger flags "
                    f"{_num(found['value'])}"
                    + ("" if champ is None else f", the champion {_num(champ)}")
                    + f" ({'pass' if found['passed'] else 'fail'})"
                )
        trigger = gate.get("drift_trigger")
        if trigger:
            lines.append(
                "- drift trigger: "
                + ("; ".join(trigger.get("reasons") or []) or "not crossed")
            )
    base = card["drift_baseline"]
    lines += [
        "",
        "## Drift baseline",
        "",
        f"- {_num(base['reference_rows'])} training reference rows, "
        f"{_num(base['calibration_rows'])} calibration rows (docs/drift.md)",
        "",
        "## Training",
        "",
        f"- seed {'not fixed' if train['seed'] is None else train['seed']}; "
        f"{train['epochs_run']} epochs, best {train['best_epoch']}"
        + (
            f" (validation loss {train['validation_loss']:.4g})"
            if train.get("validation_loss") is not None
            else ""
        ),
        f"- {_num(train['fit_seconds'])} s on {train['device']}; anomaly-gan "
        f"{train['anomaly_gan_version']}, torch {train['torch_version']}",
        "",
        "## What the model directory holds",
        "",
    ]
    kept_rows = card["contents"]["kept_rows"]
    for name in [n for n in _KEPT if n in kept_rows]:
        kept = kept_rows[name]
        lines.append(f"- `{name}`: {_num(kept['rows'])} rows: {kept['meaning']}")
    files = card["contents"]["files"]
    total = sum(v or 0 for v in files.values())
    lines.append(
        f"- {len(files)} files, {total / 1e6:.2f} MB, format {card['contents']['format_version']}"
    )
    weights = card["contents"].get("score_weights")
    if weights:
        lines.append(
            "- score weights: "
            + ", ".join(f"{k} {weights[k]:g}" for k in sorted(weights) if weights[k])
        )
    return "\n".join(lines) + "\n"


def _read(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _num(value: Any) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)
