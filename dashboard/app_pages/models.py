"""Models: registry versions, the production alias, loss curves and retraining runs."""

import json

import altair as alt
import pandas as pd
import streamlit as st

from anomaly_gan.dashboard.sources import registry
from anomaly_gan.stores.model_card import card_markdown

st.title("Models")
reg = registry()
versions = reg.versions()
if not versions:
    st.info(
        f"The registry '{reg.root.name}' holds no version yet: `anomaly-gan train ... --register --promote` adds one."
    )
else:
    table = pd.DataFrame(
        [
            {
                "version": v["version"],
                "aliases": ", ".join(v["aliases"]),
                "registered": v["registered_at"],
                "training rows": v.get("n_training_rows"),
                "ROC-AUC": (v.get("evaluation") or {}).get("roc_auc"),
                "note": v.get("note", ""),
            }
            for v in versions
        ]
    )
    st.dataframe(table, hide_index=True, key="versions_table")
    st.subheader("Model card")
    production = next(
        (v["version"] for v in versions if "production" in v["aliases"]),
        versions[-1]["version"],
    )
    numbers = [v["version"] for v in versions]
    shown = st.selectbox(
        "Version", numbers, index=numbers.index(production), key="card_version"
    )
    st.markdown(card_markdown(reg.card(shown if shown is not None else production)))
    st.subheader("Evaluation reports side by side")
    numbers = [v["version"] for v in versions]
    compare = st.multiselect(
        "Versions", numbers, default=numbers[-2:], key="compare_versions"
    )
    reports = {
        f"version {v['version']}": {
            k: val
            for k, val in (v.get("evaluation") or {}).items()
            if isinstance(val, int | float) and not isinstance(val, bool)
        }
        for v in versions
        if v["version"] in compare
    }
    if any(reports.values()):
        st.dataframe(pd.DataFrame(reports), key="compare_table")
    else:
        st.caption(
            "These versions carry no evaluation report: add one with `anomaly-gan registry add MODEL --evaluation REPORT.json` (from `anomaly-gan evaluate --json REPORT.json`), or retrain with labels."
        )
    chosen = st.selectbox(
        "Training curves of version",
        [v["version"] for v in versions][::-1],
        key="version",
    )
    history = json.loads((reg.model_path(chosen) / "history.json").read_text())
    # Losses every few steps (since 0.5) draw a curve even for a one-epoch model;
    # older models have one point per epoch.
    points, axis = (
        (history["steps"], "step")
        if history.get("steps")
        else (history["epochs"], "epoch")
    )
    curves = pd.DataFrame(points)[[axis, "g_loss", "d_loss"]].melt(
        axis, var_name="loss", value_name="value"
    )
    st.altair_chart(
        alt.Chart(curves)
        .mark_line(point=len(curves) < 20)
        .encode(x=f"{axis}:Q", y="value:Q", color="loss:N"),
        width="stretch",
    )
    st.caption(
        f"Generator and discriminator losses per {'logged step' if axis == 'step' else 'epoch'}; "
        f"kept epoch {history.get('best_epoch')} (lowest validation loss "
        f"{min(e['val_loss'] for e in history['epochs']):.3f})."
        if history["epochs"]
        else "No training history recorded."
    )
    runs = reg.run_reports()
    st.subheader("Retraining runs")
    if runs:
        st.dataframe(
            pd.DataFrame(
                [
                    {k: r.get(k) for k in ("run_id", "decision", "version", "reason")}
                    for r in runs
                ]
            ),
            hide_index=True,
        )
    else:
        st.caption("No retraining run yet.")
