"""The ``anomaly-gan`` command line: argument parsing, exit codes, one-line errors.

No logic of its own: the handlers in ``commands`` call the library. Exit codes:

- 0: done (``retrain``: the challenger was promoted);
- 1: an unexpected internal error (a bug: please report it with ``--debug``);
- 2: usage or input error (bad option, unreadable file, wrong column or type);
- 3: model or registry error (missing, altered, incompatible model; unknown version);
- 4: ``score --fail-on-bad-rows`` met a row that cannot be scored;
- 5: ``retrain`` kept the champion (the challenger did not pass the gate);
- 6: ``retrain`` found another retraining run holding the lock;
- 130: interrupted.

Errors print one line on stderr; ``--debug`` shows the traceback. Importing
this module does not import torch, so ``--help`` is fast.
"""

from __future__ import annotations

import argparse
import logging
import math
import sys
from collections.abc import Sequence
from typing import Any

from anomaly_gan._version import __version__
from anomaly_gan.exceptions import (
    AnomalyGanError,
    ArtifactError,
    BadRowsError,
    LockedError,
    RegistryError,
)

EXIT_OK = 0
EXIT_INTERNAL = 1
EXIT_USAGE = 2
EXIT_MODEL = 3
EXIT_BAD_ROWS = 4
EXIT_KEPT_CHAMPION = 5
EXIT_LOCKED = 6
EXIT_INTERRUPTED = 130

_TABLES = ".csv, .csv.gz, .csv.zst, .parquet or a folder of Parquet files"
_EPILOG = (
    "Exit codes: 0 done, 2 usage or input error, 3 model or registry error, "
    "4 rejected rows with --fail-on-bad-rows, 5 retrain kept the champion, "
    "6 retrain already running, 1 internal error."
)


class _Parser(argparse.ArgumentParser):
    """argparse that reports usage errors in one line with exit code 2."""

    def error(self, message: str) -> Any:
        self.exit(
            EXIT_USAGE, f"anomaly-gan: error: {message} (see '{self.prog} --help')\n"
        )


def _registry_option(parser: argparse.ArgumentParser, *, inner: bool = False) -> None:
    # An action's own option must not overwrite one given before the action
    # (``registry --registry DIR list``): it only sets the value when given.
    parser.add_argument(
        "--registry",
        metavar="DIR",
        default=argparse.SUPPRESS if inner else None,
        help="model registry folder (default: $ANOMALY_GAN_REGISTRY, else ./registry)",
    )


def _actor_option(parser: argparse.ArgumentParser, *, inner: bool = False) -> None:
    parser.add_argument(
        "--actor",
        metavar="NAME",
        default=argparse.SUPPRESS if inner else None,
        help="who the registry history records for this change (default: the OS user)",
    )


def _model_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--model",
        required=True,
        metavar="MODEL",
        help="model directory, or registry:ALIAS / registry:VERSION",
    )


def _finite(text: str) -> float:
    """Argparse type: a finite number (nan and inf would flag nothing or all)."""
    try:
        value = float(text)
    except ValueError:
        msg = f"expected a number, found {text!r}"
        raise argparse.ArgumentTypeError(msg) from None
    if not math.isfinite(value):
        msg = f"expected a finite number, found {text!r}"
        raise argparse.ArgumentTypeError(msg)
    return value


def _threshold_options(parser: argparse.ArgumentParser) -> None:
    limit = parser.add_mutually_exclusive_group()
    limit.add_argument(
        "--threshold",
        type=_finite,
        metavar="T",
        help="flag rows scoring above T instead of at the model's threshold",
    )
    limit.add_argument(
        "--fpr",
        type=_finite,
        metavar="R",
        help="use the threshold that flags R of the model's held-out normal rows",
    )


def build_parser() -> argparse.ArgumentParser:
    """Build the argument parser of every command."""
    parser = _Parser(
        prog="anomaly-gan",
        description="GAN-based anomaly detection for transactions, network events and images.",
        epilog=_EPILOG,
    )
    parser.add_argument(
        "--version", action="version", version=f"anomaly-gan {__version__}"
    )
    parser.add_argument(
        "--debug", action="store_true", help="show tracebacks on errors"
    )
    parser.add_argument(
        "-v", "--verbose", action="store_true", help="log progress details to stderr"
    )
    sub = parser.add_subparsers(
        dest="command", required=True, metavar="COMMAND", parser_class=_Parser
    )
    _add_train(sub)
    _add_score(sub)
    _add_evaluate(sub)
    _add_registry(sub)
    _add_retrain(sub)
    _add_generate(sub)
    _add_benchmark(sub)
    _add_feedback(sub)
    _add_dashboard(sub)
    return parser


