"""The CLI's command handlers: read options, call the library, print results.

Each ``run_<command>(args)`` returns an exit code; errors are raised as
``AnomalyGanError`` subclasses and turned into exit codes by ``cli``. Heavy
imports happen inside the handlers.
"""

from __future__ import annotations

import argparse
import json
import logging
import shutil
import sys
import time
from pathlib import Path
from typing import Any

from anomaly_gan.exceptions import ConfigError
from anomaly_gan.io import atomic_write, check_outputs

logger = logging.getLogger("anomaly_gan")


def run_train(args: argparse.Namespace) -> int:
    """``anomaly-gan train``."""
    from anomaly_gan import ddp
    from anomaly_gan.config import DetectorConfig
    from anomaly_gan.detector import GANomalyDetector
    from anomaly_gan.evaluation import anomaly_labels
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
        "score_combine": args.score_combine,
        "random_state": args.random_state,
    }
    params.update({k: v for k, v in overrides.items() if v is not None})
    if args.epochs is not None and args.epochs < 1:
        msg = f"--epochs: expected a positive integer, found {args.epochs}"
        raise ConfigError(msg)
    if args.promote and not args.register:
        msg = "--promote: only together with --register"
        raise ConfigError(msg)
    params["verbose"] = 0 if args.quiet or not sys.stderr.isatty() else 1
    out = Path(args.out)
    checkpoints = out.with_name(out.name + ".checkpoints")
    check_outputs(
        [args.data],
        files={},
        folders={"--out": out, "--out (its checkpoints)": checkpoints},
    )
    from anomaly_gan.images import is_image_source

    if is_image_source(args.data):
        from anomaly_gan.image_commands import run_train_images

        if args.score_combine is not None:
            msg = "--score-combine: only for tables; image models combine their own terms (docs/images.md)"
            raise ConfigError(msg)
        return run_train_images(args, params["verbose"])
    DetectorConfig.from_dict(params, source="options")  # check before reading data
    frame = read_table(args.data)
    if args.label_col:
        if args.label_col not in frame.columns:
            msg = f"column '{args.label_col}' (named by --label-col): not found in '{args.data}'"
            raise ConfigError(msg)
        labels = anomaly_labels(
            frame[args.label_col], args.label_col, args.normal_label
        )
        frame = frame[labels == 0]
        logger.warning(
            "dropped %d row(s) labelled as anomalies; training on %d normal rows",
            int(labels.sum()),
            len(frame),
        )
    _warn_against_registered_roles(frame, params, args.registry)
    det = GANomalyDetector(**params, checkpoint_dir=checkpoints)
    det.fit(frame, resume=args.resume)
    ddp.shutdown()  # torchrun: training's collectives are over
    if not ddp.current().primary:  # rank 0 alone writes and reports
        return 0
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
    print(_roles_line(det.preprocessor_.describe_schema()))
    print(f"model written to {out}")
    if args.register:
        from anomaly_gan.registry import ModelRegistry, default_root

        reg = ModelRegistry(default_root(args.registry))
        number = reg.register(
            out,
            note=f"trained from {args.data}",
            promote_to=args.promote,
            user=args.actor,
        )
        promoted = f"; '{args.promote}' now points at it" if args.promote else ""
        print(f"registered as version {number} in {reg.root}{promoted}")
    return 0


def _roles_line(schema: list[dict[str, Any]], shown: int = 12) -> str:
    """One line listing the roles inferred from the data (not set by options)."""
    inferred: dict[str, list[str]] = {}
    for item in schema:
        if item.get("inferred"):
            inferred.setdefault(item["role"], []).append(item["name"])
    if not inferred:
        return "column roles: all set by options"
    parts = []
    for role, names in inferred.items():
        listed = ", ".join(names[:shown])
        more = f" (+{len(names) - shown} more)" if len(names) > shown else ""
        parts.append(f"{role} {len(names)}: {listed}{more}")
    return "column roles inferred from the data: " + "; ".join(parts)


