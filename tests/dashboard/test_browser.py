"""End to end: a real Streamlit server on localhost, driven by headless Chromium.

Skipped, with the reason, where Chromium or Playwright is not installed
(scripts/test.sh installs both on a machine where it runs as root).
"""

import gc
import json
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from anomaly_gan.jobs.scored_rows import score_frame
from anomaly_gan.stores.verdicts import VerdictStore

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start_dashboard(scores, db, registry):
    """Start 'anomaly-gan dashboard' on a free port; return it once it answers."""
    port = _free_port()
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "anomaly_gan",
            "dashboard",
            "--scores",
            str(scores),
            "--db",
            str(db),
            "--registry",
            str(registry),
            "--port",
            str(port),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(
                f"http://127.0.0.1:{port}/_stcore/health", timeout=1
            ) as r:
                if r.read() == b"ok":
                    return server, port
        except OSError:
            pass
        if server.poll() is not None or time.monotonic() > deadline:
            server.terminate()
            raise AssertionError("the dashboard did not start")
        time.sleep(0.2)


@pytest.mark.e2e
@pytest.mark.slow
@pytest.mark.filterwarnings("ignore:.*unseen in training:UserWarning")
# Playwright's driver process leaves a pipe for the garbage collector to close.
@pytest.mark.filterwarnings("ignore::ResourceWarning")
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_a_verdict_set_in_the_browser_survives_a_reload(tmp_path, fitted, tx_test):
    if not Path(CHROMIUM).exists():
        pytest.skip("Chromium is not installed (apt-get install chromium)")
    sync_api = pytest.importorskip(
        "playwright.sync_api", reason="playwright is not installed"
    )
    scores = tmp_path / "scores"
    scores.mkdir()
    scored = score_frame(fitted, tx_test, keep_cols=["is_fraud"])
    scored.to_csv(scores / "day1.csv", index=False)
    from anomaly_gan.jobs.drift_check import monitor_for

    monitor = monitor_for(fitted)
    monitor.update(fitted.preprocessor_.transform(tx_test))
    (scores / "day1.csv.drift.json").write_text(json.dumps(monitor.report()))
    server, port = _start_dashboard(scores, tmp_path / "v.db", tmp_path / "reg")
    try:
        shots = tmp_path / "screenshots"
        shots.mkdir()
        top = (
            scored.loc[scored["is_anomaly"] == 1]
            .sort_values("anomaly_score", ascending=False)["transaction_id"]
            .iloc[0]
        )
        with sync_api.sync_playwright() as p:
            browser = p.chromium.launch(
                executable_path=CHROMIUM, headless=True, args=ARGS
            )
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            url = f"http://127.0.0.1:{port}/"
            page.goto(url)
            idle = "[data-testid='stApp'][data-test-script-state='notRunning']"
            page.locator(idle).wait_for(timeout=60_000)
            page.locator("[data-testid='stMetric']").first.wait_for(timeout=60_000)
            assert page.locator("[data-testid='stMetric']").count() == 4
            page.screenshot(path=str(shots / "overview.png"), full_page=True)

            def visit(title, marker):
                page.locator("[data-testid='stSidebarNav'] a", has_text=title).click()
                page.get_by_text(marker).first.wait_for(timeout=60_000)
                page.locator(idle).wait_for(timeout=60_000)

            visit("Flagged events", "flagged events match")
            page.get_by_text(f"Why {top} was flagged").wait_for(timeout=60_000)
            page.get_by_text(top).first.wait_for(state="attached", timeout=60_000)
            page.wait_for_timeout(1500)  # let the data grid draw before the picture
            page.screenshot(path=str(shots / "flagged.png"), full_page=True)
            # Triage: name, the top event, a verdict, a note, save.
            visit("Triage", "Verdicts in this batch")
            page.get_by_label("Analyst").fill("ana")
            page.get_by_label("Analyst").press("Enter")
            page.locator(idle).wait_for(timeout=60_000)
            events = page.locator("[data-testid='stMultiSelect']").first
            events.locator("input").fill(top)
            # Click the option that names this event: the picker's search is
            # fuzzy, so Enter could take a neighbouring id as well.
            page.get_by_role("option").filter(has_text=top).first.click()
            events.locator("input").press("Escape")
            page.locator(idle).wait_for(timeout=60_000)
            page.get_by_text("confirmed", exact=True).first.click()
            page.get_by_label("Note").fill("seen in the browser")
            page.get_by_role("button", name="Save verdict").click()
            page.get_by_text("Saved 'confirmed' for 1 event(s).").wait_for(
                timeout=60_000
            )
            page.screenshot(path=str(shots / "triage.png"), full_page=True)
            # A reload is a new session: the verdict comes back from the store.
            page.reload()
            page.locator(idle).wait_for(timeout=60_000)
            page.get_by_text("Verdicts in this batch").wait_for(timeout=60_000)
            # Data frames draw on a canvas; their accessible cells are hidden.
            page.get_by_text("seen in the browser").first.wait_for(
                state="attached", timeout=60_000
            )
            visit("Entities", "Entities with flagged events")
            page.screenshot(path=str(shots / "entities.png"), full_page=True)
            visit("Metrics", "Labels from")
            page.screenshot(path=str(shots / "metrics.png"), full_page=True)
            visit("Models", "holds no version yet")
            page.screenshot(path=str(shots / "models.png"), full_page=True)
            visit("Drift", "Batches with drift")
            page.get_by_text("Per feature, over batches").wait_for(timeout=60_000)
            page.screenshot(path=str(shots / "drift.png"), full_page=True)
            visit("Images", "This batch has no heat maps")
            page.screenshot(path=str(shots / "images.png"), full_page=True)
            browser.close()
        store = VerdictStore(tmp_path / "v.db")
        saved = store.verdicts()
        assert saved["event_id"].tolist() == [top]
        assert saved["verdict"].tolist() == ["confirmed"]
        assert saved["analyst"].tolist() == ["ana"]
        for name in (
            "overview",
            "flagged",
            "triage",
            "metrics",
            "models",
            "drift",
            "images",
        ):
            assert (shots / f"{name}.png").stat().st_size > 10_000
    finally:
        server.terminate()
        server.wait(timeout=10)
        # Collect Playwright's leftover driver pipe here, under this test's warning
        # filters, rather than in whichever test the garbage collector runs next.
        gc.collect()


