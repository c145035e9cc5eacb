"""Scoring on a real Dask LocalCluster: same rows as the single-machine job,
complete output after a worker is killed, untouched output after a failure."""

import os
import signal
import subprocess
import sys
import threading
import time

import pandas as pd
import pytest

pytest.importorskip("distributed", reason="the [dask] extra is not installed")

from distributed import Client, LocalCluster

from anomaly_gan import make_transactions
from anomaly_gan.data.tables import expand_sources
from anomaly_gan.exceptions import BadRowsError
from anomaly_gan.jobs.batch import ScoreJob
from anomaly_gan.jobs.dask_batch import DaskScoreJob
from tests.conftest import ROOT

pytestmark = [
    pytest.mark.slow,
    pytest.mark.filterwarnings("ignore:.*unseen in training:UserWarning"),
    # distributed's own shutdown notices are not ours to fix
    pytest.mark.filterwarnings("ignore::DeprecationWarning:distributed.*"),
    pytest.mark.filterwarnings("ignore::ResourceWarning"),
    pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning"),
]


@pytest.fixture(scope="module")
def cluster():
    with LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        dashboard_address=":0",
        env={"OMP_NUM_THREADS": "1"},
    ) as c:
        yield c


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory, fitted):
    return fitted.save(tmp_path_factory.mktemp("model") / "m")


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    """A CSV with a malformed record and an unparseable value, and a Parquet copy."""
    folder = tmp_path_factory.mktemp("in")
    frame = make_transactions(6_000, fraud_rate=0.05, random_state=3)
    csv = folder / "fresh.csv"
    frame.to_csv(csv, index=False)
    lines = csv.read_text().splitlines()
    lines[1001] = lines[1001] + ",surplus"  # record 1001: a field too many
    cells = lines[4500].split(",")
    cells[frame.columns.get_loc("amount")] = "not-a-number"  # record 4500
    lines[4500] = ",".join(cells)
    csv.write_text("\n".join(lines) + "\n")
    parquet = folder / "fresh.parquet"
    frame.to_parquet(parquet, row_group_size=700)
    return {"csv": csv, "parquet": parquet}


def _single(det, source, out, **kw):
    return ScoreJob(det, expand_sources([source]), out, **kw).run()


def _dask(model_dir, source, out, cluster, **kw):
    kw.setdefault("partition_bytes", 100_000)
    return DaskScoreJob(
        model_dir,
        expand_sources([source]),
        out,
        scheduler=cluster.scheduler_address,
        **kw,
    ).run()


@pytest.mark.parametrize("kind", ["csv", "parquet"])
def test_matches_single_machine_row_for_row(
    kind, fitted, model_dir, inputs, cluster, tmp_path
):
    opts = {"keep_cols": ["amount", "country"], "label_col": "is_fraud"}
    one = _single(fitted, inputs[kind], tmp_path / "one.parquet", **opts)
    many = _dask(model_dir, inputs[kind], tmp_path / "out", cluster, **opts)
    parts = sorted((tmp_path / "out").iterdir())
    assert len(parts) >= 3
    assert all(p.name.startswith("part-") and p.suffix == ".parquet" for p in parts)
    expected = pd.read_parquet(tmp_path / "one.parquet")
    got = pd.read_parquet(tmp_path / "out")
    pd.testing.assert_frame_equal(got, expected)
    for name in (
        "scored",
        "rejected",
        "flagged",
        "unseen",
        "roc_auc",
        "average_precision",
    ):
        assert getattr(many, name) == pytest.approx(getattr(one, name)), name
    with Client(cluster.scheduler_address) as client:
        loads = client.run(
            lambda: __import__("anomaly_gan.jobs.dask_batch").jobs.dask_batch.LOADS[
                "count"
            ]
        )
    assert max(loads.values()) == 1  # once per worker, however many partitions
    if kind == "csv":
        assert many.rejected == 2
        rejected = pd.read_csv(tmp_path / "out.rejected.csv")
        assert rejected.equals(pd.read_csv(tmp_path / "one.parquet.rejected.csv"))
        assert rejected["row"].tolist() == [1001, 4500]


def test_killed_worker_and_rerun_leave_complete_output(
    fitted, model_dir, inputs, cluster, tmp_path
):
    big = tmp_path / "big.csv"
    frame = make_transactions(60_000, fraud_rate=0.02, random_state=5)
    frame.to_csv(big, index=False)
    _single(fitted, big, tmp_path / "one.parquet")
    expected = pd.read_parquet(tmp_path / "one.parquet")
    out = tmp_path / "out"
    errors: list[BaseException] = []

    def job() -> None:
        try:
            _dask(model_dir, big, out, cluster, partition_bytes=150_000)
        except BaseException as exc:  # noqa: BLE001 - checked below
            errors.append(exc)

    thread = threading.Thread(target=job)
    thread.start()
    deadline = time.monotonic() + 120
    staged: list = []
    while time.monotonic() < deadline and len(staged) < 3:
        staged = list(tmp_path.glob(".out.staging-*/part-*.parquet"))
        time.sleep(0.02)
    with Client(cluster.scheduler_address) as client:
        pids = client.run(os.getpid)
    assert len(staged) >= 3, "the job never got going"
    assert not out.exists(), "the job finished before a worker could be killed"
    os.kill(next(iter(pids.values())), signal.SIGKILL)
    thread.join(timeout=300)
    assert not errors, errors
    pd.testing.assert_frame_equal(pd.read_parquet(out), expected)
    first = sorted(p.name for p in out.iterdir())
    assert not [p for p in out.iterdir() if p.name.startswith(".")]
    # a re-run (now with bigger partitions) replaces the folder as a whole
    _dask(model_dir, big, out, cluster, partition_bytes=2_000_000)
    assert sorted(p.name for p in out.iterdir()) != first
    pd.testing.assert_frame_equal(pd.read_parquet(out), expected)
    assert not list(tmp_path.glob(".out.*"))