def _add_train(sub: Any) -> None:
    p = sub.add_parser(
        "train",
        help="train a detector on normal rows of a CSV or Parquet file",
        description=(
            "Train a GANomaly detector on a table of normal rows and save the model "
            "directory. With --label-col, rows labelled as anomalies are dropped first. "
            "Started by 'torchrun --nproc-per-node N -m anomaly_gan train ...' it "
            "trains data-parallel on N processes (DDP; one per GPU, or gloo on CPUs); "
            "rank 0 writes checkpoints and the model."
        ),
        epilog=_EPILOG,
    )
    p.add_argument(
        "--data",
        required=True,
        metavar="FILE",
        help=f"training table ({_TABLES}), or images: a folder of PNG/JPEG files, an .npz file or an MNIST IDX file",
    )
    p.add_argument(
        "--out",
        required=True,
        metavar="MODEL_DIR",
        help="model directory to write (replaced atomically)",
    )
    p.add_argument(
        "--config",
        metavar="FILE",
        help="TOML or JSON file of detector parameters (docs/configuration.md)",
    )
    p.add_argument(
        "--label-col",
        metavar="C",
        help="label column: rows labelled anomalous are dropped; never a feature",
    )
    p.add_argument(
        "--normal-label",
        default="normal",
        metavar="V",
        help="text label of normal rows (default: normal; 0 and false also count)",
    )
    p.add_argument(
        "--id-cols",
        nargs="+",
        metavar="C",
        help="identifier columns (never features; copied to score output)",
    )
    p.add_argument(
        "--timestamp-cols",
        nargs="+",
        metavar="C",
        help="timestamp columns (never features)",
    )
    p.add_argument(
        "--exclude-cols",
        nargs="+",
        metavar="C",
        help="other columns to leave out of the model",
    )
    p.add_argument(
        "--categorical-cols",
        nargs="+",
        metavar="C",
        help="force these columns to be categorical",
    )
    p.add_argument(
        "--numeric-cols",
        nargs="+",
        metavar="C",
        help="force these columns to be numeric",
    )
    p.add_argument(
        "--device",
        choices=["auto", "cpu", "cuda", "mps"],
        help="training device (default: auto = CUDA, then MPS, then CPU)",
    )
    p.add_argument(
        "--epochs",
        type=int,
        metavar="N",
        help="training epochs (default: by rule from the row count)",
    )
    p.add_argument(
        "--score-combine",
        choices=["balanced", "max", "mean"],
        help="how the GAN's residuals, the knn term and the marginal term make the "
        "score: balanced "
        "(default), max (training data likely to hold many unlabelled anomalies) or "
        "mean (training data known to be clean); see docs/model.md",
    )
    p.add_argument(
        "--image-size",
        type=int,
        default=32,
        metavar="N",
        help="image sources: images are resized to N x N (16, 32, 64, 128 or 256; default 32)",
    )
    p.add_argument(
        "--random-state", type=int, metavar="N", help="seed for a reproducible model"
    )
    p.add_argument(
        "--resume",
        action="store_true",
        help="continue a killed run from its last checkpoint (MODEL_DIR.checkpoints)",
    )
    p.add_argument(
        "--register",
        action="store_true",
        help="also add the model to the registry as a new version",
    )
    p.add_argument(
        "--promote",
        metavar="ALIAS",
        nargs="?",
        const="production",
        help="with --register: point ALIAS (default: production) at it",
    )
    _registry_option(p)
    _actor_option(p)
    p.add_argument("--quiet", action="store_true", help="no progress bar")


