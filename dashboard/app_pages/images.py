"""Images: the most anomalous images of an image batch with their heat maps."""

from pathlib import Path

import streamlit as st

from anomaly_gan.dashboard.sources import choose_batch, image_file

COLUMNS = 4

st.title("Images")
chosen = choose_batch()
if chosen is not None:
    path, frame = chosen
    if "heatmap" not in frame.columns:
        st.info(
            "This batch has no heat maps. Score images with "
            "`anomaly-gan score --model IMAGE_MODEL --data FOLDER --out "
            "SCORES_DIR/batch.csv --heatmaps SCORES_DIR/batch_heatmaps`."
        )
    else:
        count = st.slider("Images shown", 4, 64, 16, step=4, key="image_count")
        only_flagged = st.checkbox("Flagged only", value=True, key="image_flagged")
        shown = frame[frame["is_anomaly"] == 1] if only_flagged else frame
        shown = shown.sort_values("anomaly_score", ascending=False).head(count)
        st.caption(
            f"{len(shown)} of {int(frame['is_anomaly'].sum()):,} flagged images, most anomalous first; "
            "each pair is the image and its residual heat map (red: unlike the normal images). "
            "Set verdicts on the Triage page, by path."
        )
        columns = st.columns(COLUMNS)
        for i, (_, row) in enumerate(shown.iterrows()):
            overlay = image_file(path, str(row["heatmap"]))
            source = (
                image_file(
                    path, str(row["heatmap"]).replace("_heatmap.png", "_input.png")
                )
                if overlay is not None
                else None
            )
            with columns[i % COLUMNS]:
                label = f"{Path(str(row['path'])).name}: {row['anomaly_score']:.2f}"
                if overlay is None or source is None:
                    st.warning(f"{label}: heat map not found in the scores folder")
                else:
                    st.image(
                        [str(source), str(overlay)],
                        caption=[label, "heat map"],
                        width=96,
                    )
