"""Triage: set verdicts with a note; every change lands in the audit trail."""

import streamlit as st

from anomaly_gan.verdicts import VERDICTS
from auth import analyst_name, mode
from data import batch_id, choose_batch, id_column, verdict_store

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
        if mode() == "none":
            analyst = st.text_input("Analyst", value=analyst_name(), key="analyst")
        else:  # signed in: verdicts record who signed in, not a typed name
            analyst = analyst_name()
            st.markdown(f"Analyst: **{analyst}** (signed in)")
        events = st.multiselect(
            "Events", flagged[column].astype(str).head(500).tolist(), key="events"
        )
        verdict = st.radio("Verdict", VERDICTS, horizontal=True, key="verdict")
        note = st.text_area("Note", key="note")
        if st.button("Save verdict", key="save"):
            if not analyst.strip():
                st.error("Enter your name first: every verdict records who set it.")
            elif not events:
                st.error("Select at least one event.")
            else:
                count = store.set_verdicts(
                    batch, events, verdict, analyst=analyst, note=note
                )
                st.success(f"Saved '{verdict}' for {count} event(s).")
        st.subheader("Verdicts in this batch")
        st.dataframe(store.verdicts(batch), hide_index=True, key="verdicts_table")
        st.subheader("Audit trail")
        st.dataframe(store.audit(batch), hide_index=True, key="audit_table")
