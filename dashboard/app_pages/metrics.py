"""Metrics: ROC and precision-recall with a threshold that moves the confusion matrix."""

import hashlib
from typing import Any

import altair as alt
import numpy as np
import pandas as pd
import streamlit as st
from sklearn.metrics import precision_recall_curve, roc_curve

from anomaly_gan.dashboard.auth import analyst_name
from anomaly_gan.dashboard.sources import (
    batch_id,
    batch_threshold,
    choose_batch,
    id_column,
    registry,
    verdict_store,
)
from anomaly_gan.scoring.metrics import (
    RankMetrics,
    anomaly_labels,
    evaluate_scores,
    rank_metrics,
)
from anomaly_gan.scoring.threshold_advice import for_alert_budget, for_precision


def _shown(threshold: float, scores: np.ndarray) -> str:
    """Write ``threshold`` with the fewest decimals (at least 4) that flag the same events.

    Suggested thresholds sit a hair below an event's score; four decimals can round
    across a neighbouring score, and a threshold copied from the caption would then
    flag a different set of events than the one whose figures the page shows.
    """
    flagged = int(np.sum(scores > threshold))
    for places in range(4, 18):
        text = f"{threshold:.{places}f}"
        if int(np.sum(scores > float(text))) == flagged:
            return text
    return repr(threshold)


