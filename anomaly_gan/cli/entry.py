"""The ``anomaly-gan`` command line: argument parsing, exit codes, one-line errors.

No logic of its own: each command is one module of this folder (``train``,
``score``, ...) with ``add_parser`` and ``run``; ``run`` calls the library. Exit codes:

- 0: done (``retrain``: the challenger was promoted);
- 1: an unexpected internal error (a bug: please report it with ``--debug``);
- 2: usage or input error (bad option, unreadable file, wrong column or type);
- 3: model or registry error (missing, altered, incompatible model; unknown version);
- 4: ``score --fail-on-bad-rows`` met a row that cannot be scored;
- 5: ``retrain`` kept the champion (the challenger did not pass the gate);
- 6: ``retrain`` found another retraining run holding the lock;
- 8: ``score --alerts-to`` could not deliver every alert (they are in the
  dead-letter file; the scores were written);
- 130: interrupted.

Errors print one line on stderr; ``--debug`` shows the traceback. Importing
this module does not import torch, so ``--help`` is fast.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence

from anomaly_gan._version import __version__
from anomaly_gan.cli._options import (
    EPILOG,
    EXIT_BAD_ROWS,
    EXIT_INTERNAL,
    EXIT_INTERRUPTED,
    EXIT_LOCKED,
    EXIT_MODEL,
    EXIT_USAGE,
    Parser,
)
from anomaly_gan.exceptions import (
    AnomalyGanError,
    ArtifactError,
    BadRowsError,
    LockedError,
    RegistryError,
)

# One module of this folder per command, in the order --help lists them.
COMMANDS = (
    "train",
    "score",
    "evaluate",
    "drift",
    "registry",
    "threshold",
    "retrain",
    "generate",
    "benchmark",
    "feedback",
    "dashboard",
)


def build_parser() -> argparse.ArgumentParser:
    """Build the argument parser of every command."""
    parser = Parser(
        prog="anomaly-gan",
        description="GAN-based anomaly detection for transactions, network events and images.",
        epilog=EPILOG,
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
        dest="command", required=True, metavar="COMMAND", parser_class=Parser
    )
    for name in COMMANDS:
        importlib.import_module(f"anomaly_gan.cli.{name}").add_parser(sub)
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
    command = importlib.import_module(f"anomaly_gan.cli.{args.command}")
    try:
        return int(command.run(args))
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
