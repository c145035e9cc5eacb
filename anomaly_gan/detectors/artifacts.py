"""The model directory: what a saved detector is made of, and how it is verified.

A model directory holds::

    manifest.json        format version and the SHA-256 and size of every file below
    manifest.sig         with a signing key configured: the manifest's HMAC (``signing``)
    weights.safetensors  generator and discriminator tensors (no pickle)
    config.json          the detector's parameters and resolved sizes
    preprocessor.json    the fitted TabularPreprocessor's state
    scorer.json          the ScoreCalibrator's state
    history.json         per-epoch training history
    metadata.json        versions, creation time, data fingerprint, feature schema

Saving writes a sibling temporary directory and renames it into place, so a
reader never sees a half-written model. Loading reads ``manifest.json`` first
and checks every file's size and hash before anything is deserialised; a
missing, altered or newer-format file is refused with ``ArtifactError``. With a
signing key configured (``signing``), models are signed when saved and a model
that is unsigned or signed otherwise is refused as well. Nothing here is ever
unpickled.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from safetensors import SafetensorError

from anomaly_gan.detectors.signing import (
    KEY_FILE_VARIABLE,
    KEY_VARIABLE,
    signature_problem,
    signing_key,
    write_signature,
)
from anomaly_gan.exceptions import ArtifactError

# 2: knn reference rows, signed-log combination (0.2.0); 3: knn views (0.3.0);
# 4: score_combine, the "max" rule (0.5.0); 5: the marginal component (0.6.0)
FORMAT_VERSION = 5

if TYPE_CHECKING:  # torch is imported where tensors are saved or loaded, not before
    import torch
MANIFEST = "manifest.json"
WEIGHTS = "weights.safetensors"
JSON_PARTS = ("config", "preprocessor", "scorer", "history", "metadata")


def save_model_dir(
    path: str | Path,
    *,
    tensors: dict[str, torch.Tensor],
    parts: dict[str, Any],
    overwrite: bool = True,
) -> Path:
    """Write a model directory atomically.

    Parameters
    ----------
    path : path-like
        Target directory; replaced as a whole when it exists and ``overwrite``.
    tensors : dict of str to Tensor
        Network weights, saved with safetensors.
    parts : dict
        JSON-ready objects, one per name in ``JSON_PARTS``.
    overwrite : bool, default=True
        Refuse an existing target when False.
    """
    target = Path(path)
    missing = [name for name in JSON_PARTS if name not in parts]
    if missing:
        msg = f"model '{target}': cannot save without the '{missing[0]}' part"
        raise ArtifactError(msg)
    if target.exists() and not overwrite:
        msg = f"model '{target}': already exists; choose another path or allow overwriting"
        raise ArtifactError(msg)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(
        tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    )
    try:
        files: dict[str, dict[str, Any]] = {}
        weights = tmp / WEIGHTS
        from safetensors.torch import save_file

        save_file(
            {k: v.detach().cpu().contiguous() for k, v in tensors.items()},
            str(weights),
            metadata={"format_version": str(FORMAT_VERSION)},
        )
        files[WEIGHTS] = _describe(weights)
        for name in JSON_PARTS:
            file = tmp / f"{name}.json"
            file.write_text(
                json.dumps(parts[name], indent=2, sort_keys=True, default=_json_default)
            )
            files[file.name] = _describe(file)
        manifest = {"format_version": FORMAT_VERSION, "files": files}
        (tmp / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True))
        sign_model_dir(tmp)
        _fsync_dir(tmp)
        _apply_umask(tmp)
        _replace_dir(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return target


def sign_model_dir(directory: Path) -> bool:
    """Sign a model directory when a key is configured; return whether it was."""
    key = signing_key()
    if key is not None:
        write_signature(directory, MANIFEST, key)
    return key is not None


def load_model_dir(
    path: str | Path, *, check_signature: bool = True
) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """Verify and read a model directory.

    ``check_signature=False`` skips the signature (only for ``registry add``,
    which signs its own copy of what it is given).

    Returns
    -------
    tensors : dict of str to Tensor
    parts : dict
        The JSON parts, by name.

    Raises
    ------
    ArtifactError
        The directory or a file is missing, a file's size or hash differs from
        the manifest, the format is newer than this version of anomaly-gan
        reads, or (with a signing key) the signature is missing or wrong.
    """
    root = Path(path)
    manifest = read_manifest(root)
    key = signing_key() if check_signature else None
    if key is not None:
        problem = signature_problem(root, (root / MANIFEST).read_bytes(), key)
        if problem is not None:
            variable = (
                KEY_FILE_VARIABLE if os.environ.get(KEY_FILE_VARIABLE) else KEY_VARIABLE
            )
            msg = (
                f"model '{root}': {problem}; with {variable} set only models signed "
                "with that key load (train it again, or add a model you trust with "
                "'anomaly-gan registry add')"
            )
            raise ArtifactError(msg)
    for name, expected in manifest["files"].items():
        file = root / name
        if not file.is_file():
            msg = f"model '{root}': file '{name}' listed in the manifest is missing"
            raise ArtifactError(msg)
        actual = _describe(file)
        if actual["size"] != expected.get("size") or actual["sha256"] != expected.get(
            "sha256"
        ):
            msg = (
                f"model '{root}': file '{name}' does not match its SHA-256 in the "
                "manifest (altered or truncated); refusing to load it"
            )
            raise ArtifactError(msg)
    required = [WEIGHTS, *(f"{n}.json" for n in JSON_PARTS)]
    for name in required:
        if name not in manifest["files"]:
            msg = f"model '{root}': the manifest does not list '{name}'"
            raise ArtifactError(msg)
    try:
        from safetensors.torch import load_file

        tensors = load_file(str(root / WEIGHTS))
    except (SafetensorError, OSError, ValueError) as exc:
        msg = f"model '{root}': '{WEIGHTS}' cannot be read ({exc})"
        raise ArtifactError(msg) from exc
    parts: dict[str, Any] = {}
    for name in JSON_PARTS:
        try:
            parts[name] = json.loads((root / f"{name}.json").read_text())
        except (OSError, ValueError) as exc:
            msg = f"model '{root}': '{name}.json' is not valid JSON ({exc})"
            raise ArtifactError(msg) from exc
    return tensors, parts


def read_modality(path: str | Path) -> str:
    """Return the modality ``config.json`` records, once its hash matches the manifest.

    Used to pick the loader before loading. Anything unreadable or unverified
    reads as ``tabular``: that loader then verifies the whole directory and
    reports what is wrong.
    """
    root = Path(path)
    try:
        entry = read_manifest(root)["files"].get("config.json")
        file = root / "config.json"
        if entry is None or _describe(file) != {
            "size": entry.get("size"),
            "sha256": entry.get("sha256"),
        }:
            return "tabular"
        return str(json.loads(file.read_text()).get("modality", "tabular"))
    except (ArtifactError, OSError, ValueError, AttributeError):
        return "tabular"


def read_manifest(root: Path) -> dict[str, Any]:
    """Read and check ``manifest.json`` (format version, file table)."""
    if not root.is_dir():
        msg = f"model '{root}': not found (expected a model directory written by 'anomaly-gan train')"
        raise ArtifactError(msg)
    try:
        manifest = json.loads((root / MANIFEST).read_text())
    except FileNotFoundError as exc:
        msg = f"model '{root}': '{MANIFEST}' is missing; not a model directory or an incomplete copy"
        raise ArtifactError(msg) from exc
    except (OSError, ValueError) as exc:
        msg = f"model '{root}': '{MANIFEST}' is not valid JSON ({exc})"
        raise ArtifactError(msg) from exc
    version = manifest.get("format_version") if isinstance(manifest, dict) else None
    if not isinstance(version, int) or not isinstance(manifest.get("files"), dict):
        msg = f"model '{root}': '{MANIFEST}' lacks a format version or a file table"
        raise ArtifactError(msg)
    if version > FORMAT_VERSION:
        msg = (
            f"model '{root}': format version {version} is newer than this "
            f"anomaly-gan reads ({FORMAT_VERSION}); upgrade anomaly-gan"
        )
        raise ArtifactError(msg)
    return dict(manifest)


def sha256_file(path: Path) -> str:
    """Return the hex SHA-256 of a file, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _describe(file: Path) -> dict[str, Any]:
    return {"sha256": sha256_file(file), "size": file.stat().st_size}


def _json_default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, (set, tuple)):
        return list(value)
    msg = f"cannot write {type(value).__name__} to JSON"
    raise TypeError(msg)


def _fsync_dir(directory: Path) -> None:
    for file in directory.iterdir():
        with file.open("rb") as fh:
            os.fsync(fh.fileno())


def _apply_umask(directory: Path) -> None:
    # mkdtemp creates 0700 and safetensors 0600: give the model the permissions
    # an ordinary directory and files would get.
    umask = os.umask(0)
    os.umask(umask)
    directory.chmod(0o777 & ~umask)
    for file in directory.iterdir():
        file.chmod(0o666 & ~umask)


def _replace_dir(tmp: Path, target: Path) -> None:
    if not target.exists():
        tmp.replace(target)
        return
    # A directory cannot be renamed over a non-empty one: move the old one
    # aside, put the new one in place, then delete the old one.
    old = target.with_name(f".{target.name}.old-{os.getpid()}")
    target.replace(old)
    try:
        tmp.replace(target)
    except BaseException:
        old.replace(target)
        raise
    shutil.rmtree(old, ignore_errors=True)
