"""Optional signing of model directories: proof of origin, not just integrity.

The manifest's SHA-256 table catches a damaged or partly edited model, but
anyone who edits a file can recompute the manifest too. With a signing key
configured, ``artifacts`` writes ``manifest.sig``, the HMAC-SHA256 of the exact
bytes of ``manifest.json`` under that key, and refuses to load a model whose
signature is missing or does not match. The key is read from the environment:
``ANOMALY_GAN_SIGNING_KEY`` (the key itself) or ``ANOMALY_GAN_SIGNING_KEY_FILE``
(a file holding it). Without either, models are neither signed nor checked.
This module knows nothing of models beyond those bytes.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from pathlib import Path

from anomaly_gan.exceptions import ConfigError

KEY_VARIABLE = "ANOMALY_GAN_SIGNING_KEY"
KEY_FILE_VARIABLE = "ANOMALY_GAN_SIGNING_KEY_FILE"
SIGNATURE = "manifest.sig"


def signing_key() -> bytes | None:
    """Return the configured key, or None when models are not signed.

    Raises
    ------
    ConfigError
        Both variables are set, the key file cannot be read, or the key is empty.
    """
    text = os.environ.get(KEY_VARIABLE)
    file = os.environ.get(KEY_FILE_VARIABLE)
    if text and file:
        msg = (
            f"{KEY_VARIABLE} and {KEY_FILE_VARIABLE}: expected one of them, found both"
        )
        raise ConfigError(msg)
    if file:
        try:
            text = Path(file).read_text().strip()
        except OSError as exc:
            msg = (
                f"{KEY_FILE_VARIABLE} '{file}': cannot be read ({exc.strerror or exc})"
            )
            raise ConfigError(msg) from exc
        if not text:
            msg = f"{KEY_FILE_VARIABLE} '{file}': expected a key, found an empty file"
            raise ConfigError(msg)
    return text.encode() if text else None


def signature(manifest: bytes, key: bytes) -> str:
    """Return the hex HMAC-SHA256 of the manifest's bytes under ``key``."""
    return hmac.new(key, manifest, hashlib.sha256).hexdigest()


def write_signature(directory: Path, manifest_name: str, key: bytes) -> None:
    """Sign ``directory/manifest_name`` into ``directory/manifest.sig``."""
    manifest = (directory / manifest_name).read_bytes()
    (directory / SIGNATURE).write_text(signature(manifest, key) + "\n")


def signature_problem(directory: Path, manifest: bytes, key: bytes) -> str | None:
    """Return why the directory's signature is not valid, or None when it is."""
    try:
        found = (directory / SIGNATURE).read_text().strip()
    except FileNotFoundError:
        return "not signed"
    except OSError as exc:
        return f"its signature cannot be read ({exc.strerror or exc})"
    if not hmac.compare_digest(found, signature(manifest, key)):
        return "its signature does not match (altered after signing, or signed with another key)"
    return None