def _add_score(sub: Any) -> None:
    p = sub.add_parser(
        "score",
        help="score CSV or Parquet files with a trained model (streaming)",
        description=(
            "Stream rows through the model in bounded memory and write anomaly_score, "
            "is_anomaly, the score components and the top contributing features. "
            "Rows that cannot be scored go to OUT.rejected.csv (or fail the run with "
            "--fail-on-bad-rows). Outputs are written to temporary files and renamed "
            "into place when complete."
        ),
        epilog=_EPILOG,
    )
    _model_option(p)
    p.add_argument(
        "--data",
        required=True,
        nargs="+",
        metavar="FILE",
        help=f"input files or glob patterns ({_TABLES})",
    )
    p.add_argument(
        "--out",
        required=True,
        metavar="FILE",
        help="output table (.csv or .parquet); with --engine dask a folder",
    )
    p.add_argument(
        "--format",
        choices=["csv", "parquet"],
        help="output format (default: from --out's extension)",
    )
    p.add_argument(
        "--id-cols",
        nargs="+",
        metavar="C",
        help="columns copied first (default: the model's id columns)",
    )
    p.add_argument(
        "--keep-cols",
        nargs="+",
        metavar="C",
        help="more input columns copied to the output",
    )
    p.add_argument(
        "--top-k",
        type=int,
        default=3,
        metavar="K",
        help="contributing features per row (default: 3; 0 for none)",
    )
    p.add_argument(
        "--label-col",
        metavar="C",
        help="label column: report ROC-AUC and average precision against it",
    )
    _threshold_options(p)
    p.add_argument(
        "--fail-on-bad-rows",
        action="store_true",
        help="exit 4 at the first row that cannot be scored instead of rejecting it",
    )
    p.add_argument(
        "--batch-rows",
        type=int,
        default=100_000,
        metavar="N",
        help="rows per batch (default: 100000; memory grows with it)",
    )
    p.add_argument(
        "--threads",
        type=int,
        metavar="N",
        help="CPU threads for the model (default: one fewer than the cores this "
        "process may use, at least 1; with --engine dask: per worker process, "
        "default 1)",
    )
    p.add_argument(
        "--summary-json", metavar="FILE", help="also write the run summary as JSON"
    )
    p.add_argument(
        "--heatmaps",
        metavar="DIR",
        help="image models: write each image's input, reconstruction and heat-map overlay as PNGs to DIR (replaced as a whole)",
    )
    p.add_argument("--quiet", action="store_true", help="no progress output")
    _scoring_device_option(p)
    _registry_option(p)
    d = p.add_argument_group(
        "scale-out",
        "score partitions in parallel on Dask (needs: pip install 'anomaly-gan[dask]'); "
        "--out is then a folder of Parquet parts, one per partition, swapped in whole "
        "when every part is written",
    )
    d.add_argument(
        "--engine",
        choices=["local", "dask"],
        default="local",
        help="local: one streaming process (default); dask: partitions on a Dask cluster",
    )
    d.add_argument(
        "--scheduler",
        default="local",
        metavar="ADDRESS",
        help="'local' (default) for a local cluster of --workers processes, or a "
        "scheduler address such as tcp://10.0.0.5:8786 (the model folder and inputs "
        "must be readable at the same paths on every worker)",
    )
    d.add_argument(
        "--workers",
        type=int,
        default=2,
        metavar="N",
        help="worker processes of the local cluster (default: 2; one thread each, "
        "or --threads)",
    )
    d.add_argument(
        "--partition-mb",
        type=float,
        default=64.0,
        metavar="MB",
        help="input megabytes per partition (default: 64; CSV bytes or uncompressed "
        "Parquet row groups; a compressed CSV file is one partition)",
    )


def _scoring_device_option(p: Any) -> None:
    p.add_argument(
        "--device",
        choices=["auto", "cpu", "cuda", "mps"],
        default="auto",
        help="device the model scores on (default: auto = CUDA, then MPS, then CPU; "
        "--engine dask scores on its workers' CPUs)",
    )


def _add_evaluate(sub: Any) -> None:
    p = sub.add_parser(
        "evaluate",
        help="measure a model on a labelled file",
        description=(
            "Score a labelled file and report ROC-AUC, average precision, precision, "
            "recall and F1 at the threshold, recall at 1%% and 0.1%% false-positive rate, "
            "precision at k and the confusion matrix, as a table and optionally JSON."
        ),
        epilog=_EPILOG,
    )
    _model_option(p)
    p.add_argument(
        "--data",
        required=True,
        nargs="+",
        metavar="FILE",
        help=f"labelled input ({_TABLES})",
    )
    p.add_argument(
        "--label-col",
        required=True,
        metavar="C",
        help="label column (non-zero, or text other than --normal-label, is an anomaly)",
    )
    p.add_argument(
        "--normal-label",
        default="normal",
        metavar="V",
        help="text label of normal rows (default: normal)",
    )
    _threshold_options(p)
    p.add_argument("--json", metavar="FILE", help="also write the report as JSON")
    _scoring_device_option(p)
    _registry_option(p)