def _warn_against_registered_roles(
    frame: Any, params: dict[str, Any], registry: str | None
) -> None:
    """Warn when a column the model in service reads as numbers is text here.

    The typical cause is a number column with a bad value in this file (e.g.
    ``amount`` = "twelve"): its role is inferred as categorical and the model
    would learn the numbers as categories.
    """
    import pandas as pd

    from anomaly_gan.registry import PRODUCTION, ModelRegistry, default_root
    from anomaly_gan.schema import CATEGORICAL, infer_role

    root = default_root(registry)
    if not (root / "registry.json").exists():
        return
    reg = ModelRegistry(root)
    number = reg.aliases().get(PRODUCTION)
    if number is None:
        return
    registered = {
        item["name"]: item["role"]
        for item in reg.show(number).get("feature_schema", [])
    }
    from anomaly_gan.config import COLUMN_OPTIONS

    named = {str(c) for key in COLUMN_OPTIONS for c in (params.get(key) or [])}
    named.add(str(params.get("label_col")))
    for column in frame.columns:
        name = str(column)
        if name in named or registered.get(name) != "numeric":
            continue
        if infer_role(frame[column]) == CATEGORICAL:
            values = frame[column].dropna()
            odd = values[pd.to_numeric(values, errors="coerce").isna().to_numpy()]
            example = f" (e.g. {odd.iloc[0]!r})" if len(odd) else ""
            logger.warning(
                "column '%s': numeric in registry version %d ('%s'), but its values "
                "here are text%s, so it would be learned as categorical; name it in "
                "--numeric-cols if it is a number column",
                name,
                number,
                PRODUCTION,
                example,
            )


def _image_model(args: argparse.Namespace) -> bool:
    from anomaly_gan.image_commands import model_modality
    from anomaly_gan.registry import resolve_model_spec

    return model_modality(resolve_model_spec(args.model, args.registry)) == "image"


def _set_threads(requested: int | None) -> None:
    """Torch's and pyarrow's CPU threads for scoring (anomaly_gan.cpus)."""
    import pyarrow
    import torch

    from anomaly_gan.cpus import scoring_threads, usable_cpus

    torch.set_num_threads(scoring_threads(requested))
    pyarrow.set_cpu_count(usable_cpus())


def _load_model(args: argparse.Namespace, *, device: str | None = None) -> Any:
    """Load the tabular model of ``--model`` on ``device`` (default: ``--device``)."""
    from anomaly_gan.detector import GANomalyDetector
    from anomaly_gan.registry import resolve_model_spec

    device = device or getattr(args, "device", None) or "cpu"
    return GANomalyDetector.load(
        resolve_model_spec(args.model, args.registry), device=device
    )


def _threshold(det: Any, args: argparse.Namespace) -> float | None:
    """--fpr, then --threshold, then the registry's operating point, else the model's."""
    return _threshold_and_source(det, args)[0]


def _threshold_and_source(
    det: Any, args: argparse.Namespace
) -> tuple[float | None, str]:
    """Return the run's threshold (None: the model's) and where it comes from."""
    from anomaly_gan.registry import operating_threshold

    if args.fpr is not None:
        return float(det.threshold_for_fpr(args.fpr)), f"--fpr {args.fpr:g}"
    if args.threshold is not None:
        return float(args.threshold), "--threshold"
    point = operating_threshold(args.model, args.registry)
    if point is not None:
        return point, "registry operating point"
    return None, "model"


def _scoring_meta(det: Any, args: argparse.Namespace) -> tuple[float | None, Any]:
    """Return the run's threshold and the record the scored file carries about it."""
    from anomaly_gan._version import __version__
    from anomaly_gan.registry import REF_PREFIX, ModelRegistry, default_root
    from anomaly_gan.scored_meta import scoring_meta

    threshold, source = _threshold_and_source(det, args)
    version = None
    if str(args.model).startswith(REF_PREFIX):
        ref = str(args.model)[len(REF_PREFIX) :]
        version = ModelRegistry(default_root(args.registry)).resolve(ref)
    # The false-positive rate is known for the model's threshold and for --fpr;
    # a typed threshold or an operating point has none of its own.
    rate = {"model": det.config_.target_fpr}.get(source, args.fpr)
    meta = scoring_meta(
        threshold=det.threshold_ if threshold is None else threshold,
        threshold_source=source,
        model=str(args.model),
        model_version=version,
        target_fpr=rate,
        version=__version__,
    )
    return threshold, meta


