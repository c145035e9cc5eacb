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
            str(tmp_path / "v.db"),
            "--registry",
            str(tmp_path / "reg"),
            "--port",
            str(port),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(
                    f"http://127.0.0.1:{port}/_stcore/health", timeout=1
                ) as r:
                    if r.read() == b"ok":
                        break
            except OSError:
                pass
            assert server.poll() is None and time.monotonic() < deadline, (
                "the dashboard did not start"
            )
            time.sleep(0.2)
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
