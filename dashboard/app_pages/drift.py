"""Drift: each scored batch against the model's training reference, over batches."""

import altair as alt
import pandas as pd
import streamlit as st

from anomaly_gan.dashboard.sources import drift_reports

st.title("Drift")
reports = drift_reports()
if not reports:
    st.info(
        "No drift report yet: `anomaly-gan score` writes one beside each scored file "
        "(OUT.drift.json) unless run with --no-drift."
    )
    st.stop()

overview = pd.DataFrame(
    [
        {
            "batch": path.name,
            "rows": r["rows"],
            "test": r["test"],
            "drifted features": ", ".join(r["drifted_features"]) or "none",
            "score drift": None
            if not r.get("score")
            else round(r["score"]["statistic"], 4),
            "flag rate": None if not r.get("flag_rate") else r["flag_rate"]["observed"],
            "calibration flag rate": None
            if not r.get("flag_rate")
            else r["flag_rate"]["calibration"],
            "drifted": "yes" if r["drifted"] else "no",
        }
        for path, r in reports
    ]
)
drifted = int((overview["drifted"] == "yes").sum())
st.metric("Batches with drift", f"{drifted} of {len(overview)}")
st.dataframe(overview, hide_index=True, key="drift_batches")

st.subheader("Per feature, over batches")
long = pd.DataFrame(
    [
        {
            "batch": path.name,
            "order": i,
            "feature": f["name"],
            "statistic": f["statistic"],
            "test": f.get("test", ""),
            "drifted": f["drifted"],
        }
        for i, (path, r) in enumerate(reports)
        for f in r["features"]
        if f["statistic"] is not None
    ]
)
features = sorted(long["feature"].unique()) if len(long) else []
moved = sorted(long.loc[long["drifted"], "feature"].unique()) if len(long) else []
shown = st.multiselect(
    "Features", features, default=moved or features[:5], key="drift_features"
)
psi = long[(long["test"] == "psi") & long["feature"].isin(shown)]
if len(psi):
    bound = float(reports[-1][1]["settings"]["psi_bound"])
    lines = (
        alt.Chart(psi)
        .mark_line(point=True)
        .encode(
            x=alt.X("batch:N", sort=alt.SortField("order"), title="batch"),
            y=alt.Y("statistic:Q", title="PSI against the training reference"),
            color="feature:N",
            tooltip=["batch", "feature", "statistic"],
        )
    )
    rule = (
        alt.Chart(pd.DataFrame({"bound": [bound]}))
        .mark_rule(strokeDash=[4, 4])
        .encode(y="bound:Q")
    )
    st.altair_chart(lines + rule, width="stretch", key="drift_chart")
    st.caption(f"Dashed line: the drift bound (PSI {bound:g}).")

names = [path.name for path, _ in reports]
chosen = (
    st.selectbox("Batch", names, index=len(names) - 1, key="drift_batch") or names[-1]
)
report = next(r for p, r in reports if p.name == chosen)
table = pd.DataFrame(
    [
        {
            "feature": f["name"],
            "role": f["role"],
            "test": f.get("test", ""),
            "statistic": f["statistic"],
            "p-value": f.get("p_value"),
            "unseen share": f.get("unseen_share"),
            "unseen in training": f.get("reference_unseen_share"),
            "drifted": "DRIFT" if f["drifted"] else "ok",
        }
        for f in report["features"]
    ]
)
st.dataframe(table, hide_index=True, key="drift_features_table")