def run_score(args: argparse.Namespace) -> int:
    """``anomaly-gan score``: the streaming job."""
    from anomaly_gan.batch import ScoreJob
    from anomaly_gan.io import expand_sources, table_format

    if args.top_k < 0:
        msg = f"--top-k: expected 0 or more, found {args.top_k}"
        raise ConfigError(msg)
    if args.batch_rows < 1:
        msg = f"--batch-rows: expected a positive integer, found {args.batch_rows}"
        raise ConfigError(msg)
    if args.threads is not None and args.threads < 1:
        msg = f"--threads: expected a positive integer, found {args.threads}"
        raise ConfigError(msg)
    dask = args.engine == "dask"
    check_outputs(
        args.data,
        files={
            **({} if dask else {"--out": args.out}),
            "--out (its rejection file)": f"{args.out}.rejected.csv",
            "--summary-json": args.summary_json,
        },
        folders={"--heatmaps": args.heatmaps, **({"--out": args.out} if dask else {})},
    )
    if args.engine == "dask":
        from anomaly_gan.scaleout_commands import run_score_dask

        if args.heatmaps or _image_model(args):
            msg = "--engine dask: scores tables; image models score with --engine local"
            raise ConfigError(msg)
        if args.device not in ("auto", "cpu"):
            msg = f"--device {args.device}: --engine dask scores on its workers' CPUs; use --engine local"
            raise ConfigError(msg)
        threshold, meta = _scoring_meta(_load_model(args, device="cpu"), args)
        return run_score_dask(
            args,
            threshold=threshold,
            meta=meta,
            progress=_Progress(quiet=args.quiet),
            report=_report_scoring,
        )
    from anomaly_gan.scaleout_commands import refuse_dask_options

    refuse_dask_options(args)
    _set_threads(args.threads)
    table_format(args.out, args.format)  # a bad output name fails before any work
    if _image_model(args):
        from anomaly_gan.image_commands import _load, run_score_images

        return run_score_images(args, _threshold(_load(args), args))
    if args.heatmaps:
        msg = "--heatmaps: only for image models"
        raise ConfigError(msg)
    sources = expand_sources(args.data)
    det = _load_model(args)
    threshold, meta = _scoring_meta(det, args)
    progress = _Progress(quiet=args.quiet)
    job = ScoreJob(
        det,
        sources,
        Path(args.out),
        fmt=args.format,
        id_cols=args.id_cols,
        keep_cols=args.keep_cols,
        top_k=args.top_k,
        threshold=threshold,
        label_col=args.label_col,
        fail_on_bad_rows=args.fail_on_bad_rows,
        batch_rows=args.batch_rows,
        progress=progress.update,
        meta=meta,
    )
    try:
        summary = job.run()
    finally:
        progress.close()
    _report_scoring(summary, args)
    return 0


