"""The ``anomaly-gan`` command line: argument parsing, exit codes, one-line errors.

No logic of its own: each command calls the library. Exit codes:

- 0: done;
- 2: usage or input error (bad option, unreadable file, wrong column);
- 3: model error (missing, altered, incompatible model directory);
- 1: an unexpected internal error (a bug: please report it with ``--debug``).

Errors print one line on stderr; ``--debug`` shows the traceback.
"""

from __future__ import annotations

import argparse
import json
import logging
import shutil
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from anomaly_gan import __version__
from anomaly_gan.exceptions import (
    AnomalyGanError,
    ArtifactError,
    ConfigError,
    RegistryError,
)

EXIT_OK = 0
EXIT_INTERNAL = 1
EXIT_USAGE = 2
EXIT_MODEL = 3

logger = logging.getLogger("anomaly_gan")


class _Parser(argparse.ArgumentParser):
    """argparse that reports usage errors in one line with exit code 2."""

    def error(self, message: str) -> Any:
        self.exit(
            EXIT_USAGE, f"anomaly-gan: error: {message} (see '{self.prog} --help')\n"
        )


def build_parser() -> argparse.ArgumentParser:
    """Build the argument parser of every command."""
    parser = _Parser(
        prog="anomaly-gan",
        description="GAN-based anomaly detection for transactions, network events and images.",
        epilog="Exit codes: 0 done, 2 usage or input error, 3 model error, 1 internal error.",
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

    train = sub.add_parser(
        "train",
        help="train a detector on normal rows of a CSV or Parquet file",
        description=(
            "Train a GANomaly detector on a table of normal rows and save the model "
            "directory. With --label-col, rows labelled as anomalies are dropped first."
        ),
    )
    train.add_argument(
        "--data",
        required=True,
        metavar="FILE",
        help="training table (.csv, .csv.gz, .csv.zst, .parquet)",
    )
    train.add_argument(
        "--out",
        required=True,
        metavar="MODEL_DIR",
        help="model directory to write (replaced atomically)",
    )
    train.add_argument(
        "--config",
        metavar="FILE",
        help="TOML or JSON file of detector parameters (see docs/configuration.md)",
    )
    train.add_argument(
        "--label-col",
        metavar="C",
        help="label column: rows labelled anomalous are dropped; never a feature",
    )
    train.add_argument(
        "--normal-label",
        default="normal",
        metavar="V",
        help="text label of normal rows in --label-col (default: normal; 0 and false also count)",
    )
    train.add_argument(
        "--id-cols",
        nargs="+",
        metavar="C",
        help="identifier columns (never features; copied to score output)",
    )
    train.add_argument(
        "--timestamp-cols",
        nargs="+",
        metavar="C",
        help="timestamp columns (never features)",
    )
    train.add_argument(
        "--exclude-cols",
        nargs="+",
        metavar="C",
        help="other columns to leave out of the model",
    )
    train.add_argument(
        "--categorical-cols",
        nargs="+",
        metavar="C",
        help="force these columns to be categorical",
    )
    train.add_argument(
        "--numeric-cols",
        nargs="+",
        metavar="C",
        help="force these columns to be numeric",
    )
    train.add_argument(
        "--device",
        choices=["auto", "cpu", "cuda", "mps"],
        help="training device (default: auto = CUDA, then MPS, then CPU)",
    )
    train.add_argument(
        "--epochs",
        type=int,
        metavar="N",
        help="training epochs (default: by rule from the row count)",
    )
    train.add_argument(
        "--random-state", type=int, metavar="N", help="seed for a reproducible model"
    )
    train.add_argument(
        "--resume",
        action="store_true",
        help="continue a killed run from its last checkpoint (MODEL_DIR.checkpoints)",
    )
    train.add_argument("--quiet", action="store_true", help="no progress bar")

    score = sub.add_parser(
        "score",
        help="score a CSV or Parquet file with a trained model",
        description=(
            "Score every row of a table and write anomaly_score, is_anomaly, the score "
            "components and the top contributing features. The output is written to a "
            "temporary file and renamed into place when complete."
        ),
    )
    score.add_argument(
        "--model",
        required=True,
        metavar="MODEL_DIR",
        help="model directory written by 'anomaly-gan train'",
    )
    score.add_argument(
        "--data",
        required=True,
        metavar="FILE",
        help="table to score (.csv, .csv.gz, .csv.zst, .parquet)",
    )
    score.add_argument(
        "--out", required=True, metavar="FILE", help="output table (.csv or .parquet)"
    )
    score.add_argument(
        "--format",
        choices=["csv", "parquet"],
        help="output format (default: from --out's extension)",
    )
    score.add_argument(
        "--id-cols",
        nargs="+",
        metavar="C",
        help="columns copied first (default: the model's id columns)",
    )
    score.add_argument(
        "--keep-cols",
        nargs="+",
        metavar="C",
        help="more input columns copied to the output",
    )
    score.add_argument(
        "--top-k",
        type=int,
        default=3,
        metavar="K",
        help="contributing features per row (default: 3; 0 for none)",
    )
    score.add_argument(
        "--label-col",
        metavar="C",
        help="label column: report ROC-AUC and average precision against it",
    )
    score.add_argument(
        "--summary-json", metavar="FILE", help="also write the run summary as JSON"
    )

    gen = sub.add_parser(
        "generate",
        help="generate synthetic card transactions with labelled fraud",
        description="Write a synthetic card-transactions table (see anomaly_gan.datasets.make_transactions).",
    )
    gen.add_argument(
        "--rows",
        type=int,
        default=100_000,
        metavar="N",
        help="number of rows (default: 100000)",
    )
    gen.add_argument(
        "--fraud-rate",
        type=float,
        default=0.01,
        metavar="R",
        help="share of fraud rows (default: 0.01; 0 for normal only)",
    )
    gen.add_argument(
        "--random-state", type=int, default=0, metavar="N", help="seed (default: 0)"
    )
    gen.add_argument(
        "--out", required=True, metavar="FILE", help="output table (.csv or .parquet)"
    )
    return parser


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
    commands = {"train": _cmd_train, "score": _cmd_score, "generate": _cmd_generate}
    try:
        return commands[args.command](args)
    except ArtifactError as exc:
        return _fail(args, exc, EXIT_MODEL)
    except (AnomalyGanError, RegistryError) as exc:
        return _fail(args, exc, EXIT_USAGE)
    except KeyboardInterrupt:
        print("anomaly-gan: interrupted; no output was written", file=sys.stderr)
        return 130
    except Exception as exc:
        if args.debug:
            raise
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


def _cmd_train(args: argparse.Namespace) -> int:
    from anomaly_gan.batch import anomaly_labels
    from anomaly_gan.config import DetectorConfig
    from anomaly_gan.detector import GANomalyDetector
    from anomaly_gan.io import read_table

    params = DetectorConfig.from_file(args.config).to_dict() if args.config else {}
    overrides = {
        "id_cols": args.id_cols,
        "timestamp_cols": args.timestamp_cols,
        "exclude_cols": args.exclude_cols,
        "categorical_cols": args.categorical_cols,
        "numeric_cols": args.numeric_cols,
        "label_col": args.label_col,
        "device": args.device,
        "epochs": args.epochs,
        "random_state": args.random_state,
    }
    params.update({k: v for k, v in overrides.items() if v is not None})
    if args.epochs is not None and args.epochs < 1:
        msg = f"--epochs: expected a positive integer, found {args.epochs}"
        raise ConfigError(msg)
    params["verbose"] = 0 if args.quiet or not sys.stderr.isatty() else 1
    DetectorConfig.from_dict(params, source="options")  # check before reading data
    frame = read_table(args.data)
    if args.label_col:
        if args.label_col not in frame.columns:
            msg = f"column '{args.label_col}' (named by --label-col): not found in '{args.data}'"
            raise ConfigError(msg)
        labels = anomaly_labels(
            frame[args.label_col], args.label_col, args.normal_label
        )
        dropped = int(labels.sum())
        frame = frame[labels == 0]
        logger.warning(
            "dropped %d row(s) labelled as anomalies; training on %d normal rows",
            dropped,
            len(frame),
        )
    out = Path(args.out)
    checkpoints = out.with_name(out.name + ".checkpoints")
    det = GANomalyDetector(**params, checkpoint_dir=checkpoints)
    det.fit(frame, resume=args.resume)
    det.save(out)
    shutil.rmtree(checkpoints, ignore_errors=True)
    last = det.history_[-1] if det.history_ else {}
    print(
        f"trained on {len(frame):,} rows in {det.fit_seconds_:.1f} s on {det.device_} "
        f"({det.sizes_.epochs} epochs, best {det.best_epoch_}; "
        f"final losses g={last.get('g_loss', float('nan')):.3f} d={last.get('d_loss', float('nan')):.3f})"
    )
    print(
        f"threshold {det.threshold_:.4f} (target false-positive rate {det.config_.target_fpr:g})"
    )
    print(f"model written to {out}")
    return EXIT_OK


def _cmd_score(args: argparse.Namespace) -> int:
    from anomaly_gan.batch import score_file
    from anomaly_gan.detector import GANomalyDetector
    from anomaly_gan.io import atomic_write, table_format

    if args.top_k < 0:
        msg = f"--top-k: expected 0 or more, found {args.top_k}"
        raise ConfigError(msg)
    table_format(args.out, args.format)  # a bad output name fails before any work
    det = GANomalyDetector.load(args.model)
    summary = score_file(
        det,
        args.data,
        args.out,
        id_cols=args.id_cols,
        keep_cols=args.keep_cols,
        label_col=args.label_col,
        top_k=args.top_k,
        fmt=args.format,
    )
    rate = summary.flagged / summary.rows if summary.rows else 0.0
    print(
        f"scored {summary.rows:,} rows in {summary.seconds:.1f} s; flagged {summary.flagged:,} ({rate:.2%}) above threshold {summary.threshold:.4f}"
    )
    if summary.unseen:
        detail = ", ".join(f"{k}: {v:,}" for k, v in summary.unseen.items())
        print(f"categories unseen in training (scored as other): {detail}")
    if summary.extra_columns:
        print(f"columns not used by the model: {', '.join(summary.extra_columns)}")
    if summary.roc_auc is not None:
        print(
            f"against '{args.label_col}': ROC-AUC {summary.roc_auc:.4f}, average precision {summary.average_precision:.4f}"
        )
    print(f"scores written to {summary.output}")
    if args.summary_json:
        with atomic_write(args.summary_json) as tmp:
            tmp.write_text(json.dumps(summary.to_dict(), indent=2))
    return EXIT_OK


def _cmd_generate(args: argparse.Namespace) -> int:
    from anomaly_gan.datasets import make_transactions
    from anomaly_gan.io import table_format, write_table

    if args.rows < 1:
        msg = f"--rows: expected a positive integer, found {args.rows}"
        raise ConfigError(msg)
    if not 0 <= args.fraud_rate <= 0.5:
        msg = f"--fraud-rate: expected a number in [0, 0.5], found {args.fraud_rate}"
        raise ConfigError(msg)
    table_format(args.out)
    frame = make_transactions(
        args.rows, fraud_rate=args.fraud_rate, random_state=args.random_state
    )
    write_table(frame, args.out)
    print(
        f"wrote {len(frame):,} transactions ({int(frame['is_fraud'].sum()):,} fraud) to {args.out}"
    )
    return EXIT_OK


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
