"""AppTest tests of every dashboard page: empty state, a loaded batch, verdicts, threshold."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from anomaly_gan.jobs.scored_rows import score_frame
from anomaly_gan.stores.registry import ModelRegistry
from anomaly_gan.stores.verdicts import VerdictStore

APP = str(Path(__file__).resolve().parents[2] / "dashboard" / "streamlit_app.py")
PAGES = (
    "overview",
    "flagged",
    "triage",
    "entities",
    "network",
    "metrics",
    "models",
    "drift",
    "images",
)
UNSEEN_OK = pytest.mark.filterwarnings("ignore:.*unseen in training:UserWarning")


@pytest.fixture
def env(tmp_path, monkeypatch):
    scores = tmp_path / "scores"
    scores.mkdir()
    monkeypatch.setenv("ANOMALY_GAN_SCORES_DIR", str(scores))
    monkeypatch.setenv("ANOMALY_GAN_REGISTRY", str(tmp_path / "registry"))
    monkeypatch.setenv("ANOMALY_GAN_VERDICTS", str(tmp_path / "verdicts.db"))
    return tmp_path


@pytest.fixture
def loaded(env, fitted, tx_test):
    scored = score_frame(fitted, tx_test, keep_cols=["is_fraud", "amount"])
    scored.to_csv(env / "scores" / "day1.csv", index=False)
    reg = ModelRegistry(env / "registry")
    reg.register(
        fitted.save(env / "model"),
        promote_to="production",
        evaluation={"roc_auc": 0.95},
    )
    return scored


def page(name):
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    if name != "overview":
        at.switch_page(f"app_pages/{name}.py")
        at.run()
    assert not at.exception, at.exception
    return at


@pytest.mark.parametrize("name", PAGES)
def test_every_page_says_what_to_do_when_empty(env, name):
    at = page(name)
    text = " ".join(i.value for i in at.info)
    if name == "models":
        assert "holds no version yet" in text
    elif name == "drift":
        assert "No drift report yet" in text and "anomaly-gan score" in text
    else:
        assert "No scored files in" in text and "anomaly-gan score" in text
    # Issue 15, case 10: no server path reaches the browser.
    shown = " ".join(e.value for e in [*at.info, *at.error, *at.warning, *at.markdown])
    assert str(env) not in shown


@UNSEEN_OK
def test_a_folder_of_parquet_parts_is_one_batch(env, fitted, tx_test):
    scored = score_frame(fitted, tx_test)
    parts = env / "scores" / "nightly"  # as `score --engine dask` writes it
    parts.mkdir()
    for i, rows in enumerate(np.array_split(np.arange(len(scored)), 3)):
        scored.iloc[rows].to_parquet(parts / f"part-{i:05d}.parquet")
    (env / "scores" / ".nightly.staging-abc").mkdir()  # never listed
    at = page("overview")
    assert at.sidebar.selectbox[0].options == ["nightly"]
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Rows"] == f"{len(scored):,}"


@UNSEEN_OK
def test_overview_shows_the_batch_and_the_threshold(loaded):
    at = page("overview")
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Rows"] == f"{len(loaded):,}"
    assert metrics["Flagged"] == f"{int(loaded['is_anomaly'].sum()):,}"
    charts = at.get("vega_lite_chart")
    assert len(charts) >= 1
    assert '"rule"' in charts[0].proto.spec


@UNSEEN_OK
def test_flagged_events_table_filters_and_detail(loaded):
    at = page("flagged")
    table = at.dataframe[0].value
    assert len(table) == min(50, int(loaded["is_anomaly"].sum()))
    assert table["anomaly_score"].is_monotonic_decreasing
    top_id = table["transaction_id"].iloc[0]
    assert at.selectbox(key="event").value == top_id
    assert any(f"Why {top_id} was flagged" in h.value for h in at.subheader)
    at.text_input(key="search").set_value("no-such-id").run()
    assert "0 flagged events match" in at.caption[0].value


@UNSEEN_OK
def test_a_verdict_is_saved_and_read_back(loaded, env):
    at = page("triage")
    flagged_ids = loaded.loc[loaded["is_anomaly"] == 1].sort_values(
        "anomaly_score", ascending=False
    )["transaction_id"]
    at.text_input(key="analyst").set_value("   ")
    at.multiselect(key="events").set_value(list(flagged_ids.iloc[:1]))
    at.button(key="save").click().run()
    assert "Enter your name first" in at.error[0].value
    at.text_input(key="analyst").set_value("ana")
    at.multiselect(key="events").set_value(list(flagged_ids.iloc[:2]))
    at.radio(key="verdict").set_value("confirmed")
    at.text_area(key="note").set_value("card testing")
    at.run()
    # Issue 15, case 15: several events at once need an explicit confirmation.
    assert at.button(key="save").label == "Save verdict for 2 events"
    at.button(key="save").click().run()
    assert at.error[0].value == (
        "2 events are selected: tick the confirmation to set their verdict at once."
    )
    assert (
        at.checkbox(key="confirm_bulk").label
        == "Set 'confirmed' on all 2 selected events"
    )
    at.checkbox(key="confirm_bulk").check()
    at.button(key="save").click().run()
    assert "Saved 'confirmed' for 2 event(s)." in at.success[0].value
    saved = at.dataframe[0].value
    assert sorted(saved["event_id"]) == sorted(flagged_ids.iloc[:2])
    assert set(saved["analyst"]) == {"ana"}
    audit = at.dataframe[1].value
    assert len(audit) == 2
    # A fresh session (another analyst's browser) reads the same verdicts from the store.
    again = page("triage")
    assert len(again.dataframe[0].value) == 2


@UNSEEN_OK
def test_the_threshold_slider_changes_the_confusion_matrix(loaded):
    at = page("metrics")
    assert "label column 'is_fraud'" in at.caption[0].value
    before = at.table[0].value.to_numpy().tolist()
    slider = at.slider(key="threshold")
    slider.set_value(float(loaded["anomaly_score"].min())).run()
    after = at.table[0].value.to_numpy().tolist()
    assert after != before
    assert after[0][1] > before[0][1]  # a lower threshold flags more normal events
    assert after[1][1] >= before[1][1]
    assert len(at.get("vega_lite_chart")) == 2


@UNSEEN_OK
def test_models_page_lists_versions_and_loss_curves(loaded):
    at = page("models")
    versions = at.dataframe[0].value
    assert versions["version"].tolist() == [1]
    assert versions["aliases"].tolist() == ["production"]
    assert len(at.get("vega_lite_chart")) == 1
    assert any("losses per logged step" in c.value for c in at.caption)


@UNSEEN_OK
def test_overview_shows_flagged_events_over_time_and_categories(env, fitted, tx_test):
    scored = score_frame(fitted, tx_test, keep_cols=["timestamp", "merchant_category"])
    scored.to_csv(env / "scores" / "day2.csv", index=False)
    at = page("overview")
    titles = [h.value for h in at.subheader]
    assert "Flagged events over time" in titles
    assert "Top categories among flagged events" in titles
    picker = at.selectbox(key="category_col")
    assert "merchant_category" in picker.options
    picker.set_value("merchant_category").run()
    assert not at.exception


@UNSEEN_OK
def test_a_target_false_positive_rate_sets_the_threshold(loaded):
    at = page("metrics")
    at.radio(key="mode").set_value("target false-positive rate").run()
    at.slider(key="target_fpr").set_value(0.05).run()
    cm = at.table[0].value.to_numpy().tolist()
    normals = cm[0][0] + cm[0][1]
    assert cm[0][1] <= 0.05 * normals
    assert "flags at most 5.0% of the labelled normal events" in at.caption[
        -1
    ].value or any("flags at most 5.0%" in c.value for c in at.caption)


@UNSEEN_OK
def test_flagged_filters_by_verdict_and_category_and_shows_similar_events(
    env, fitted, tx_test
):
    scored = score_frame(fitted, tx_test, keep_cols=["merchant_category"])
    scored.to_csv(env / "scores" / "day3.csv", index=False)
    at = page("flagged")
    table = at.dataframe[0].value
    assert (table["verdict"] == "unreviewed").all()
    assert at.caption[-1].value.startswith("No reviewed event in this batch yet")
    # An analyst reviews the second and third events in another session.
    ids = table["transaction_id"].tolist()
    triage = page("triage")
    triage.text_input(key="analyst").set_value("ana")
    triage.multiselect(key="events").set_value(ids[1:3])
    triage.radio(key="verdict").set_value("false_positive").run()
    triage.checkbox(key="confirm_bulk").check()
    triage.button(key="save").click().run()
    at = page("flagged")
    at.multiselect(key="status").set_value(["false_positive"]).run()
    assert sorted(at.dataframe[0].value["transaction_id"]) == sorted(ids[1:3])
    at.multiselect(key="status").set_value(["unreviewed"]).run()
    assert ids[1] not in set(at.dataframe[0].value["transaction_id"])
    at.multiselect(key="status").set_value([]).run()
    # The top event's similar reviewed events are the two reviewed ones.
    similar = at.dataframe[-1].value
    assert sorted(similar["transaction_id"]) == sorted(ids[1:3])
    assert set(similar["verdict"]) == {"false_positive"}
    assert similar["distance"].is_monotonic_increasing
    at.selectbox(key="flag_category_col").set_value("merchant_category").run()
    category = str(table["merchant_category"].iloc[0])
    at.multiselect(key="category_values").set_value([category]).run()
    shown = at.dataframe[0].value
    assert len(shown) and (shown["merchant_category"].astype(str) == category).all()


@UNSEEN_OK
def test_metrics_saves_the_threshold_as_the_models_operating_point(loaded, env):
    at = page("metrics")
    threshold = float(loaded["anomaly_score"].quantile(0.5))
    at.slider(key="threshold").set_value(threshold).run()
    at.text_input(key="op_analyst").set_value("")
    at.button(key="op_save").click().run()
    assert "Enter your name first" in at.error[0].value
    at.text_input(key="op_analyst").set_value("ana")
    at.text_input(key="op_note").set_value("more recall")
    at.button(key="op_save").click().run()
    assert "now use threshold" in at.success[0].value
    point = ModelRegistry(env / "registry").operating_point("production")
    assert point["threshold"] == pytest.approx(threshold)
    assert point["set_by"] == "ana" and point["note"] == "more recall"
    assert 0 <= point["evaluation"]["recall"] <= 1


def test_metrics_finds_the_threshold_for_a_target_precision(loaded):
    at = page("metrics")
    at.radio(key="mode").set_value("target precision").run()
    at.slider(key="target_precision").set_value(0.6).run()
    caption = next(c.value for c in at.caption if "lowest whose precision" in c.value)
    threshold = float(caption.split()[1])
    above = loaded[loaded["anomaly_score"] > threshold]
    assert above["is_fraud"].mean() >= 0.6 and len(above) >= 10
    lower = loaded[loaded["anomaly_score"] > threshold - 1e-6]
    assert len(lower) >= len(above)
    precision = float(at.metric[1].value)
    assert precision == pytest.approx(above["is_fraud"].mean(), abs=1e-3)


def test_metrics_finds_the_threshold_for_an_alert_budget(loaded):
    at = page("metrics")
    at.radio(key="mode").set_value("alert budget").run()
    at.number_input(key="alert_budget").set_value(25).run()
    caption = next(c.value for c in at.caption if "raises at most 25 alerts" in c.value)
    threshold = float(caption.split()[1])
    assert 20 <= int((loaded["anomaly_score"] > threshold).sum()) <= 25


@UNSEEN_OK
def test_metrics_combines_label_column_and_verdicts(loaded, env):
    flagged = loaded[loaded["is_anomaly"] == 1]
    normal_flagged = flagged[flagged["is_fraud"] == 0]["transaction_id"].head(1)
    triage = page("triage")
    triage.text_input(key="analyst").set_value("ana")
    triage.multiselect(key="events").set_value(list(normal_flagged))
    triage.radio(key="verdict").set_value("confirmed")
    triage.button(key="save").click().run()
    at = page("metrics")
    at.radio(key="labels_from").set_value(
        "both (verdicts override the label column)"
    ).run()
    assert any("1 of them overridden" in c.value for c in at.caption)
    at.radio(key="labels_from").set_value("analysts' verdicts").run()
    # One confirmed verdict alone is one class: the page says what it needs.
    assert any("labels of both kinds" in i.value for i in at.info)


@UNSEEN_OK
def test_models_page_compares_evaluation_reports(loaded, env, fitted):
    reg = ModelRegistry(env / "registry")
    reg.register(fitted.save(env / "model2"), evaluation={"roc_auc": 0.97})
    at = page("models")
    compared = at.dataframe[1].value  # after the versions table
    assert list(compared.columns) == ["version 1", "version 2"]
    assert compared.loc["roc_auc"].tolist() == [0.95, 0.97]


def test_models_page_shows_a_versions_model_card(loaded, env, fitted):
    reg = ModelRegistry(env / "registry")
    reg.register(fitted.save(env / "model2"), evaluation={"roc_auc": 0.97})
    at = page("models")
    card = " ".join(m.value for m in at.markdown)
    assert "# Model card: version 1 (tabular)" in card  # production's by default
    assert "roc auc: 0.95" in card and "Drift baseline" in card
    at.selectbox(key="card_version").set_value(2).run()
    card = " ".join(m.value for m in at.markdown)
    assert "# Model card: version 2 (tabular)" in card and "roc auc: 0.97" in card


def test_secret_sign_in_guards_every_page(env, monkeypatch):
    secret = env / "secret.txt"
    secret.write_text("correct horse battery\n")
    monkeypatch.setenv("ANOMALY_GAN_AUTH", "secret")
    monkeypatch.setenv("ANOMALY_GAN_SECRET_FILE", str(secret))
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    assert not at.info  # no page content before signing in
    at.text_input(key="sign_in_name").set_value("ana")
    at.text_input(key="sign_in_secret").set_value("wrong")
    at.button[0].click().run()
    assert at.error[0].value == "Wrong secret."
    at.text_input(key="sign_in_secret").set_value("correct horse battery")
    at.button[0].click().run()
    assert not at.exception
    assert any("No scored files in" in i.value for i in at.info)
    at.switch_page("app_pages/triage.py").run()
    assert not at.exception


def test_uploads_are_validated_and_added_atomically(env, monkeypatch):
    from anomaly_gan.dashboard import sources as data

    monkeypatch.setenv("ANOMALY_GAN_MAX_UPLOAD_MB", "1")
    good = b"id,anomaly_score,is_anomaly\na,0.5,0\nb,3.2,1\n"
    saved = data.save_upload("../../evil name.csv", good)
    assert saved == env / "scores" / "evil_name.csv"
    assert saved.read_bytes() == good
    bad = {
        "x.txt": (good, "expected a .csv or .parquet"),
        "evil name.csv": (good, "exists already"),
        "big.csv": (b"0" * (2**20 + 1), "over the 1 MB upload limit"),
        "plain.csv": (b"id,amount\na,1\n", "missing column anomaly_score"),
        "nan.csv": (
            b"id,anomaly_score,is_anomaly\na,0.5,0\nb,high,1\n",
            "row 3, column anomaly_score: expected a number",
        ),
        "broken.parquet": (b"not parquet", "cannot be read as parquet"),
    }
    for name, (content, reason) in bad.items():
        with pytest.raises(ValueError, match=reason):
            data.save_upload(name, content)
    left = sorted(p.name for p in (env / "scores").iterdir())
    assert left == ["evil_name.csv"]  # nothing partial left behind


@pytest.fixture
def image_batch(env):
    """A real image model scores a folder with --heatmaps into the scores folder."""
    from PIL import Image

    from anomaly_gan.cli import main

    rng = np.random.default_rng(0)
    base = np.linspace(10, 60, 16)[None, :].repeat(16, axis=0)
    root = env / "imgs"
    for label, n in (("ok", 60), ("defect", 4)):
        (root / label).mkdir(parents=True)
        for i in range(n):
            img = np.clip(base + rng.normal(0, 3, (16, 16)), 0, 255)
            if label == "defect":
                img[4:8, 4:8] = 255
            Image.fromarray(img.astype(np.uint8)).save(root / label / f"{i:03d}.png")
    model = env / "img_model"
    train = ["train", "--data", str(root), "--out", str(model), "--image-size", "16"]
    assert main([*train, "--epochs", "3", "--random-state", "0", "--quiet"]) == 0
    scores = env / "scores"
    score = ["score", "--model", str(model), "--data", str(root)]
    score += ["--out", str(scores / "images.csv"), "--fpr", "0.05"]
    assert main([*score, "--heatmaps", str(scores / "images_heatmaps")]) == 0
    return scores / "images.csv"


def test_image_page_shows_heat_maps_and_metrics_take_text_labels(image_batch):
    at = page("images")
    assert not at.warning
    images = at.get("image")
    assert len(images) == 4  # the four flagged images: the planted defects
    assert all(len(i.value) == 2 for i in images)  # the image and its heat map
    scored = pd.read_csv(image_batch)
    flagged = scored[scored["is_anomaly"] == 1]
    assert (flagged["label"] == "defect").all()
    assert sorted(i.captions[0].split(":")[0] for i in images) == sorted(
        Path(p).name for p in flagged["path"]
    )
    at.checkbox(key="image_flagged").uncheck().run()
    at.slider(key="image_count").set_value(8).run()
    assert len(at.get("image")) == 8
    metrics = page("metrics")
    metrics.selectbox(key="normal_label").set_value("ok").run()
    assert not metrics.exception
    assert any("label column 'label' (64 rows)" in c.value for c in metrics.caption)
    triage = page("triage")
    assert triage.multiselect(key="events").options  # flagged images by path


def test_a_signed_in_analyst_cannot_save_verdicts_under_another_name(
    loaded, env, monkeypatch
):
    # Issue 15, case 9: signed in as "bob", a verdict was saved as someone else.
    secret = env / "secret.txt"
    secret.write_text("correct horse battery\n")
    monkeypatch.setenv("ANOMALY_GAN_AUTH", "secret")
    monkeypatch.setenv("ANOMALY_GAN_SECRET_FILE", str(secret))
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    at.text_input(key="sign_in_name").set_value("bob")
    at.text_input(key="sign_in_secret").set_value("correct horse battery")
    at.button[0].click().run()
    at.switch_page("app_pages/triage.py").run()
    assert not at.exception
    assert "analyst" not in [w.key for w in at.text_input]
    assert any("Analyst: **bob** (signed in)" in m.value for m in at.markdown)
    event = str(loaded.loc[loaded["is_anomaly"] == 1, "transaction_id"].iloc[0])
    at.multiselect(key="events").set_value([event])
    at.radio(key="verdict").set_value("confirmed")
    at.button(key="save").click().run()
    assert not at.exception
    audit = VerdictStore(env / "verdicts.db").audit()
    assert set(audit["analyst"]) == {"bob"}


@pytest.mark.filterwarnings("ignore:.*unseen in training")
def test_overview_and_metrics_agree_on_the_batch_threshold(env, fitted, tx_test):
    # Issue 15, cases 12-13: Overview counted the file's flags while Metrics
    # started its slider at the lowest flagged score rounded to 2 decimals.
    from anomaly_gan.data.scored_meta import scoring_meta
    from anomaly_gan.jobs.batch import ScoreJob

    data = env / "fresh.csv"
    tx_test.to_csv(data, index=False)
    threshold = float(np.quantile(fitted.decision_function(tx_test), 0.97)) + 1e-4
    meta = scoring_meta(
        threshold=threshold,
        threshold_source="--threshold",
        model="m",
        model_version=None,
        target_fpr=None,
        version="test",
    )
    ScoreJob(
        fitted,
        [data],
        env / "scores" / "day1.csv",
        keep_cols=["is_fraud"],
        threshold=threshold,
        meta=meta,
    ).run()
    overview = page("overview")
    flagged = int(overview.metric[1].value.replace(",", ""))
    assert any(
        f"threshold {threshold:.4f} (given by --threshold; model m)" in c.value
        for c in overview.caption
    )
    metrics = page("metrics")
    line = [c.value for c in metrics.caption if c.value.startswith("At this threshold")]
    assert line == [f"At this threshold {flagged:,} events are flagged."]
    assert metrics.slider(key="threshold").value == pytest.approx(threshold)


@pytest.mark.filterwarnings("ignore:.*unseen in training")
def test_a_batch_without_a_recorded_threshold_that_flags_nothing_draws_no_line(
    env, fitted, tx_test
):
    scored = score_frame(fitted, tx_test.head(50), threshold=1e9)
    scored.to_csv(env / "scores" / "quiet.csv", index=False)
    overview = page("overview")
    assert any(
        "records no threshold (scored before 0.5) and flags nothing" in c.value
        for c in overview.caption
    )


@UNSEEN_OK
def test_events_are_picked_by_score_time_and_reason_and_set_from_their_detail(
    loaded, env
):
    flagged = loaded[loaded["is_anomaly"] == 1].sort_values(
        "anomaly_score", ascending=False
    )
    first = flagged.iloc[0]
    triage = page("triage")
    label = triage.multiselect(key="events").options[0]
    assert label == (
        f"{first['transaction_id']} · score {first['anomaly_score']:.2f} · "
        f"top reason {first['feature_1']}"
    )
    at = page("flagged")
    table = at.dataframe[0].value
    assert list(table.columns[:2]) == ["transaction_id", "anomaly_score"]
    assert "verdict" in table.columns and "value_1" not in table.columns
    (components,) = [d.value for d in at.dataframe if "component" in d.value.columns]
    assert components["component"].tolist() == [
        "recon",
        "latent",
        "disc",
        "knn",
        "marginal",
    ]
    # Three significant digits, not 15 decimals.
    expected = [
        f"{float(first[f'score_{c}']):.3g}"
        for c in ("recon", "latent", "disc", "knn", "marginal")
    ]
    assert components["normalised value"].tolist() == expected
    # A verdict set from the event's detail lands in the store.
    at.text_input(key="detail_analyst").set_value("ana")
    at.radio(key="detail_verdict").set_value("needs_review")
    at.button(key="detail_save").click().run()
    assert not at.exception
    assert at.success[0].value == f"Saved 'needs_review' for {first['transaction_id']}."
    saved = VerdictStore(env / "verdicts.db").verdicts()
    assert saved[["event_id", "verdict", "analyst"]].values.tolist() == [
        [str(first["transaction_id"]), "needs_review", "ana"]
    ]


@UNSEEN_OK
def test_drift_page_shows_each_batch_against_the_training_reference(
    env, loaded, fitted, tx_train
):
    import json

    from anomaly_gan.jobs.drift_check import monitor_for

    scores = env / "scores"
    # day1 is the training data itself; day2 the same with amounts five times larger
    moved = tx_train.copy()
    moved["amount"] = moved["amount"] * 5
    moved.to_csv(scores / "day2.csv", index=False)
    for name, frame in (("day1.csv", tx_train), ("day2.csv", moved)):
        monitor = monitor_for(fitted)
        monitor.update(fitted.preprocessor_.transform(frame))
        (scores / f"{name}.drift.json").write_text(json.dumps(monitor.report()))
    at = page("drift")
    assert at.metric[0].value == "1 of 2"
    batches = at.dataframe[0].value
    assert list(batches["batch"]) == ["day1.csv", "day2.csv"]
    assert list(batches["drifted"]) == ["no", "yes"]
    assert "amount" in batches["drifted features"].iloc[1]
    assert at.multiselect(key="drift_features").value == ["amount"]
    table = at.dataframe[1].value
    assert table.set_index("feature").loc["amount", "drifted"] == "DRIFT"
    at.selectbox(key="drift_batch").set_value("day1.csv").run()
    table = at.dataframe[1].value
    assert set(table["drifted"]) == {"ok"}


@UNSEEN_OK
def test_entities_page_ranks_cards_by_flagged_events(env, fitted, tx_test):
    scored = score_frame(fitted, tx_test, keep_cols=["card_id", "timestamp"])
    scored.to_csv(env / "scores" / "day1.csv", index=False)
    at = page("entities")
    assert at.selectbox(key="entity_col").value == "card_id"
    table = at.dataframe[0].value
    flagged = scored.groupby("card_id")["is_anomaly"].sum().sort_values()
    assert table["flagged"].iloc[0] == flagged.iloc[-1]
    assert table["flagged"].sum() == scored["is_anomaly"].sum()
    top = table["card_id"].iloc[0]
    assert at.selectbox(key="entity").value == top
    events = at.dataframe[1].value
    assert len(events) == int((scored["card_id"].astype(str) == top).sum())


@UNSEEN_OK
def test_an_event_marks_its_pattern_benign(env, fitted, tx_test):
    scored = score_frame(fitted, tx_test, keep_cols=["merchant_category", "channel"])
    scored.to_csv(env / "scores" / "day4.csv", index=False)
    at = page("flagged")
    top = at.dataframe[0].value.iloc[0]
    row = scored[scored["transaction_id"] == top["transaction_id"]].iloc[0]
    at.button(key="suppress_save").click().run()
    assert "Enter your name first" in at.error[0].value
    at.text_input(key="suppress_analyst").set_value("ana")
    at.button(key="suppress_save").click().run()
    assert "Pick at least one column" in at.error[0].value
    at.multiselect(key="suppress_cols").set_value(["merchant_category", "channel"])
    at.text_input(key="suppress_note").set_value("known merchant")
    at.button(key="suppress_save").click().run()
    assert not at.exception
    (rule,) = VerdictStore(env / "verdicts.db").suppressions()
    assert rule["conditions"] == {
        "channel": [str(row["channel"])],
        "merchant_category": [str(row["merchant_category"])],
    }
    assert rule["analyst"] == "ana" and rule["note"] == "known merchant"
    assert at.success[0].value.startswith(f"Suppression rule {rule['id']} added")


@pytest.fixture(scope="module")
def network_scores():
    """Connections scored by a network model, as 'score' writes them (kept columns)."""
    from anomaly_gan import GANomalyDetector
    from anomaly_gan.data.network_synth import make_connections
    from anomaly_gan.features.connections import VIEW_COLUMNS, derive_frame
    from anomaly_gan.jobs.network_features import prepare_training_frame

    params = {
        "epochs": 2,
        "random_state": 0,
        "device": "cpu",
        "exclude_cols": ["attack_type", "is_attack"],
    }
    train = make_connections(6_000, attack_rate=0.0, random_state=0)
    model = GANomalyDetector(**params).fit(
        prepare_training_frame(train, params, "auto", "train")
    )
    fresh = derive_frame(
        make_connections(3_000, attack_rate=0.03, random_state=1, start="2026-11-05")
    )
    return score_frame(model, fresh, keep_cols=[*VIEW_COLUMNS, "attack_type"])


@UNSEEN_OK
def test_network_page_shows_hosts_ports_and_a_hosts_connections(env, network_scores):
    network_scores.to_csv(env / "scores" / "net.csv", index=False)
    # Written after the scores, as 'score' does: a side file, never the batch shown.
    (env / "scores" / "net.csv.entities.csv").write_text(
        "id.orig_h,rows\n10.0.10.1,3\n"
    )
    at = page("network")
    hosts = at.dataframe[0].value  # by source host
    flagged = network_scores.groupby("id.orig_h")["is_anomaly"].sum()
    assert hosts["flagged"].iloc[0] == flagged.max()
    assert hosts["flagged"].sum() == network_scores["is_anomaly"].sum()
    ports = at.dataframe[1].value  # by destination port and service
    assert {"id.resp_p", "service", "flagged_share"} <= set(ports.columns)
    assert ports["connections"].sum() == len(network_scores)
    top = str(hosts["id.orig_h"].iloc[0])
    assert at.selectbox(key="network_host").value == top
    events = at.dataframe[2].value  # the picked host's flagged connections
    assert len(events) == int(
        (
            (network_scores["id.orig_h"] == top) & (network_scores["is_anomaly"] == 1)
        ).sum()
    )
    assert "feature_1" in events.columns
    assert str(events["ts"].iloc[0]).startswith("2026-11-05")


def test_network_page_says_what_a_transactions_file_lacks(loaded):
    at = page("network")
    assert "holds no connection records" in at.info[0].value


def test_a_shown_threshold_flags_the_events_the_page_counts():
    from dashboard.app_pages.metrics import _shown

    scores = np.array([0.5, 1.00002, 1.00004, 2.0])
    threshold = float(np.nextafter(1.00004, -np.inf))  # flags the top two only
    text = _shown(threshold, scores)
    assert int(np.sum(scores > float(text))) == 2
    assert text != f"{threshold:.4f}"  # four decimals would flag three
    assert _shown(1.5, scores) == "1.5000"