def _add_registry(sub: Any) -> None:
    p = sub.add_parser(
        "registry",
        help="list, inspect, add, promote and roll back model versions",
        description="Manage the model registry: numbered immutable versions and aliases such as 'production'.",
        epilog=_EPILOG,
    )
    _registry_option(p)
    _actor_option(p)
    actions = p.add_subparsers(
        dest="action", required=True, metavar="ACTION", parser_class=_Parser
    )
    for name, text in (
        ("list", "list versions with their aliases and metrics"),
        ("runs", "list retraining run reports"),
    ):
        a = actions.add_parser(name, help=text, description=text)
        _registry_option(a, inner=True)
        _actor_option(a, inner=True)
    a = actions.add_parser(
        "show",
        help="show one version's metadata as JSON",
        description="Show one version's metadata as JSON.",
    )
    a.add_argument("version", metavar="VERSION", help="version number or alias")
    _registry_option(a, inner=True)
    _actor_option(a, inner=True)
    a = actions.add_parser(
        "add",
        help="add a model directory as a new version",
        description="Copy a verified model directory into the registry as the next version.",
    )
    a.add_argument("model_dir", metavar="MODEL_DIR")
    a.add_argument(
        "--evaluation",
        metavar="FILE",
        help="evaluation report JSON (from 'anomaly-gan evaluate --json') to keep with it",
    )
    a.add_argument("--note", default="", help="free text kept with the version")
    a.add_argument(
        "--promote",
        metavar="ALIAS",
        nargs="?",
        const="production",
        help="also point ALIAS (default: production) at it",
    )
    _registry_option(a, inner=True)
    _actor_option(a, inner=True)
    a = actions.add_parser(
        "promote",
        help="point an alias at a version",
        description="Point an alias (default: production) at a version, atomically.",
    )
    a.add_argument("version", metavar="VERSION", help="version number or alias")
    a.add_argument(
        "--alias", default="production", help="alias to move (default: production)"
    )
    _registry_option(a, inner=True)
    _actor_option(a, inner=True)
    a = actions.add_parser(
        "rollback",
        help="point an alias back at its previous version",
        description="Point an alias back at the version it had before its last change.",
    )
    a.add_argument(
        "--alias", default="production", help="alias to roll back (default: production)"
    )
    _registry_option(a, inner=True)
    _actor_option(a, inner=True)
    a = actions.add_parser(
        "set-threshold",
        help="record a version's operating point (threshold)",
        description=(
            "Record the threshold that score and evaluate use for registry:VERSION "
            "(unless given --threshold or --fpr). The version itself is not changed."
        ),
    )
    a.add_argument("version", metavar="VERSION", help="version number or alias")
    a.add_argument("threshold", type=float, metavar="THRESHOLD")
    a.add_argument("--note", default="", help="why this threshold")
    _registry_option(a, inner=True)
    _actor_option(a, inner=True)
    a = actions.add_parser(
        "diff",
        help="compare two versions",
        description="Compare two versions: parameters, sizes, features and evaluation.",
    )
    a.add_argument("a", metavar="A")
    a.add_argument("b", metavar="B")
    _registry_option(a, inner=True)
    _actor_option(a, inner=True)


def _add_retrain(sub: Any) -> None:
    p = sub.add_parser(
        "retrain",
        help="scheduled retraining: train a challenger, promote it only when no worse",
        description=(
            "Read fresh data, train a challenger on it without the rows the model in "
            "service flags (unless confirmed benign), compare it with that model on the "
            "same holdout, register it, and promote it only when it passes the gate. "
            "See docs/retraining.md."
        ),
        epilog=_EPILOG,
    )
    p.add_argument(
        "--config",
        required=True,
        metavar="FILE",
        help="retraining config (TOML or YAML)",
    )
    p.add_argument(
        "--report-json", metavar="FILE", help="also write the run report to FILE"
    )
    p.add_argument(
        "--force",
        action="store_true",
        help="retrain even when a version was already trained on exactly this data "
        "(otherwise such a run is skipped with exit code 5)",
    )
    _registry_option(p)
    _actor_option(p)


