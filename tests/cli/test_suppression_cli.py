"""Suppression rules from the command line: score marks, alerts skip."""

import json

import pandas as pd

from anomaly_gan.cli import main
from anomaly_gan.data.datasets import make_transactions
from anomaly_gan.stores.verdicts import VerdictStore


def test_score_marks_suppressed_rows_and_does_not_alert_them(
    small_cli_model, tmp_path, capsys
):
    db = tmp_path / "v.db"
    VerdictStore(db)
    fresh = make_transactions(2_000, fraud_rate=0.05, random_state=3)
    fresh.to_csv(tmp_path / "fresh.csv", index=False)
    out = tmp_path / "s.csv"
    base = [
        "score",
        "--model",
        str(small_cli_model),
        "--data",
        str(tmp_path / "fresh.csv"),
    ]
    base += ["--out", str(out), "--quiet", "--keep-cols", "channel"]
    assert main([*base, "--alerts-to", str(tmp_path / "a0.jsonl")]) == 0
    before = len((tmp_path / "a0.jsonl").read_text().splitlines())
    capsys.readouterr()
    argv = ["feedback", "suppress", "--db", str(db), "--where", "channel=online"]
    assert main([*argv, "--analyst", "ana", "--note", "web shop"]) == 0
    assert "suppression rule 1 added: channel=online" in capsys.readouterr().out
    assert main(["feedback", "suppressions", "--db", str(db)]) == 0
    assert "channel=online" in capsys.readouterr().out
    argv = [*base, "--suppressions", str(db), "--alerts-to", str(tmp_path / "a1.jsonl")]
    assert main([*argv, "--summary-json", str(tmp_path / "sum.json")]) == 0
    scored = pd.read_csv(out, keep_default_na=False)
    online = scored["channel"] == "online"
    assert set(scored.loc[online, "suppressed"]) == {"channel=online"}
    assert set(scored.loc[~online, "suppressed"]) == {""}
    summary = json.loads((tmp_path / "sum.json").read_text())
    hidden = int((online & (scored["is_anomaly"] == 1)).sum())
    assert summary["suppressed"] == hidden > 0
    assert summary["flagged"] == int(scored["is_anomaly"].sum())  # still reported
    alerts = [json.loads(x) for x in (tmp_path / "a1.jsonl").read_text().splitlines()]
    assert len(alerts) == before - hidden
    assert all(a["anomaly_gan"]["fields"]["channel"] != "online" for a in alerts)
    assert (
        f"suppressed by rules: {hidden:,} of the flagged rows"
        in capsys.readouterr().out
    )
    assert (
        main(["feedback", "unsuppress", "1", "--db", str(db), "--analyst", "bo"]) == 0
    )
    assert main(["feedback", "suppressions", "--db", str(db)]) == 0
    assert "no suppression rules" in capsys.readouterr().out
    assert (
        main(
            ["feedback", "suppress", "--db", str(db), "--where", "x", "--analyst", "a"]
        )
        == 2
    )
    assert "--where 'x': expected COLUMN=VALUE" in capsys.readouterr().err
