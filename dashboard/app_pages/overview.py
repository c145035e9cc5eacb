"""Overview: the batch, its score distribution with the threshold, flagged categories."""

import altair as alt
import pandas as pd
import streamlit as st

from anomaly_gan.dashboard.sources import (
    batch_threshold,
    choose_batch,
    event_times,
    id_column,
)

st.title("Overview")
chosen = choose_batch()
if chosen is not None:
    path, frame = chosen
    flagged = frame[frame["is_anomaly"] == 1]
    threshold, origin = batch_threshold(path, frame)
    cols = st.columns(4)
    cols[0].metric("Rows", f"{len(frame):,}")
    cols[1].metric("Flagged", f"{len(flagged):,}")
    cols[2].metric("Flag rate", f"{len(flagged) / max(len(frame), 1):.2%}")
    cols[3].metric(
        "Scored",
        pd.Timestamp(path.stat().st_mtime, unit="s").strftime("%Y-%m-%d %H:%M"),
    )
    st.caption(
        f"File: {path.name} · id column: {id_column(frame) or 'none'} · {origin}"
    )
    sample = (
        frame[["anomaly_score"]].sample(min(len(frame), 20_000), random_state=0)
        if len(frame)
        else frame[["anomaly_score"]]
    )
    hist = (
        alt.Chart(sample)
        .mark_bar()
        .encode(
            alt.X("anomaly_score:Q", bin=alt.Bin(maxbins=60), title="anomaly score"),
            alt.Y("count()", title="rows"),
        )
    )
    if threshold is None:  # no line rather than a wrong one
        st.altair_chart(hist, width="stretch")
    else:
        rule = (
            alt.Chart(pd.DataFrame({"threshold": [threshold]}))
            .mark_rule(color="red")
            .encode(x="threshold:Q")
        )
        st.altair_chart(hist + rule, width="stretch")
    stamps = [
        c
        for c in frame.columns
        if c.lower() in ("timestamp", "time", "event_time", "ts")
    ]
    if len(flagged) and stamps:
        when = event_times(flagged[stamps[0]]).dropna()
        if len(when):
            per_hour = (
                when.dt.floor("h")
                .value_counts()
                .sort_index()
                .rename_axis("hour")
                .reset_index(name="flagged events")
            )
            st.subheader("Flagged events over time")
            st.altair_chart(
                alt.Chart(per_hour).mark_bar().encode(x="hour:T", y="flagged events:Q"),
                width="stretch",
            )
    kept = [
        c
        for c in frame.columns
        if (pd.api.types.is_string_dtype(frame[c]) or frame[c].dtype == object)
        and c not in ("feature_1", "feature_2", "feature_3")
        and not c.startswith(("value_", "expected_"))
        and c != (id_column(frame) or "")
        and 1 < frame[c].nunique() <= 50
    ]
    if len(flagged) and kept:
        st.subheader("Top categories among flagged events")
        category = st.selectbox("Column", kept, key="category_col")
        counts = (
            flagged[category]
            .astype(str)
            .value_counts()
            .head(10)
            .rename_axis("value")
            .reset_index(name="flagged events")
        )
        st.altair_chart(
            alt.Chart(counts)
            .mark_bar()
            .encode(x="flagged events:Q", y=alt.Y("value:N", sort="-x")),
            width="stretch",
        )
    if len(flagged) and "feature_1" in flagged.columns:
        top = (
            flagged["feature_1"]
            .value_counts()
            .head(10)
            .rename_axis("feature")
            .reset_index(name="flagged events")
        )
        st.subheader("Top reason among flagged events")
        st.altair_chart(
            alt.Chart(top)
            .mark_bar()
            .encode(x="flagged events:Q", y=alt.Y("feature:N", sort="-x")),
            width="stretch",
        )
