"""Flagged events: a filtered, paged table, and one event's detail."""

import altair as alt
import pandas as pd
import streamlit as st

from anomaly_gan.dashboard.auth import analyst_field
from anomaly_gan.dashboard.sources import (
    COMPONENT_COLUMNS,
    UNREVIEWED,
    batch_id,
    choose_batch,
    filter_columns,
    id_column,
    similar_reviewed,
    time_columns,
    verdict_column,
    verdict_store,
)
from anomaly_gan.stores.verdicts import VERDICTS

PAGE_SIZE = 50

st.title("Flagged events")
chosen = choose_batch()
if chosen is not None:
    path, frame = chosen
    column = id_column(frame)
    batch = batch_id(path, frame)
    flagged = frame[frame["is_anomaly"] == 1].sort_values(
        "anomaly_score", ascending=False
    )
    flagged = flagged.assign(verdict=verdict_column(batch, flagged))
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
        left, middle, right = st.columns(3)
        search = left.text_input("Search ids", key="search")
        statuses = middle.multiselect(
            "Verdict status",
            [UNREVIEWED, "confirmed", "false_positive", "needs_review"],
            key="status",
        )
        categories = filter_columns(flagged)
        category = right.selectbox(
            "Category column", ["(none)", *categories], key="flag_category_col"
        )
        shown = flagged[flagged["anomaly_score"].between(*score_range)]
        if search and column:
            shown = shown[shown[column].astype(str).str.contains(search, regex=False)]
        if statuses:
            shown = shown[shown["verdict"].isin(statuses)]
        if category != "(none)":
            values = st.multiselect(
                f"{category} values",
                sorted(flagged[category].dropna().astype(str).unique()),
                key="category_values",
            )
            if values:
                shown = shown[shown[category].astype(str).isin(values)]
        pages = max(1, -(-len(shown) // PAGE_SIZE))
        page = st.number_input(
            "Page", min_value=1, max_value=pages, value=1, key="page"
        )
        start = (int(page) - 1) * PAGE_SIZE
        st.caption(f"{len(shown):,} flagged events match; page {page} of {pages}")
        view = shown.iloc[start : start + PAGE_SIZE]
        # A readable default: who, when, how anomalous, why, the verdict and the
        # kept categories; the rest on demand.
        reasons = [f"feature_{k}" for k in (1, 2, 3) if f"feature_{k}" in view.columns]
        default = [
            c
            for c in [
                column,
                *time_columns(view),
                "anomaly_score",
                "fpr_estimate",
                *reasons,
                "verdict",
            ]
            if c and c in view.columns
        ]
        default += [c for c in categories if c not in default]
        chosen_cols = st.multiselect(
            "Columns",
            list(view.columns),
            default=list(dict.fromkeys(default)),
            key="flag_columns",
        )
        st.dataframe(view[chosen_cols or default], hide_index=True, key="flagged_table")
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
            comps = [c for c in COMPONENT_COLUMNS if c in row.index]
            st.dataframe(
                pd.DataFrame(
                    {
                        "component": [c.removeprefix("score_") for c in comps],
                        "normalised value": [f"{float(row[c]):.3g}" for c in comps],
                    }
                ),
                hide_index=True,
                key="components_table",
            )
            st.caption(
                f"anomaly score {float(row['anomaly_score']):.3g}; components are "
                "distances from normal rows in robust units (docs/model.md)"
            )
            with st.form("detail_verdict_form"):
                st.markdown(f"**Verdict on {event}** (now: {row['verdict']})")
                analyst = analyst_field("detail_analyst")
                verdict = (
                    st.radio("Verdict", VERDICTS, horizontal=True, key="detail_verdict")
                    or VERDICTS[0]
                )
                note = st.text_input("Note", key="detail_note")
                if st.form_submit_button("Save verdict", key="detail_save"):
                    if not analyst.strip():
                        st.error(
                            "Enter your name first: every verdict records who set it."
                        )
                    elif batch is None:
                        st.error(
                            "This scored file has no id column: score with --id-cols."
                        )
                    else:
                        verdict_store().set_verdicts(
                            batch, [event], verdict, analyst=analyst, note=note
                        )
                        st.success(f"Saved '{verdict}' for {event}.")
            pattern_cols = [c for c in filter_columns(frame) if c in row.index]
            if pattern_cols:
                with st.form("suppress_form"):
                    st.markdown(
                        "**Mark this pattern benign**: rows with these values are "
                        "still scored and written, but not alerted and not learned "
                        "(`score --suppressions`, docs/alerts.md)."
                    )
                    pattern = st.multiselect(
                        "Columns",
                        pattern_cols,
                        format_func=lambda c: f"{c} = {row[c]}",
                        key="suppress_cols",
                    )
                    who = analyst_field("suppress_analyst")
                    why = st.text_input("Why", key="suppress_note")
                    if st.form_submit_button(
                        "Suppress this pattern", key="suppress_save"
                    ):
                        if not who.strip():
                            st.error(
                                "Enter your name first: every rule records who set it."
                            )
                        elif not pattern:
                            st.error("Pick at least one column of the pattern.")
                        else:
                            rule = verdict_store().add_suppression(
                                {c: [str(row[c])] for c in pattern},
                                analyst=who,
                                note=why,
                            )
                            st.success(
                                f"Suppression rule {rule} added: "
                                + " & ".join(f"{c}={row[c]}" for c in sorted(pattern))
                            )
            st.subheader("Similar reviewed events")
            similar = similar_reviewed(row, frame, batch)
            if similar.empty:
                st.caption(
                    "No reviewed event in this batch yet: verdicts set on the Triage page appear here."
                )
            else:
                st.dataframe(similar, hide_index=True, key="similar_table")