@pytest.mark.e2e
@pytest.mark.slow
@pytest.mark.filterwarnings("ignore:.*unseen in training:UserWarning")
@pytest.mark.filterwarnings("ignore::ResourceWarning")
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_the_network_demos_dashboard_shows_hosts_and_takes_a_verdict(tmp_path):
    """The dashboard as 'scripts/demo.sh --network' opens it, made by the same commands."""
    if not Path(CHROMIUM).exists():
        pytest.skip("Chromium is not installed (apt-get install chromium)")
    sync_api = pytest.importorskip(
        "playwright.sync_api", reason="playwright is not installed"
    )
    import pandas as pd

    from anomaly_gan.cli import main

    data, scores, registry = tmp_path / "data", tmp_path / "outputs", tmp_path / "reg"
    gen = ["generate", "--kind", "network"]
    assert (
        main(
            [
                *gen,
                "--rows",
                "10000",
                "--attack-rate",
                "0",
                "--out",
                str(data / "train.log.gz"),
            ]
        )
        == 0
    )
    assert main([*gen, "--rows", "6000", "--attack-rate", "0.03", "--random-state", "1",
                 "--start", "2026-11-05", "--out", str(data / "fresh.json")]) == 0  # fmt: skip
    assert main(["train", "--data", str(data / "train.log.gz"), "--out", str(tmp_path / "model"),
                 "--label-col", "is_attack", "--exclude-cols", "attack_type", "--epochs", "3",
                 "--random-state", "0", "--quiet", "--register", "--promote",
                 "--registry", str(registry)]) == 0  # fmt: skip
    out = scores / "network_scores.csv"
    assert main(["score", "--model", str(tmp_path / "model"), "--data", str(data / "fresh.json"),
                 "--out", str(out), "--keep-cols", "attack_type", "--label-col", "is_attack",
                 "--quiet"]) == 0  # fmt: skip
    scored = pd.read_csv(out)
    hosts = scored.groupby("id.orig_h")["is_anomaly"].sum().sort_values(ascending=False)
    top_host = str(hosts.index[0])
    top_uid = str(
        scored[scored["is_anomaly"] == 1].sort_values("anomaly_score").iloc[-1]["uid"]
    )
    server, port = _start_dashboard(scores, scores / "verdicts.db", registry)
    try:
        shots = tmp_path / "screenshots"
        shots.mkdir()
        with sync_api.sync_playwright() as p:
            browser = p.chromium.launch(
                executable_path=CHROMIUM, headless=True, args=ARGS
            )
            page = browser.new_page(viewport={"width": 1400, "height": 1200})
            page.goto(f"http://127.0.0.1:{port}/")
            idle = "[data-testid='stApp'][data-test-script-state='notRunning']"
            page.locator(idle).wait_for(timeout=60_000)
            page.locator("[data-testid='stSidebarNav'] a", has_text="Network").click()
            page.get_by_text("By source host").wait_for(timeout=60_000)
            page.locator(idle).wait_for(timeout=60_000)
            page.get_by_text("By destination port and service").wait_for(timeout=60_000)
            page.get_by_text("Flagged connections over time").wait_for(timeout=60_000)
            page.get_by_text(f"Flagged connections of {top_host}").wait_for(
                timeout=60_000
            )
            flagged = page.locator("[data-testid='stMetric']").nth(1)
            assert f"{int(scored['is_anomaly'].sum()):,}" in flagged.inner_text()
            page.wait_for_timeout(1500)  # let the charts draw before the picture
            page.screenshot(path=str(shots / "network.png"), full_page=True)
            # The same verdicts as transactions: one flagged connection, confirmed.
            page.locator("[data-testid='stSidebarNav'] a", has_text="Triage").click()
            page.get_by_text("Verdicts in this batch").wait_for(timeout=60_000)
            page.locator(idle).wait_for(timeout=60_000)
            page.get_by_label("Analyst").fill("soc")
            page.get_by_label("Analyst").press("Enter")
            page.locator(idle).wait_for(timeout=60_000)
            events = page.locator("[data-testid='stMultiSelect']").first
            events.locator("input").fill(top_uid)
            page.get_by_role("option").filter(has_text=top_uid).first.click()
            events.locator("input").press("Escape")
            page.locator(idle).wait_for(timeout=60_000)
            page.get_by_text("confirmed", exact=True).first.click()
            page.get_by_role("button", name="Save verdict").click()
            page.get_by_text("Saved 'confirmed' for 1 event(s).").wait_for(
                timeout=60_000
            )
            browser.close()
        saved = VerdictStore(scores / "verdicts.db").verdicts()
        assert saved["event_id"].tolist() == [top_uid]
        assert saved["analyst"].tolist() == ["soc"]
        assert (shots / "network.png").stat().st_size > 10_000
    finally:
        server.terminate()
        server.wait(timeout=10)
        gc.collect()