def test_failed_job_leaves_previous_output(
    fitted, model_dir, inputs, cluster, tmp_path
):
    out = tmp_path / "out"
    _dask(model_dir, inputs["parquet"], out, cluster)
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    with pytest.raises(BadRowsError, match=r"fresh.csv' row (1001|4500): "):
        _dask(model_dir, inputs["csv"], out, cluster, fail_on_bad_rows=True)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert not list(tmp_path.glob(".out.*"))
    assert not (tmp_path / "out.rejected.csv").exists()


def _score_cli(model_dir, source, out, *extra, prefix=("-m", "anomaly_gan")):
    return subprocess.run(
        [
            sys.executable, *prefix, "score", "--model", str(model_dir),
            "--data", str(source), "--out", str(out), *extra,
        ],
        capture_output=True, text=True, cwd=ROOT, timeout=300, check=False,
    )  # fmt: skip


@pytest.mark.e2e
def test_cli_local_cluster(model_dir, inputs, tmp_path):
    out = tmp_path / "scores"
    result = _score_cli(
        model_dir, inputs["parquet"], out,
        "--engine", "dask", "--workers", "2", "--partition-mb", "0.1", "--quiet",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "scored 6,000" in result.stdout
    assert len(pd.read_parquet(out)) == 6_000
    refused = _score_cli(
        model_dir, inputs["parquet"], tmp_path / "s.csv", "--engine", "dask"
    )
    assert refused.returncode == 2
    assert refused.stderr.strip().count("\n") == 0
    assert "folder of Parquet parts" in refused.stderr
    wrong = _score_cli(
        model_dir, inputs["parquet"], tmp_path / "s.csv", "--workers", "4"
    )
    assert wrong.returncode == 2
    assert "--workers: only with --engine dask" in wrong.stderr


def test_missing_dask_says_how_to_install(model_dir, inputs, tmp_path):
    code = (
        "import sys; sys.modules['distributed'] = None; "
        "from anomaly_gan.cli import main; sys.exit(main(sys.argv[1:]))"
    )
    result = _score_cli(
        model_dir, inputs["parquet"], tmp_path / "o", "--engine", "dask",
        prefix=("-c", code),
    )  # fmt: skip
    assert result.returncode == 2
    assert "pip install 'anomaly-gan[dask]'" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "o").exists()


def test_network_features_match_single_machine_across_files(cluster, tmp_path):
    """Window counts span files and partitions: both engines count the whole input."""
    from anomaly_gan import GANomalyDetector
    from anomaly_gan.data.network_synth import make_connections
    from anomaly_gan.data.zeek_writer import write_zeek_log
    from anomaly_gan.jobs.network_features import prepare_training_frame

    params = {
        "epochs": 1,
        "random_state": 0,
        "device": "cpu",
        "exclude_cols": ["attack_type", "is_attack"],
    }
    train = prepare_training_frame(
        make_connections(4_000, attack_rate=0.0, random_state=0), params, "auto", "t"
    )
    model = GANomalyDetector(**params).fit(train)
    model_dir = model.save(tmp_path / "net-model")
    fresh = make_connections(
        3_000, attack_rate=0.03, random_state=4, start="2026-11-05"
    )
    thirds = [fresh.iloc[i : i + 1_000] for i in range(0, 3_000, 1_000)]
    for i, part in enumerate(thirds):  # cut inside hours: a window spans two files
        write_zeek_log(part, tmp_path / f"conn.{i}.log", as_json=i == 1)
    fresh.to_parquet(tmp_path / "fresh.parquet", row_group_size=400)
    opts = {"keep_cols": ["attack_type"], "label_col": "is_attack"}
    for name, pattern in (
        ("logs", str(tmp_path / "conn.*.log")),
        ("parquet", tmp_path / "fresh.parquet"),
    ):
        sources = expand_sources([pattern])
        one = ScoreJob(model, sources, tmp_path / f"{name}.parquet", **opts).run()
        DaskScoreJob(
            model_dir,
            sources,
            tmp_path / f"{name}-dask",
            scheduler=cluster.scheduler_address,
            partition_bytes=20_000,
            **opts,
        ).run()
        expected = pd.read_parquet(tmp_path / f"{name}.parquet")
        got = pd.read_parquet(tmp_path / f"{name}-dask")
        assert one.scored == 3_000
        pd.testing.assert_frame_equal(got, expected, check_dtype=False)
