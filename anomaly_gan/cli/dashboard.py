"""``anomaly-gan dashboard``: start the analysts' Streamlit app, signed in.

``add_parser`` declares the options; ``run`` handles them and returns the exit code.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from anomaly_gan.cli._options import (
    registry_option,
)
from anomaly_gan.exceptions import ConfigError


def add_parser(sub: Any) -> None:
    """Declare ``dashboard`` and its options on the subcommand parsers ``sub``."""
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
    registry_option(p)


def run(args: argparse.Namespace) -> int:
    """``anomaly-gan dashboard``: run Streamlit on dashboard/streamlit_app.py."""
    import os
    import subprocess

    from anomaly_gan.stores.registry import default_root

    # anomaly_gan/dashboard is the top-level dashboard/ folder (a link in the
    # source tree, a copy in the wheel).
    app = Path(__file__).resolve().parents[1] / "dashboard" / "streamlit_app.py"
    if not app.exists():
        msg = f"dashboard: '{app}' not found; reinstall anomaly-gan"
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