def _add_generate(sub: Any) -> None:
    p = sub.add_parser(
        "generate",
        help="generate synthetic card transactions with labelled fraud",
        description="Write a synthetic card-transactions table (see anomaly_gan.datasets.make_transactions).",
    )
    p.add_argument(
        "--rows",
        type=int,
        default=100_000,
        metavar="N",
        help="number of rows (default: 100000)",
    )
    p.add_argument(
        "--fraud-rate",
        type=float,
        default=0.01,
        metavar="R",
        help="share of fraud rows (default: 0.01; 0 for normal only)",
    )
    p.add_argument(
        "--random-state", type=int, default=0, metavar="N", help="seed (default: 0)"
    )
    p.add_argument(
        "--out", required=True, metavar="FILE", help="output table (.csv or .parquet)"
    )


def _add_benchmark(sub: Any) -> None:
    p = sub.add_parser(
        "benchmark",
        help="compare the detector with PyOD's on ADBench and NSL-KDD",
        description=(
            "Run the protocol of ../shared/BENCHMARK.md: every detector on the same "
            "splits, results appended to a CSV (a re-run resumes), then a Markdown report."
        ),
    )
    p.add_argument(
        "--adbench",
        metavar="DIR",
        default="../shared/data/adbench",
        help="folder of ADBench .npz files ('' to skip)",
    )
    p.add_argument(
        "--nsl-kdd",
        metavar="DIR",
        default="../shared/data/nsl-kdd",
        help="NSL-KDD folder ('' to skip)",
    )
    p.add_argument(
        "--mnist",
        metavar="DIR",
        default="",
        help="MNIST folder (IDX files) for the one-class image protocol, e.g. ../shared/data/mnist (default: skipped)",
    )
    p.add_argument(
        "--datasets",
        nargs="+",
        metavar="NAME",
        help="only these data sets (file stems, nsl-kdd, mnist or mnist-D)",
    )
    p.add_argument(
        "--detectors",
        nargs="+",
        metavar="NAME",
        help="only these detectors (anomaly-gan, IForest, ECOD, KNN, PCA, AutoEncoder, DeepSVDD, ALAD, AnoGAN; CosineKNN on images)",
    )
    p.add_argument(
        "--seeds",
        nargs="+",
        type=int,
        default=[0, 1, 2],
        metavar="N",
        help="seeds (default: 0 1 2)",
    )
    p.add_argument(
        "--setting",
        choices=["clean", "contaminated", "both"],
        default="both",
        help="clean: fit on the normal training rows; contaminated: on all training "
        "rows, anomalies included and unlabelled (ADBench sets; NSL-KDD and MNIST "
        "are clean only); both (default)",
    )
    p.add_argument(
        "--anogan-max-rows",
        type=int,
        default=3000,
        metavar="N",
        help="run AnoGAN only where training has at most N rows (default: 3000)",
    )
    p.add_argument(
        "--results",
        default="docs/results/benchmark.csv",
        metavar="FILE",
        help="results CSV, appended to (default: docs/results/benchmark.csv)",
    )
    p.add_argument(
        "--report",
        default="docs/results/benchmark.md",
        metavar="FILE",
        help="Markdown report to write (default: docs/results/benchmark.md)",
    )
    p.add_argument(
        "--report-only",
        action="store_true",
        help="only rewrite the report from the results CSV",
    )


def _add_feedback(sub: Any) -> None:
    p = sub.add_parser(
        "feedback",
        help="export analysts' verdicts for retraining and evaluation",
        description="Read the verdict store (SQLite) that the dashboard writes.",
    )
    actions = p.add_subparsers(
        dest="action", required=True, metavar="ACTION", parser_class=_Parser
    )
    a = actions.add_parser(
        "export",
        help="write verdicts to CSV or Parquet",
        description=(
            "Write verdicts (event_id first, then verdict, note, analyst, updated_at, "
            "batch_id, batch, score). The file of confirmed ones is what "
            "'[normal] confirmed_fraud_ids' in a retrain config expects."
        ),
    )
    a.add_argument(
        "--db",
        metavar="FILE",
        help="verdict store (default: $ANOMALY_GAN_VERDICTS, else ./verdicts.db)",
    )
    a.add_argument(
        "--out",
        required=True,
        metavar="FILE",
        help="output table (.csv or .parquet), written atomically",
    )
    a.add_argument(
        "--verdict",
        choices=["confirmed", "false_positive", "needs_review"],
        help="only this verdict",
    )


