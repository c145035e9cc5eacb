"""End to end: a real Streamlit server on localhost, driven by headless Chromium.

Skipped, with the reason, where Chromium or Playwright is not installed
(scripts/test.sh installs both on a machine where it runs as root).
"""

import gc
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from anomaly_gan.batch import score_frame

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
def test_dashboard_serves_flagged_events_in_a_browser(tmp_path, fitted, tx_test):
    if not Path(CHROMIUM).exists():
        pytest.skip("Chromium is not installed (apt-get install chromium)")
    sync_api = pytest.importorskip(
        "playwright.sync_api", reason="playwright is not installed"
    )
    scores = tmp_path / "scores"
    scores.mkdir()
    score_frame(fitted, tx_test, keep_cols=["is_fraud"]).to_csv(
        scores / "day1.csv", index=False
    )
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
        with sync_api.sync_playwright() as p:
            browser = p.chromium.launch(
                executable_path=CHROMIUM, headless=True, args=ARGS
            )
            page = browser.new_page()
            page.goto(f"http://127.0.0.1:{port}/")
            page.locator(
                "[data-testid='stApp'][data-test-script-state='notRunning']"
            ).wait_for(timeout=60_000)
            page.get_by_text("Overview").first.wait_for(timeout=30_000)
            assert page.locator("[data-testid='stMetric']").count() == 4
            page.locator(
                "[data-testid='stSidebarNav'] a", has_text="Flagged events"
            ).click()
            page.get_by_text("flagged events match").wait_for(timeout=60_000)
            page.locator("[data-testid='stDataFrame']").first.wait_for(timeout=60_000)
            page.screenshot(path=str(tmp_path / "flagged.png"), full_page=True)
            browser.close()
        assert (tmp_path / "flagged.png").stat().st_size > 10_000
    finally:
        server.terminate()
        server.wait(timeout=10)
        # Collect Playwright's leftover driver pipe here, under this test's warning
        # filters, rather than in whichever test the garbage collector runs next.
        gc.collect()
