"""Alerts from 'score --alerts-to': a file, a webhook that retries, a dead letter."""

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import ClassVar

import pytest

from anomaly_gan.cli import main
from anomaly_gan.data.datasets import make_transactions


@pytest.fixture(scope="module")
def fresh(tmp_path_factory):
    folder = tmp_path_factory.mktemp("alerts")
    make_transactions(2_000, fraud_rate=0.05, random_state=3).to_csv(
        folder / "fresh.csv", index=False
    )
    return folder / "fresh.csv"


def _score(model, fresh, out, *extra):
    argv = ["score", "--model", str(model), "--data", str(fresh), "--out", str(out)]
    return main([*argv, "--quiet", "--keep-cols", "timestamp", *extra])


class _Receiver(BaseHTTPRequestHandler):
    failures = 0  # answer 503 to this many requests first
    bodies: ClassVar[list[bytes]] = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        if type(self).failures > 0:
            type(self).failures -= 1
            self.send_response(503)
        else:
            type(self).bodies.append(body)
            self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def receiver():
    _Receiver.failures, _Receiver.bodies = 0, []
    server = HTTPServer(("127.0.0.1", 0), _Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server, f"http://127.0.0.1:{server.server_address[1]}/alerts"
    server.shutdown()
    server.server_close()


def test_alerts_to_a_file_one_per_card_and_hour(
    small_cli_model, fresh, tmp_path, capsys
):
    target = tmp_path / "alerts.jsonl"
    summary = tmp_path / "summary.json"
    argv = ["--alerts-to", str(target), "--entity-cols", "card_id"]
    assert (
        _score(
            small_cli_model,
            fresh,
            tmp_path / "s.csv",
            *argv,
            "--summary-json",
            str(summary),
        )
        == 0
    )
    flagged = json.loads(summary.read_text())["flagged"]
    docs = [json.loads(line) for line in target.read_text().splitlines()]
    assert 0 < len(docs) <= flagged
    assert sum(d["anomaly_gan"]["rows"] for d in docs) == flagged
    windows = {(d["labels"]["card_id"], d["@timestamp"][:13]) for d in docs}
    assert len(windows) == len(docs)  # one per card and clock hour at most
    first = docs[0]
    assert first["event"]["kind"] == "alert" and first["rule"]["name"]
    assert first["event"]["risk_score"] == max(d["event"]["risk_score"] for d in docs)
    assert 0 <= first["event"]["severity"] <= 100
    assert first["anomaly_gan"]["fields"]["transaction_id"] == first["event"]["id"]
    assert first["anomaly_gan"]["reasons"][0]["feature"]
    assert set(first["anomaly_gan"]["components"]) >= {"recon", "knn"}
    assert f"alerts: {len(docs):,} sent to {target}" in capsys.readouterr().out
    # without --entity-cols: one alert per flagged row
    assert (
        _score(small_cli_model, fresh, tmp_path / "s.csv", "--alerts-to", str(target))
        == 0
    )
    assert len(target.read_text().splitlines()) == flagged


def test_a_webhook_that_fails_once_gets_every_alert(
    small_cli_model, fresh, tmp_path, receiver
):
    _, url = receiver
    _Receiver.failures = 1
    assert _score(small_cli_model, fresh, tmp_path / "s.csv", "--alerts-to", url) == 0
    lines = b"".join(_Receiver.bodies).decode().splitlines()
    assert lines and all(json.loads(x)["event"]["kind"] == "alert" for x in lines)
    assert not (tmp_path / "s.csv.alerts.dead.jsonl").exists()


def test_undelivered_alerts_go_to_the_dead_letter_and_exit_8(
    small_cli_model, fresh, tmp_path, receiver, capsys
):
    _, url = receiver
    _Receiver.failures = 10**6
    assert _score(small_cli_model, fresh, tmp_path / "s.csv", "--alerts-to", url) == 8
    err = capsys.readouterr().err
    assert "could not be delivered" in err and "(HTTP 503)" in err
    dead = (tmp_path / "s.csv.alerts.dead.jsonl").read_text().splitlines()
    assert dead and json.loads(dead[0])["event"]["kind"] == "alert"
    assert (tmp_path / "s.csv").exists()  # the scores were written


def test_alert_options_are_checked(small_cli_model, fresh, tmp_path, capsys):
    out = tmp_path / "s.csv"
    assert _score(small_cli_model, fresh, out, "--alert-window-minutes", "30") == 2
    assert "--alert-window-minutes: only with --alerts-to" in capsys.readouterr().err
    argv = ["--alerts-to", str(tmp_path / "a.jsonl"), "--entity-cols", "merchant"]
    assert _score(small_cli_model, fresh, out, *argv) == 2
    assert "--entity-cols merchant: not an output column" in capsys.readouterr().err
    assert _score(small_cli_model, fresh, out, "--alerts-to", str(fresh)) == 2
    assert "choose another output path" in capsys.readouterr().err


def test_entity_cols_roll_rows_and_alerts_up_per_card(
    small_cli_model, fresh, tmp_path, capsys
):
    import pandas as pd

    out = tmp_path / "s.csv"
    argv = ["--entity-cols", "card_id", "--keep-cols", "card_id", "timestamp"]
    assert _score(small_cli_model, fresh, out, *argv, "--batch-rows", "300") == 0
    assert "entities: " in capsys.readouterr().out
    rollup = pd.read_csv(tmp_path / "s.csv.entities.csv")
    scored = pd.read_csv(out)
    expected = scored.groupby("card_id").agg(
        rows=("anomaly_score", "size"), flagged=("is_anomaly", "sum")
    )
    got = rollup.set_index("card_id")[["rows", "flagged"]].sort_index()
    pd.testing.assert_frame_equal(got, expected.sort_index(), check_dtype=False)
    assert list(rollup["flagged"]) == sorted(rollup["flagged"], reverse=True)
    top = rollup.iloc[0]
    hits = scored[(scored["card_id"] == top["card_id"]) & (scored["is_anomaly"] == 1)]
    assert top["max_score"] == pytest.approx(
        scored.loc[scored["card_id"] == top["card_id"], "anomaly_score"].max()
    )
    assert (
        pd.Timestamp(top["first_flagged"])
        == pd.to_datetime(hits["timestamp"], utc=True).min()
    )
    assert top["top_reason"] in set(hits["feature_1"])
    # a run without --entity-cols removes the earlier run's roll-up
    assert _score(small_cli_model, fresh, out) == 0
    assert not (tmp_path / "s.csv.entities.csv").exists()
