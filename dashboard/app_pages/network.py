"""Network: flagged connections by source host, by destination port and service, over time.

For files scored by a network model (docs/network.md), which keep each
connection's ends, port, service and time. Explanations are the reason
columns of every row; verdicts are set on the Flagged events and Triage pages,
as for transactions.
"""

import altair as alt
import streamlit as st

from anomaly_gan.dashboard.sources import choose_batch, event_times

SOURCE, TARGET, PORT = "id.orig_h", "id.resp_h", "id.resp_p"

st.title("Network")
chosen = choose_batch()
if chosen is not None:
    path, frame = chosen
    if SOURCE not in frame.columns or PORT not in frame.columns:
        st.info(
            "This scored file holds no connection records (columns id.orig_h and "
            "id.resp_p): score Zeek conn logs with a network model "
            "(`scripts/demo.sh --network`, docs/network.md)."
        )
        st.stop()
    flagged = frame[frame["is_anomaly"] == 1]
    hosts = flagged[SOURCE].nunique()
    left, middle, right = st.columns(3)
    left.metric("Connections", f"{len(frame):,}")
    middle.metric("Flagged", f"{len(flagged):,}")
    right.metric("Source hosts flagged", f"{hosts:,}")

    st.subheader("By source host")
    by_host = (
        frame.groupby(SOURCE)
        .agg(
            connections=("anomaly_score", "size"),
            flagged=("is_anomaly", "sum"),
            max_score=("anomaly_score", "max"),
        )
        .sort_values(["flagged", "max_score"], ascending=False)
        .reset_index()
    )
    if "feature_1" in flagged.columns and len(flagged):
        top_reason = flagged.groupby(SOURCE)["feature_1"].agg(
            lambda s: s.value_counts().index[0]
        )
        by_host["top_reason"] = by_host[SOURCE].map(top_reason)
    shown_hosts = by_host[by_host["flagged"] > 0].head(25)
    if len(shown_hosts):
        st.altair_chart(
            alt.Chart(shown_hosts)
            .mark_bar()
            .encode(
                x=alt.X("flagged:Q", title="flagged connections"),
                y=alt.Y(f"{SOURCE}:N", sort="-x", title="source host"),
                tooltip=[SOURCE, "flagged", "connections", "max_score"],
            ),
            width="stretch",
        )
    st.dataframe(by_host.head(200), hide_index=True, key="network_hosts")

    st.subheader("By destination port and service")
    keys = [PORT] + (["service"] if "service" in frame.columns else [])
    by_port = (
        frame.assign(**{k: frame[k].astype(str) for k in keys})
        .groupby(keys, dropna=False)
        .agg(
            connections=("anomaly_score", "size"),
            flagged=("is_anomaly", "sum"),
            sources=(SOURCE, "nunique"),
        )
        .reset_index()
    )
    by_port["flagged_share"] = by_port["flagged"] / by_port["connections"]
    by_port = by_port.sort_values(["flagged", "connections"], ascending=False)
    st.dataframe(by_port.head(200), hide_index=True, key="network_ports")

    if "ts" in frame.columns and len(flagged):
        when = flagged.assign(_t=event_times(flagged["ts"])).dropna(subset=["_t"])
        if len(when):
            st.subheader("Flagged connections over time")
            per_bucket = (
                when.assign(_bucket=when["_t"].dt.floor("15min"))
                .groupby(["_bucket", SOURCE])
                .size()
                .rename("flagged")
                .reset_index()
            )
            st.altair_chart(
                alt.Chart(per_bucket)
                .mark_bar()
                .encode(
                    x=alt.X("_bucket:T", title="time (UTC, 15 minutes)"),
                    y=alt.Y("flagged:Q", title="flagged connections"),
                    color=alt.Color(f"{SOURCE}:N", title="source host"),
                    tooltip=["_bucket:T", SOURCE, "flagged"],
                ),
                width="stretch",
            )

    names = shown_hosts[SOURCE].astype(str).tolist()
    if names:
        picked = st.selectbox("Source host", names, key="network_host") or names[0]
        rows = flagged[flagged[SOURCE].astype(str) == picked].sort_values(
            "anomaly_score", ascending=False
        )
        st.subheader(f"Flagged connections of {picked}")
        reasons = [
            c
            for c in rows.columns
            if str(c).startswith(("feature_", "value_", "expected_"))
        ]
        columns = [
            c
            for c in ["ts", TARGET, PORT, "proto", "service", "anomaly_score", *reasons]
            if c in rows.columns
        ]
        view = rows[columns].copy()
        if "ts" in view.columns:
            view["ts"] = event_times(view["ts"])
        st.dataframe(view.head(500), hide_index=True, key="network_events")
        st.caption(
            "Each row's reasons are the features furthest from what the model "
            "expected; set verdicts on the Flagged events or Triage page."
        )