def _add_dashboard(sub: Any) -> None:
    p = sub.add_parser(
        "dashboard",
        help="start the analysts' dashboard (Streamlit)",
        description="Start the Streamlit dashboard on scored files, the registry and the verdict store.",
    )
    p.add_argument(
        "--scores",
        metavar="DIR",
        default="outputs",
        help="folder of scored files; the only folder it opens files in (default: outputs)",
    )
    p.add_argument(
        "--db",
        metavar="FILE",
        default="verdicts.db",
        help="verdict store (default: verdicts.db)",
    )
    p.add_argument(
        "--port", type=int, default=8501, metavar="N", help="port (default: 8501)"
    )
    p.add_argument(
        "--address",
        default="127.0.0.1",
        metavar="ADDR",
        help="address to bind (default: 127.0.0.1, this machine only); another address needs --auth",
    )
    p.add_argument(
        "--auth",
        choices=["none", "secret", "oidc"],
        default="none",
        help="sign-in: none (default), secret (a shared secret, --secret-file) or oidc (st.login with [auth] in .streamlit/secrets.toml)",
    )
    p.add_argument(
        "--secret-file",
        metavar="FILE",
        help="file whose first line is the shared secret (with --auth secret)",
    )
    p.add_argument(
        "--sign-in-max-failures",
        type=int,
        default=5,
        metavar="N",
        help="with --auth secret: lock a client out after N failed sign-ins in a row "
        "(default: 5); each failure also doubles the wait before its next attempt",
    )
    p.add_argument(
        "--sign-in-lockout-minutes",
        type=float,
        default=15.0,
        metavar="M",
        help="with --auth secret: how long a lockout lasts (default: 15)",
    )
    p.add_argument(
        "--max-upload-mb",
        type=int,
        default=200,
        metavar="N",
        help="largest scored file analysts may upload, in MB (default: 200)",
    )
    _registry_option(p)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; return the exit code."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version and usage errors
        return int(exc.code or 0)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="anomaly-gan: %(message)s",
        stream=sys.stderr,
    )
    logging.captureWarnings(True)
    from anomaly_gan import commands

    try:
        return int(getattr(commands, f"run_{args.command}")(args))
    except BadRowsError as exc:
        return _fail(args, exc, EXIT_BAD_ROWS)
    except LockedError as exc:
        return _fail(args, exc, EXIT_LOCKED)
    except (ArtifactError, RegistryError) as exc:
        return _fail(args, exc, EXIT_MODEL)
    except AnomalyGanError as exc:
        return _fail(args, exc, EXIT_USAGE)
    except KeyboardInterrupt:
        print("anomaly-gan: interrupted; no output was written", file=sys.stderr)
        return EXIT_INTERRUPTED
    except OSError as exc:
        if exc.filename is None or args.debug:  # not a file-system error: a bug
            return _internal(args, exc)
        print(
            f"anomaly-gan: error: file '{exc.filename}': {exc.strerror or exc} "
            "(outputs are written to a temporary file and renamed: none was left)",
            file=sys.stderr,
        )
        return EXIT_USAGE
    except Exception as exc:  # noqa: BLE001 - the CLI edge (STYLE.md section 5)
        return _internal(args, exc)


def _internal(args: argparse.Namespace, exc: Exception) -> int:
    if args.debug:
        raise exc
    print(
        f"anomaly-gan: internal error: {exc.__class__.__name__}: {exc} "
        "(re-run with --debug for the traceback and report it)",
        file=sys.stderr,
    )
    return EXIT_INTERNAL


def _fail(args: argparse.Namespace, exc: Exception, code: int) -> int:
    if args.debug:
        raise exc
    print(f"anomaly-gan: error: {exc}", file=sys.stderr)
    return code


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