def _report_scoring(summary: Any, args: argparse.Namespace) -> None:
    """Print a scoring run's summary lines (and write --summary-json)."""
    rate = summary.flagged / summary.scored if summary.scored else 0.0
    print(
        f"rows in {summary.rows_in:,}: scored {summary.scored:,}, rejected {summary.rejected:,}, "
        f"flagged {summary.flagged:,} ({rate:.2%}) above threshold {summary.threshold:.4f}; "
        f"{summary.seconds:.1f} s ({summary.rows_per_s:,.0f} rows/s)"
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
    if summary.rejected_output:
        print(f"rejected rows written to {summary.rejected_output}")
    print(f"scores written to {summary.output}")
    if args.summary_json:
        _write_json(args.summary_json, summary.to_dict())


class _Progress:
    """A progress bar on a terminal; otherwise a plain log line every 10 s."""

    def __init__(self, *, quiet: bool) -> None:
        self.quiet = quiet
        self.tty = sys.stderr.isatty()
        self.bar: Any = None
        self.last_line = time.monotonic()
        self.seen = 0

    def update(self, summary: Any) -> None:
        if self.quiet:
            return
        if self.tty:
            if self.bar is None:
                from tqdm.auto import tqdm

                self.bar = tqdm(
                    unit=" rows", unit_scale=True, desc="scoring", file=sys.stderr
                )
            self.bar.update(summary.rows_in - self.seen)
            self.bar.set_postfix(flagged=summary.flagged, rejected=summary.rejected)
        elif time.monotonic() - self.last_line >= 10:
            self.last_line = time.monotonic()
            print(
                f"anomaly-gan: {summary.rows_in:,} rows read, {summary.flagged:,} flagged, {summary.rejected:,} rejected",
                file=sys.stderr,
            )
        self.seen = summary.rows_in

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def run_evaluate(args: argparse.Namespace) -> int:
    """``anomaly-gan evaluate``."""
    import numpy as np

    from anomaly_gan.evaluation import (
        anomaly_labels,
        evaluate_scores,
        require_both_classes,
    )
    from anomaly_gan.io import expand_sources, iter_batches
    from anomaly_gan.preprocessing import TransformReport

    check_outputs(args.data, files={"--json": args.json})
    if _image_model(args):
        from anomaly_gan.image_commands import _load, run_evaluate_images

        return run_evaluate_images(args, _threshold(_load(args), args))
    sources = expand_sources(args.data)
    _set_threads(None)
    det = _load_model(args)
    threshold = _threshold(det, args)
    threshold = det.threshold_ if threshold is None else threshold
    scores, labels = [], []
    for batch in iter_batches(sources):
        if args.label_col not in batch.frame.columns:
            msg = f"column '{args.label_col}' (named by --label-col): missing from '{batch.source}'"
            raise ConfigError(msg)
        labels.append(
            anomaly_labels(
                batch.frame[args.label_col], args.label_col, args.normal_label
            )
        )
        result, _, _ = det._score_frame(
            batch.frame,
            TransformReport(),
            row_offset=int(batch.row_numbers[0]) - 1 if len(batch.row_numbers) else 0,
        )
        scores.append(result.anomaly_score)
    names = ", ".join(f"'{s}'" for s in sources)
    require_both_classes(
        np.concatenate(labels), f"column '{args.label_col}' of {names}"
    )
    report = evaluate_scores(np.concatenate(scores), np.concatenate(labels), threshold)
    print(report.to_text())
    if args.json:
        _write_json(
            args.json,
            {
                "model": str(args.model),
                "data": [str(s) for s in sources],
                **report.to_dict(),
            },
        )
    return 0


def run_registry(args: argparse.Namespace) -> int:
    """``anomaly-gan registry ACTION``."""
    from anomaly_gan.registry import ModelRegistry, default_root

    reg = ModelRegistry(default_root(args.registry))
    if args.action == "list":
        rows = reg.versions()
        if not rows:
            print(
                f"registry {reg.root}: no versions yet (add one with 'anomaly-gan registry add MODEL_DIR')"
            )
            return 0
        print(
            f"{'version':>7}  {'registered':<25}  {'rows':>9}  {'ROC-AUC':>7}  aliases"
        )
        for info in rows:
            auc = (info.get("evaluation") or {}).get("roc_auc")
            print(
                f"{info['version']:>7}  {info['registered_at']:<25}  {info.get('n_training_rows') or 0:>9,}  "
                f"{'' if auc is None else f'{auc:.4f}':>7}  {', '.join(info['aliases'])}"
            )
    elif args.action == "show":
        print(json.dumps(reg.show(args.version), indent=2, sort_keys=True))
    elif args.action == "add":
        evaluation = None
        if args.evaluation:
            try:
                evaluation = json.loads(Path(args.evaluation).read_text())
            except (OSError, ValueError) as exc:
                msg = f"file '{args.evaluation}': expected an evaluation report in JSON ({exc})"
                raise ConfigError(msg) from exc
        number = reg.register(
            args.model_dir,
            evaluation=evaluation,
            note=args.note,
            promote_to=args.promote,
            user=args.actor,
        )
        promoted = f"; '{args.promote}' now points at it" if args.promote else ""
        print(f"registered {args.model_dir} as version {number}{promoted}")
    elif args.action == "promote":
        number = reg.promote(args.version, args.alias, user=args.actor)
        print(f"'{args.alias}' now points at version {number}")
    elif args.action == "rollback":
        old, new = reg.rollback(args.alias, user=args.actor)
        print(f"'{args.alias}' rolled back from version {old} to version {new}")
    elif args.action == "set-threshold":
        number = reg.set_operating_point(
            args.version, args.threshold, note=args.note, user=args.actor
        )
        print(f"version {number}: operating threshold {args.threshold:.6g}")
    elif args.action == "diff":
        print(json.dumps(reg.diff(args.a, args.b), indent=2, sort_keys=True))
    else:  # runs
        for report in reg.run_reports():
            print(
                f"{report['run_id']}  {report['decision']:<14} version {report.get('version')}  {report['reason']}"
            )
    return 0


def run_retrain(args: argparse.Namespace) -> int:
    """``anomaly-gan retrain``: exit 0 promoted, 5 champion kept."""
    from anomaly_gan.retrain import RetrainConfig, outcome_text, run_retrain

    config = RetrainConfig.from_file(args.config)
    outcome = run_retrain(
        config,
        registry=args.registry,
        verbose=1 if sys.stderr.isatty() else 0,
        actor=args.actor,
        force=args.force,
    )
    print(outcome_text(outcome))
    if args.report_json:
        _write_json(args.report_json, outcome.to_dict())
    return outcome.exit_code


def run_benchmark(args: argparse.Namespace) -> int:
    """``anomaly-gan benchmark``: run (or resume) the protocol, then write the report."""
    from anomaly_gan import benchmark

    results = Path(args.results)
    if not args.report_only:
        adbench = Path(args.adbench) if args.adbench else None
        nsl = Path(args.nsl_kdd) if args.nsl_kdd else None
        mnist = Path(args.mnist) if args.mnist else None
        for folder in (adbench, nsl, mnist):
            if folder is not None and not folder.is_dir():
                msg = f"data folder '{folder}': not found (see ../shared/data/README.md, or pass '' to skip it)"
                raise ConfigError(msg)

        def show(row: dict[str, Any]) -> None:
            timing = "" if row["fit_s"] == "" else f" fit {row['fit_s']:.1f}s"
            outcome = row["error"] or f"ROC-AUC {row['roc_auc']:.4f}{timing}"
            print(
                f"{row['dataset']:<22} {row['setting']:<12} seed {row['seed']} "
                f"{row['detector']:<12} {outcome}",
                flush=True,
            )

        benchmark.run(
            results,
            adbench=adbench,
            nsl_kdd=nsl,
            datasets=args.datasets,
            detectors=args.detectors,
            seeds=args.seeds,
            anogan_max_rows=args.anogan_max_rows,
            progress=show,
            mnist=mnist,
            settings=benchmark.SETTINGS if args.setting == "both" else (args.setting,),
        )
    if not results.exists():
        msg = f"results file '{results}': not found; run the benchmark first"
        raise ConfigError(msg)
    from anomaly_gan.benchmark_report import report

    text = report(results, anogan_max_rows=args.anogan_max_rows)
    with atomic_write(args.report) as tmp:
        tmp.write_text(text + "\n")
    print(f"report written to {args.report}")
    return 0


def run_feedback(args: argparse.Namespace) -> int:
    """``anomaly-gan feedback export``."""
    import os

    from anomaly_gan.io import table_format
    from anomaly_gan.verdicts import VerdictStore

    db = Path(args.db or os.environ.get("ANOMALY_GAN_VERDICTS") or "verdicts.db")
    if not db.exists():
        msg = f"verdict store '{db}': not found (the dashboard creates it; pass --db)"
        raise ConfigError(msg)
    table_format(args.out)
    check_outputs([db], files={"--out": args.out})
    count = VerdictStore(db).export(args.out, verdict=args.verdict)
    print(f"wrote {count:,} verdict(s) to {args.out}")
    return 0


def run_dashboard(args: argparse.Namespace) -> int:
    """``anomaly-gan dashboard``: run Streamlit on dashboard/streamlit_app.py."""
    import os
    import subprocess

    from anomaly_gan.registry import default_root

    app = Path(__file__).resolve().parents[1] / "dashboard" / "streamlit_app.py"
    if not app.exists():
        msg = f"dashboard: '{app}' not found; the dashboard ships with the source tree (install with pip install -e)"
        raise ConfigError(msg)
    _check_dashboard_access(args)
    if args.auth == "oidc":
        _check_oidc_settings(Path.cwd(), Path.home())
    if args.sign_in_max_failures < 1 or args.sign_in_lockout_minutes <= 0:
        msg = "--sign-in-max-failures and --sign-in-lockout-minutes: expected positive numbers"
        raise ConfigError(msg)
    env = {
        **os.environ,
        "ANOMALY_GAN_AUTH": args.auth,
        "ANOMALY_GAN_SECRET_FILE": (
            str(Path(args.secret_file).resolve()) if args.secret_file else ""
        ),
        "ANOMALY_GAN_MAX_UPLOAD_MB": str(args.max_upload_mb),
        "ANOMALY_GAN_SIGNIN_MAX_FAILURES": str(args.sign_in_max_failures),
        "ANOMALY_GAN_SIGNIN_LOCKOUT_MINUTES": str(args.sign_in_lockout_minutes),
        "ANOMALY_GAN_SCORES_DIR": str(Path(args.scores).resolve()),
        "ANOMALY_GAN_REGISTRY": str(default_root(args.registry).resolve()),
        "ANOMALY_GAN_VERDICTS": str(Path(args.db).resolve()),
    }
    command = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(app),
        "--server.address",
        args.address,
        "--server.port",
        str(args.port),
        "--server.headless",
        "true",
        "--browser.gatherUsageStats",
        "false",
        "--server.maxUploadSize",
        str(args.max_upload_mb),
        # No traceback (and no server path in one) reaches the browser; the
        # server's log keeps the details.
        "--client.showErrorDetails",
        "none",
    ]
    print(
        f"dashboard on http://{args.address}:{args.port} (Ctrl-C to stop)", flush=True
    )
    return _run_forwarding_signals(subprocess.Popen(command, env=env))


