"""Entities: cards, accounts or hosts by their flagged events, with a timeline each."""

import re

import altair as alt
import pandas as pd
import streamlit as st

from anomaly_gan.dashboard.sources import (
    choose_batch,
    event_times,
    id_column,
    time_columns,
)

st.title("Entities")
chosen = choose_batch()
if chosen is not None:
    path, frame = chosen
    rollup = path.with_name(path.name + ".entities.csv")
    candidates = [
        str(c)
        for c in frame.columns
        if c != id_column(frame)
        and (frame[c].dtype == object or isinstance(frame[c].dtype, pd.StringDtype))
        and not re.fullmatch(r"(feature|value|expected)_\d+", str(c))
        and c not in time_columns(frame)
        and 1 < frame[c].nunique(dropna=True) < len(frame)
    ]
    default = None
    if rollup.is_file():  # the column 'score --entity-cols' rolled up
        first = pd.read_csv(rollup, nrows=0).columns[0]
        default = first if first in candidates else None
    if not candidates:
        st.info(
            "This scored file keeps no entity column: score with "
            "`--keep-cols card_id` (or a host, an account) and `--entity-cols card_id`."
        )
        st.stop()
    column = (
        st.selectbox(
            "Entity column",
            candidates,
            index=candidates.index(default) if default else 0,
            key="entity_col",
        )
        or candidates[0]
    )
    entity = frame[column].astype(str)
    table = (
        frame.assign(_entity=entity)
        .groupby("_entity")
        .agg(
            rows=("anomaly_score", "size"),
            flagged=("is_anomaly", "sum"),
            max_score=("anomaly_score", "max"),
        )
        .sort_values(["flagged", "max_score"], ascending=False)
        .rename_axis(column)
        .reset_index()
    )
    with_alerts = int((table["flagged"] > 0).sum())
    st.metric("Entities with flagged events", f"{with_alerts:,} of {len(table):,}")
    st.dataframe(table.head(200), hide_index=True, key="entities_table")
    if rollup.is_file():
        st.caption(f"The run's roll-up of every row is in {rollup.name}.")
    names = table.loc[table["flagged"] > 0, column].head(200).tolist()
    if names:
        picked = st.selectbox("Entity", names, key="entity") or names[0]
        events = frame[entity == picked].sort_values("anomaly_score", ascending=False)
        stamps = time_columns(events)
        st.subheader(f"{column} {picked}")
        if stamps:
            when = events.assign(
                _t=event_times(events[stamps[0]]),
                flagged=events["is_anomaly"].map({1: "flagged", 0: "not flagged"}),
            ).dropna(subset=["_t"])
            st.altair_chart(
                alt.Chart(when)
                .mark_circle(size=60)
                .encode(
                    x=alt.X("_t:T", title=stamps[0]),
                    y=alt.Y("anomaly_score:Q", title="anomaly score"),
                    color="flagged:N",
                    tooltip=[stamps[0], "anomaly_score"],
                ),
                width="stretch",
            )
        shown = [
            c
            for c in [
                id_column(events),
                *stamps,
                "anomaly_score",
                "is_anomaly",
                "feature_1",
            ]
            if c and c in events.columns
        ]
        st.dataframe(events[shown].head(500), hide_index=True, key="entity_events")
