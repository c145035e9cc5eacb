"""anomaly-gan analysts' dashboard: navigation only (pages live in app_pages/).

Start it with `anomaly-gan dashboard`; folders come from the environment:
ANOMALY_GAN_SCORES_DIR (scored files), ANOMALY_GAN_REGISTRY, ANOMALY_GAN_VERDICTS;
sign-in from ANOMALY_GAN_AUTH and ANOMALY_GAN_SECRET_FILE (see auth.py).
The folder ships in the package as ``anomaly_gan.dashboard`` (a link in the
source tree), so pages import its modules by that name.
"""

from pathlib import Path

import streamlit as st

from anomaly_gan.dashboard.auth import signed_in

st.set_page_config(page_title="anomaly-gan", layout="wide")
if not signed_in():
    st.stop()
PAGES = Path(__file__).resolve().parent / "app_pages"
navigation = st.navigation(
    [
        st.Page(PAGES / "overview.py", title="Overview", default=True),
        st.Page(PAGES / "flagged.py", title="Flagged events"),
        st.Page(PAGES / "triage.py", title="Triage"),
        st.Page(PAGES / "entities.py", title="Entities"),
        st.Page(PAGES / "network.py", title="Network"),
        st.Page(PAGES / "metrics.py", title="Metrics"),
        st.Page(PAGES / "models.py", title="Models"),
        st.Page(PAGES / "drift.py", title="Drift"),
        st.Page(PAGES / "images.py", title="Images"),
    ]
)
navigation.run()
