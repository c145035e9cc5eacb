"""Triage: set verdicts with a note; every change lands in the audit trail."""

import streamlit as st

from anomaly_gan.dashboard.auth import analyst_field
from anomaly_gan.dashboard.sources import (
    batch_id,
    choose_batch,
    event_label,
    id_column,
    verdict_store,
)
from anomaly_gan.stores.verdicts import VERDICTS

st.title("Triage")
chosen = choose_batch()
if chosen is not None:
    path, frame = chosen
    column = id_column(frame)
    if column is None:
        st.warning(
            "This scored file has no id column: score with --id-cols to triage its events."
        )
    else:
        flagged = frame[frame["is_anomaly"] == 1].sort_values(
            "anomaly_score", ascending=False
        )
        batch = batch_id(path, frame)
        store = verdict_store()
        analyst = analyst_field("analyst")
        top = flagged.head(500)
        labels = {
            str(row[column]): event_label(row, column) for _, row in top.iterrows()
        }
        events = st.multiselect(
            "Events (the 500 highest scores)",
            list(labels),
            format_func=lambda key: labels.get(key, key),
            key="events",
        )
        verdict = (
            st.radio("Verdict", VERDICTS, horizontal=True, key="verdict") or VERDICTS[0]
        )
        note = st.text_area("Note", key="note")
        bulk = len(events) > 1
        confirmed = bulk and st.checkbox(
            f"Set '{verdict}' on all {len(events)} selected events", key="confirm_bulk"
        )
        label = f"Save verdict for {len(events)} event{'s' if len(events) != 1 else ''}"
        if st.button(label, key="save"):
            if not analyst.strip():
                st.error("Enter your name first: every verdict records who set it.")
            elif not events or batch is None:
                st.error("Select at least one event.")
            elif bulk and not confirmed:
                st.error(
                    f"{len(events)} events are selected: tick the confirmation to set "
                    "their verdict at once."
                )
            else:
                count = store.set_verdicts(
                    batch, events, verdict, analyst=analyst, note=note
                )
                st.success(f"Saved '{verdict}' for {count} event(s).")
        st.subheader("Verdicts in this batch")
        st.dataframe(store.verdicts(batch), hide_index=True, key="verdicts_table")
        st.subheader("Audit trail")
        st.dataframe(store.audit(batch), hide_index=True, key="audit_table")