@st.cache_data(max_entries=8, show_spinner=False)
def _ranked(
    key: str, _scores: np.ndarray, _labels: np.ndarray
) -> tuple[RankMetrics, pd.DataFrame, pd.DataFrame]:
    """Threshold-free metrics and curves, cached per batch version and labels."""
    fpr, tpr, _ = roc_curve(_labels, _scores)
    precision, recall, _ = precision_recall_curve(_labels, _scores)
    step = max(1, len(fpr) // 2000)
    roc = pd.DataFrame(
        {"false positive rate": fpr[::step], "true positive rate": tpr[::step]}
    )
    step = max(1, len(recall) // 2000)
    pr = pd.DataFrame({"recall": recall[::step], "precision": precision[::step]})
    return rank_metrics(_scores, _labels), roc, pr


def save_operating_point(threshold: float, report: Any) -> None:
    """Record the threshold as a registry version's operating point."""
    reg = registry()
    versions = reg.versions()
    with st.expander("Save this threshold as a model's operating point"):
        if not versions:
            st.caption("The registry holds no model version to save it to.")
            return
        aliases = reg.aliases()
        default = aliases.get("production", versions[-1]["version"])
        numbers = [v["version"] for v in versions]
        version = st.selectbox(
            "Model version", numbers, index=numbers.index(default), key="op_version"
        )
        analyst = st.text_input("Analyst", value=analyst_name(), key="op_analyst")
        note = st.text_input("Note", key="op_note")
        current = reg.operating_point(version)
        if current:
            st.caption(
                f"Current operating threshold {current['threshold']:.4f}, set by {current['set_by']} at {current['set_at']}."
            )
        if st.button("Save operating point", key="op_save"):
            if not analyst.strip():
                st.error("Enter your name first: the registry records who set it.")
                return
            reg.set_operating_point(
                version,
                threshold,
                user=analyst.strip(),
                note=note,
                evaluation=report.to_dict(),
            )
            st.success(
                f"Version {version}: score and evaluate on registry:{version} now use threshold {threshold:.4f}."
            )


st.title("Metrics")
chosen = choose_batch()
if chosen is not None:
    path, frame = chosen
    label_cols = [
        c
        for c in frame.columns
        if c.lower() in ("is_fraud", "is_attack", "label", "is_anomaly_label")
    ]
    column = id_column(frame)
    decided = pd.DataFrame()
    if column:
        verdicts = verdict_store().verdicts(batch_id(path, frame))
        decided = verdicts[verdicts["verdict"].isin(["confirmed", "false_positive"])]
    options = []
    if label_cols:
        options.append(f"label column '{label_cols[0]}'")
    if len(decided):
        options.append("analysts' verdicts")
    if label_cols and len(decided):
        options.append("both (verdicts override the label column)")
    choice = (
        (st.radio("Labels from", options, horizontal=True, key="labels_from") or "")
        if len(options) > 1
        else (options[0] if options else "")
    )
    scores, labels, source = None, None, ""
    column_labels = None
    if label_cols and choice != "analysts' verdicts":
        values = frame[label_cols[0]]
        normal_label = "normal"
        if not pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(
            values
        ):
            kinds = values.astype(str).value_counts().index.tolist()
            normal_label = st.selectbox(
                f"Normal value of '{label_cols[0]}'", kinds, key="normal_label"
            )
        column_labels = anomaly_labels(values, label_cols[0], normal_label)
    if choice.startswith("label column") and column_labels is not None:
        scores = frame["anomaly_score"].to_numpy(float)
        labels = column_labels.astype(int)
        source = f"label column '{label_cols[0]}' ({len(labels):,} rows)"
    elif choice == "analysts' verdicts":
        scores = decided["score"].to_numpy(float)
        labels = (decided["verdict"] == "confirmed").to_numpy(int)
        source = f"analysts' verdicts ({len(labels):,} events)"
    elif choice.startswith("both"):
        labelled = pd.Series(column_labels, index=frame.index).astype(int)
        by_id = dict(
            zip(
                decided["event_id"].astype(str),
                (decided["verdict"] == "confirmed").astype(int),
                strict=True,
            )
        )
        override = frame[column].astype(str).map(by_id)
        scores = frame["anomaly_score"].to_numpy(float)
        labels = override.fillna(labelled).astype(int).to_numpy()
        source = (
            f"label column '{label_cols[0]}' ({len(labels):,} rows), "
            f"{int(override.notna().sum()):,} of them overridden by analysts' verdicts"
        )
    if scores is None or labels is None or labels.min() == labels.max():
        st.info(
            "Metrics need labels of both kinds: a label column in the scored file (keep it with --keep-cols) or confirmed and false-positive verdicts."
        )
    else:
        st.caption(f"Labels from {source}.")
        low, high = float(scores.min()), float(scores.max())
        recorded, origin = batch_threshold(path, frame)
        default = high if recorded is None else recorded
        st.caption(f"Starts at the batch's {origin}.")
        mode = st.radio(
            "Operating point",
            [
                "threshold",
                "target false-positive rate",
                "target precision",
                "alert budget",
            ],
            horizontal=True,
            key="mode",
        )
        if mode == "threshold":
            # A fine step, so that the starting value is the batch's threshold
            # itself and the counts agree with the Overview's.
            threshold = st.slider(
                "Threshold",
                min(low, default),
                max(high, default),
                default,
                step=max((high - low) / 10_000, 1e-9),
                format="%.4f",
                key="threshold",
            )
        elif mode == "alert budget":
            budget = st.number_input(
                "Alerts in this batch",
                min_value=0,
                max_value=len(scores),
                value=min(len(scores), max(1, int((scores > default).sum()))),
                step=1,
                key="alert_budget",
            )
            advice = for_alert_budget(
                scores, scores, scores[labels == 1], 1.0, float(budget)
            )
            threshold = default if advice.threshold is None else advice.threshold
            st.caption(
                f"Threshold {_shown(threshold, scores)} raises at most {int(budget):,} alerts in this "
                "batch; `anomaly-gan threshold suggest --alerts-per-day` works per day "
                "over several batches."
            )
        elif mode == "target precision":
            wanted = st.slider(
                "Target precision",
                0.05,
                1.0,
                0.8,
                step=0.01,
                format="%.2f",
                key="target_precision",
            )
            advice = for_precision(
                scores, scores, scores[labels == 1], 1.0, wanted, min_labelled=10
            )
            if advice.threshold is None:
                st.warning(
                    f"No threshold reaches precision {wanted:.2f} with at least 10 "
                    "labelled events above it; showing the batch's threshold."
                )
                threshold = default
            else:
                threshold = advice.threshold
                st.caption(
                    f"Threshold {_shown(threshold, scores)} is the lowest whose precision reaches "
                    f"{wanted:.2f} on these labels ({advice.labelled_above:,} events "
                    "above it); `anomaly-gan threshold suggest` does the same over "
                    "several batches."
                )
        else:
            target = st.slider(
                "Target false-positive rate",
                0.001,
                0.2,
                0.01,
                step=0.001,
                format="%.3f",
                key="target_fpr",
            )
            normal_scores = np.sort(scores[labels == 0])
            allowed = int(np.floor(target * normal_scores.size))
            threshold = float(normal_scores[normal_scores.size - 1 - allowed])
            st.caption(
                f"Threshold {_shown(threshold, scores)} flags at most {target:.1%} of the labelled normal events."
            )
        digest = hashlib.sha1(np.ascontiguousarray(labels).tobytes())
        digest.update(np.ascontiguousarray(scores).tobytes())
        key = f"{path}:{len(scores)}:{digest.hexdigest()}"
        ranked, roc, pr = _ranked(key, scores, labels)
        report = evaluate_scores(scores, labels, threshold, ranked=ranked)
        cols = st.columns(4)
        cols[0].metric("ROC-AUC", f"{report.roc_auc:.4f}")
        cols[1].metric("Precision", f"{report.precision:.3f}")
        cols[2].metric("Recall", f"{report.recall:.3f}")
        cols[3].metric("F1", f"{report.f1:.3f}")
        cm = report.confusion_matrix
        st.table(
            pd.DataFrame(
                {
                    "predicted normal": [cm["tn"], cm["fn"]],
                    "predicted anomaly": [cm["fp"], cm["tp"]],
                },
                index=["actual normal", "actual anomaly"],
            )
        )
        left, right = st.columns(2)
        left.altair_chart(
            alt.Chart(roc)
            .mark_line()
            .encode(x="false positive rate:Q", y="true positive rate:Q")
            .properties(title=f"ROC (AUC {report.roc_auc:.3f})"),
            width="stretch",
        )
        right.altair_chart(
            alt.Chart(pr)
            .mark_line()
            .encode(x="recall:Q", y="precision:Q")
            .properties(title=f"Precision-recall (AP {report.average_precision:.3f})"),
            width="stretch",
        )
        st.caption(
            f"At this threshold {int(np.sum(scores > threshold)):,} events are flagged."
        )
        save_operating_point(threshold, report)
