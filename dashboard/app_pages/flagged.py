"""Flagged events: a filtered, paged table, and one event's detail."""

import altair as alt
import pandas as pd
import streamlit as st

from data import choose_batch, id_column

PAGE_SIZE = 50

st.title("Flagged events")
chosen = choose_batch()
if chosen is not None:
    path, frame = chosen
    column = id_column(frame)
    flagged = frame[frame["is_anomaly"] == 1].sort_values(
        "anomaly_score", ascending=False
    )
    if flagged.empty:
        st.info("No event in this batch is above the threshold.")
    else:
        low, high = (
            float(flagged["anomaly_score"].min()),
            float(flagged["anomaly_score"].max()),
        )
        score_range = st.slider(
            "Score range",
            low,
            max(high, low + 1e-9),
            (low, max(high, low + 1e-9)),
            key="score_range",
        )
        search = st.text_input("Search ids", key="search")
        shown = flagged[flagged["anomaly_score"].between(*score_range)]
        if search and column:
            shown = shown[shown[column].astype(str).str.contains(search, regex=False)]
        pages = max(1, -(-len(shown) // PAGE_SIZE))
        page = st.number_input(
            "Page", min_value=1, max_value=pages, value=1, key="page"
        )
        start = (int(page) - 1) * PAGE_SIZE
        st.caption(f"{len(shown):,} flagged events match; page {page} of {pages}")
        view = shown.iloc[start : start + PAGE_SIZE]
        st.dataframe(view, hide_index=True, key="flagged_table")
        if column and len(view):
            event = st.selectbox(
                "Event detail", view[column].astype(str).tolist(), key="event"
            )
            row = view[view[column].astype(str) == event].iloc[0]
            st.subheader(f"Why {event} was flagged")
            parts = [k for k in range(1, 10) if f"feature_{k}" in row.index]
            detail = pd.DataFrame(
                {
                    "feature": [row[f"feature_{k}"] for k in parts],
                    "share of residual": [float(row[f"share_{k}"]) for k in parts],
                    "value": [str(row[f"value_{k}"]) for k in parts],
                    "expected": [str(row[f"expected_{k}"]) for k in parts],
                }
            )
            st.dataframe(detail, hide_index=True)
            st.altair_chart(
                alt.Chart(detail)
                .mark_bar()
                .encode(x="share of residual:Q", y=alt.Y("feature:N", sort="-x")),
                width="stretch",
            )
            comps = {
                c: float(row[c])
                for c in ("score_recon", "score_latent", "score_disc", "score_knn")
                if c in row.index
            }
            st.write("Score components:", comps)
