"""Exit codes and the options several commands share.

Importing this module imports no torch, pandas or pyarrow: ``--help`` stays fast.
"""

from __future__ import annotations

import argparse
import math
from typing import Any

EXIT_OK = 0


EXIT_INTERNAL = 1


EXIT_USAGE = 2


EXIT_MODEL = 3


EXIT_BAD_ROWS = 4


EXIT_KEPT_CHAMPION = 5


EXIT_LOCKED = 6


EXIT_ALERTS_UNDELIVERED = 8


EXIT_INTERRUPTED = 130


EPILOG = (
    "Exit codes: 0 done, 2 usage or input error, 3 model or registry error, "
    "4 rejected rows with --fail-on-bad-rows, 5 retrain kept the champion, "
    "6 retrain already running, 8 alerts not all delivered, 1 internal error."
)

TABLES = ".csv, .csv.gz, .csv.zst, .parquet or a folder of Parquet files"


class Parser(argparse.ArgumentParser):
    """argparse that reports usage errors in one line with exit code 2."""

    def error(self, message: str) -> Any:
        self.exit(
            EXIT_USAGE, f"anomaly-gan: error: {message} (see '{self.prog} --help')\n"
        )


def registry_option(parser: argparse.ArgumentParser, *, inner: bool = False) -> None:
    # An action's own option must not overwrite one given before the action
    # (``registry --registry DIR list``): it only sets the value when given.
    parser.add_argument(
        "--registry",
        metavar="DIR",
        default=argparse.SUPPRESS if inner else None,
        help="model registry folder (default: $ANOMALY_GAN_REGISTRY, else ./registry)",
    )


def actor_option(parser: argparse.ArgumentParser, *, inner: bool = False) -> None:
    parser.add_argument(
        "--actor",
        metavar="NAME",
        default=argparse.SUPPRESS if inner else None,
        help="who the registry history records for this change (default: the OS user)",
    )


def model_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--model",
        required=True,
        metavar="MODEL",
        help="model directory, or registry:ALIAS / registry:VERSION",
    )


def finite(text: str) -> float:
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


def threshold_options(parser: argparse.ArgumentParser) -> None:
    limit = parser.add_mutually_exclusive_group()
    limit.add_argument(
        "--threshold",
        type=finite,
        metavar="T",
        help="flag rows scoring above T instead of at the model's threshold",
    )
    limit.add_argument(
        "--fpr",
        type=finite,
        metavar="R",
        help="use the threshold that flags R of the model's held-out normal rows",
    )


def scoring_device_option(p: Any) -> None:
    p.add_argument(
        "--device",
        choices=["auto", "cpu", "cuda", "mps"],
        default="auto",
        help="device the model scores on (default: auto = CUDA, then MPS, then CPU; "
        "--engine dask scores on its workers' CPUs)",
    )