OIDC_KEYS = (
    "redirect_uri",
    "cookie_secret",
    "client_id",
    "client_secret",
    "server_metadata_url",
)


def _check_oidc_settings(project: Path, home: Path) -> None:
    """Refuse ``--auth oidc`` when Streamlit's secrets lack the ``[auth]`` keys.

    ``st.login()`` reads ``[auth]`` from ``.streamlit/secrets.toml`` in the
    working folder and in the home folder (the project's win); without them the
    app would start and fail on every page.
    """
    from anomaly_gan.config import read_config_file

    files = [
        home / ".streamlit" / "secrets.toml",
        project / ".streamlit" / "secrets.toml",
    ]
    auth: dict[str, Any] = {}
    for file in files:
        if file.exists():
            section = read_config_file(file).get("auth", {})
            auth.update(section if isinstance(section, dict) else {})
    missing = [key for key in OIDC_KEYS if not auth.get(key)]
    if missing:
        looked = " or ".join(f"'{f}'" for f in reversed(files))
        msg = (
            f"--auth oidc: expected {', '.join(missing)} in the [auth] section of "
            f"{looked}, found {'none of them' if len(missing) == len(OIDC_KEYS) else 'the others only'} "
            "(docs/dashboard.md)"
        )
        raise ConfigError(msg)


