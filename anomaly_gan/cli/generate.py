"""``anomaly-gan generate``: write synthetic transactions or network connections.

``add_parser`` declares the options; ``run`` handles them and returns the exit code.
"""

from __future__ import annotations

import argparse
from typing import Any

from anomaly_gan.exceptions import ConfigError


def add_parser(sub: Any) -> None:
    """Declare ``generate`` and its options on the subcommand parsers ``sub``."""
    p = sub.add_parser(
        "generate",
        help="generate synthetic card transactions or network connections with labelled anomalies",
        description="Write synthetic card transactions with labelled fraud "
        "(anomaly_gan.data.datasets.make_transactions) or Zeek-like network "
        "connections of a small organisation with labelled attacks "
        "(anomaly_gan.data.network_synth.make_connections; docs/network.md).",
    )
    p.add_argument(
        "--kind",
        choices=("transactions", "network", "textures"),
        default="transactions",
        help="what to generate (default: transactions; textures: a folder of grey "
        "surface images, ok/ and defect/, with planted defects)",
    )
    p.add_argument(
        "--rows",
        type=int,
        default=100_000,
        metavar="N",
        help="number of rows (default: 100000; network: spread over ceil(N / 20000) days)",
    )
    p.add_argument(
        "--fraud-rate",
        "--attack-rate",
        dest="fraud_rate",
        type=float,
        default=0.01,
        metavar="R",
        help="share of fraud (transactions), attack (network) rows or defect images "
        "(textures) (default: 0.01; 0 for normal only)",
    )
    p.add_argument(
        "--start",
        default="2026-11-02",
        metavar="YYYY-MM-DD",
        help="network: the first day (UTC) of the traffic (default: 2026-11-02)",
    )
    p.add_argument(
        "--image-size",
        type=int,
        default=64,
        metavar="N",
        help="textures: images of N x N pixels (default: 64)",
    )
    p.add_argument(
        "--masks",
        metavar="DIR",
        help="textures: also write each defect's mask (white on the defect) to DIR/defect/",
    )
    p.add_argument(
        "--random-state", type=int, default=0, metavar="N", help="seed (default: 0)"
    )
    p.add_argument(
        "--out",
        required=True,
        metavar="FILE",
        help="output: .csv or .parquet; for network also a Zeek log: .log (TSV) or "
        ".json/.jsonl (JSON lines), optionally .gz; for textures a folder",
    )


def run(args: argparse.Namespace) -> int:
    """``anomaly-gan generate``."""
    import pandas as pd

    from anomaly_gan.data.network_logs import KDD, ZEEK, ZEEK_JSON
    from anomaly_gan.data.tables import table_format, write_table

    if args.rows < 1:
        msg = f"--rows: expected a positive integer, found {args.rows}"
        raise ConfigError(msg)
    if not 0 <= args.fraud_rate <= 0.5:
        msg = f"--fraud-rate: expected a number in [0, 0.5], found {args.fraud_rate}"
        raise ConfigError(msg)
    if args.kind == "textures":
        return _textures(args)
    log_kind = _log_kind(args.out)
    if log_kind is None:
        table_format(args.out)
    elif args.kind != "network" or log_kind == KDD:
        msg = f"--out '{args.out}': expected .csv or .parquet for {args.kind}"
        raise ConfigError(msg)
    if args.kind == "transactions":
        from anomaly_gan.data.datasets import make_transactions

        frame = make_transactions(
            args.rows, fraud_rate=args.fraud_rate, random_state=args.random_state
        )
        write_table(frame, args.out)
        print(
            f"wrote {len(frame):,} transactions ({int(frame['is_fraud'].sum()):,} fraud) to {args.out}"
        )
        return 0
    from anomaly_gan.data.network_synth import make_connections

    try:
        pd.Timestamp(args.start)
    except ValueError:
        msg = f"--start: expected a date YYYY-MM-DD, found {args.start!r}"
        raise ConfigError(msg) from None
    frame = make_connections(
        args.rows,
        attack_rate=args.fraud_rate,
        random_state=args.random_state,
        start=args.start,
    )
    if log_kind in (ZEEK, ZEEK_JSON):
        from anomaly_gan.data.zeek_writer import write_zeek_log

        write_zeek_log(frame, args.out, as_json=log_kind == ZEEK_JSON)
    else:
        write_table(frame, args.out)
    counts = frame.loc[frame["is_attack"] == 1, "attack_type"].value_counts()
    detail = ", ".join(f"{k} {v:,}" for k, v in sorted(counts.items()))
    print(
        f"wrote {len(frame):,} connections ({int(frame['is_attack'].sum()):,} attack"
        f"{': ' + detail if detail else ''}) to {args.out}"
    )
    return 0


def _log_kind(out: str) -> str | None:
    """Return the log format an output name asks for (by name: the file may not exist)."""
    name = out.lower().removesuffix(".gz")
    if name.endswith(".log"):
        return "zeek"
    if name.endswith((".json", ".jsonl", ".ndjson")):
        return "zeek-json"
    if name.endswith((".txt", ".data")):
        return "kdd"
    return None


def _textures(args: argparse.Namespace) -> int:
    from anomaly_gan.data.defects_synth import make_textures, write_image_folder
    from anomaly_gan.data.tables import check_outputs

    if args.image_size < 16:
        msg = f"--image-size: expected 16 or more, found {args.image_size}"
        raise ConfigError(msg)
    check_outputs([], files={}, folders={"--out": args.out, "--masks": args.masks})
    data = make_textures(
        args.rows,
        defect_rate=args.fraud_rate,
        size=args.image_size,
        random_state=args.random_state,
    )
    write_image_folder(data, args.out, args.masks)
    masks = f"; masks in {args.masks}" if args.masks else ""
    print(
        f"wrote {len(data.images):,} texture images ({int(data.labels.sum()):,} with a "
        f"defect) to {args.out}/ok and {args.out}/defect{masks}"
    )
    return 0