def _run_forwarding_signals(child: Any) -> int:
    """Wait for ``child``, passing on the signals that stop this process.

    Without this, ``kill PID`` (or a supervisor's stop) ended the command and
    left its Streamlit server running with the port taken. Ctrl-C reaches both
    processes from the terminal; a SIGINT sent to this process alone is passed
    on as well.
    """
    import signal

    def forward(signum: int, _frame: Any) -> None:
        child.send_signal(signum)

    names = ("SIGTERM", "SIGHUP")
    stops = [getattr(signal, name) for name in names if hasattr(signal, name)]
    previous = {sig: signal.signal(sig, forward) for sig in stops}
    try:
        while True:
            try:
                return int(child.wait())
            except KeyboardInterrupt:
                child.send_signal(signal.SIGINT)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _check_dashboard_access(args: argparse.Namespace) -> None:
    """Refuse settings that would expose the dashboard without a sign-in."""
    if args.max_upload_mb < 1:
        msg = (
            f"--max-upload-mb: expected a positive integer, found {args.max_upload_mb}"
        )
        raise ConfigError(msg)
    if args.auth == "secret":
        if not args.secret_file:
            msg = "--auth secret: expected --secret-file FILE holding the shared secret"
            raise ConfigError(msg)
        try:
            lines = Path(args.secret_file).read_text().splitlines()
        except OSError as exc:
            msg = f"file '{args.secret_file}': the shared secret cannot be read ({exc.strerror})"
            raise ConfigError(msg) from exc
        if not lines or len(lines[0].strip()) < 12:
            msg = f"file '{args.secret_file}': expected a shared secret of at least 12 characters on its first line"
            raise ConfigError(msg)
    local = args.address in ("127.0.0.1", "localhost", "::1")
    if not local and args.auth == "none":
        msg = f"--address {args.address}: the dashboard would be reachable by others without a sign-in; add --auth secret or --auth oidc"
        raise ConfigError(msg)


def run_generate(args: argparse.Namespace) -> int:
    """``anomaly-gan generate``."""
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
    return 0


def _write_json(path: str | Path, data: dict[str, Any]) -> None:
    with atomic_write(path) as tmp:
        tmp.write_text(json.dumps(data, indent=2, sort_keys=True, default=str))
