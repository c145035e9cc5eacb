"""The model registry: numbered immutable versions, aliases, history, run reports.

A registry is a directory::

    registry.json        the state: listed versions, aliases, alias history
    versions/N/model/    version N's model directory (verified like any model)
    versions/N/version.json   its metadata and evaluation report
    versions/N/model_card.md  its model card (and .json): stores/model_card.py
    .incoming/           copies being written, before they get a number
    runs/RUN_ID.json     retraining run reports
    .lock                taken by every writer

**One atomic step per change.** Readers only trust ``registry.json``, which is
replaced by rename. A new version's directory is written and renamed into
``versions/`` (from ``.incoming/``) first, while still unlisted, then ``registry.json`` is replaced
with the version listed (and, for a promotion, the alias moved) in one rename.
A writer killed at any point therefore leaves the registry as it was: an
unlisted directory is invisible and the next writer removes it. Writers hold
``.lock`` (``filelock``), so two writers never interleave.
"""

from __future__ import annotations

import datetime as dt
import getpass
import json
import math
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from filelock import FileLock, Timeout

from anomaly_gan.data.tables import atomic_write
from anomaly_gan.detectors.artifacts import (
    load_model_dir,
    read_manifest,
    sign_model_dir,
)
from anomaly_gan.exceptions import RegistryError
from anomaly_gan.stores.model_card import card_markdown, model_card

STATE = "registry.json"
STATE_FORMAT = 1
PRODUCTION = "production"
REF_PREFIX = "registry:"
ENV_VAR = "ANOMALY_GAN_REGISTRY"
DEFAULT_ROOT = "registry"
_INCOMING = ".incoming"
_STALE_INCOMING_S = 3600


def default_root(explicit: str | Path | None = None) -> Path:
    """Return the registry folder: the explicit one, else ``$ANOMALY_GAN_REGISTRY``, else ./registry."""
    if explicit:
        return Path(explicit)
    return Path(os.environ.get(ENV_VAR) or DEFAULT_ROOT)


class ModelRegistry:
    """Versions and aliases in a registry folder (see the module docstring).

    Parameters
    ----------
    root : path-like
        The registry folder; created on the first write.
    lock_timeout : float, default=60
        Seconds a writer waits for another writer before giving up.
    """

    def __init__(self, root: str | Path, *, lock_timeout: float = 60.0) -> None:
        self.root = Path(root)
        self.lock_timeout = lock_timeout

    # --------------------------------------------------------------- reading
    def state(self) -> dict[str, Any]:
        """Return the registry state (empty when the registry does not exist yet)."""
        path = self.root / STATE
        if not path.exists():
            return {
                "format": STATE_FORMAT,
                "versions": [],
                "aliases": {},
                "history": [],
            }
        try:
            state: dict[str, Any] = json.loads(path.read_text())
        except (OSError, ValueError) as exc:
            msg = f"registry '{self.root}': '{STATE}' cannot be read ({exc})"
            raise RegistryError(msg) from exc
        if state.get("format", 0) > STATE_FORMAT:
            msg = f"registry '{self.root}': format {state.get('format')} is newer than this anomaly-gan reads ({STATE_FORMAT}); upgrade anomaly-gan"
            raise RegistryError(msg)
        return state

    def aliases(self) -> dict[str, int]:
        """Return alias -> version."""
        return {k: int(v) for k, v in self.state()["aliases"].items()}

    def versions(self) -> list[dict[str, Any]]:
        """Return every listed version's metadata, oldest first, with its aliases."""
        state = self.state()
        by_version: dict[int, list[str]] = {}
        for alias, version in state["aliases"].items():
            by_version.setdefault(int(version), []).append(alias)
        out = []
        for number in state["versions"]:
            info = self._version_info(int(number))
            info["aliases"] = sorted(by_version.get(int(number), []))
            out.append(info)
        return out

    def resolve(self, ref: str | int) -> int:
        """Map a version number or an alias to a listed version number."""
        state = self.state()
        text = str(ref)
        if text in state["aliases"]:
            return int(state["aliases"][text])
        if text.isdigit() and int(text) in state["versions"]:
            return int(text)
        known = ", ".join(sorted(state["aliases"])) or "none"
        msg = (
            f"registry '{self.root}': no version or alias '{text}' "
            f"(versions: {len(state['versions'])}, aliases: {known})"
        )
        raise RegistryError(msg)

    def model_path(self, ref: str | int) -> Path:
        """Return the model directory of a version or alias."""
        return self.root / "versions" / str(self.resolve(ref)) / "model"

    def show(self, ref: str | int) -> dict[str, Any]:
        """Return a version's metadata and aliases."""
        number = self.resolve(ref)
        info = self._version_info(number)
        state = self.state()
        info["aliases"] = sorted(
            a for a, v in state["aliases"].items() if int(v) == number
        )
        info["operating_point"] = state.get("operating_points", {}).get(str(number))
        return info

    def _version_info(self, number: int) -> dict[str, Any]:
        path = self.root / "versions" / str(number) / "version.json"
        try:
            info: dict[str, Any] = json.loads(path.read_text())
        except (OSError, ValueError) as exc:
            msg = f"registry '{self.root}': version {number} has no readable version.json ({exc})"
            raise RegistryError(msg) from exc
        return info

    def diff(self, a: str | int, b: str | int) -> dict[str, Any]:
        """Compare two versions: parameters, sizes, features and evaluation."""
        left, right = self.show(a), self.show(b)
        lcfg = json.loads((self.model_path(a) / "config.json").read_text())
        rcfg = json.loads((self.model_path(b) / "config.json").read_text())
        params = {
            k: [lcfg["params"].get(k), rcfg["params"].get(k)]
            for k in sorted(set(lcfg["params"]) | set(rcfg["params"]))
            if lcfg["params"].get(k) != rcfg["params"].get(k)
        }
        lfeat = {f["name"] for f in left["feature_schema"]}
        rfeat = {f["name"] for f in right["feature_schema"]}
        metrics = {}
        for key in (
            "roc_auc",
            "average_precision",
            "false_positive_rate",
            "recall",
            "precision",
        ):
            lv = (left.get("evaluation") or {}).get(key)
            rv = (right.get("evaluation") or {}).get(key)
            if lv is not None or rv is not None:
                metrics[key] = [lv, rv]
        return {
            "versions": [left["version"], right["version"]],
            "params": params,
            "sizes": {
                k: [lcfg["sizes"][k], rcfg["sizes"][k]]
                for k in lcfg["sizes"]
                if lcfg["sizes"][k] != rcfg["sizes"].get(k)
            },
            "features_added": sorted(rfeat - lfeat),
            "features_removed": sorted(lfeat - rfeat),
            "training_rows": [
                left.get("n_training_rows"),
                right.get("n_training_rows"),
            ],
            "evaluation": metrics,
        }

    # --------------------------------------------------------------- writing
    @contextmanager
    def _locked(self) -> Iterator[dict[str, Any]]:
        self.root.mkdir(parents=True, exist_ok=True)
        lock = FileLock(str(self.root / ".lock"), timeout=self.lock_timeout)
        try:
            lock.acquire()
        except Timeout as exc:
            msg = f"registry '{self.root}': another writer held the lock for more than {self.lock_timeout:g} s"
            raise RegistryError(msg) from exc
        try:
            state = self.state()
            self._remove_unlisted(state)
            yield state
        finally:
            lock.release()

    def _remove_unlisted(self, state: dict[str, Any]) -> None:
        versions = self.root / "versions"
        if versions.is_dir():
            listed = {str(v) for v in state["versions"]}
            for path in versions.iterdir():
                if path.name not in listed:
                    shutil.rmtree(path, ignore_errors=True)
        # Copies still arriving belong to live writers; old ones to dead writers.
        incoming = self.root / _INCOMING
        if incoming.is_dir():
            cutoff = time.time() - _STALE_INCOMING_S
            for path in incoming.iterdir():
                if path.stat().st_mtime < cutoff:
                    shutil.rmtree(path, ignore_errors=True)

    def _commit(self, state: dict[str, Any]) -> None:
        with atomic_write(self.root / STATE) as tmp:
            tmp.write_text(json.dumps(state, indent=2, sort_keys=True))

    def register(
        self,
        model_dir: str | Path,
        *,
        evaluation: dict[str, Any] | None = None,
        note: str = "",
        run_id: str | None = None,
        promote_to: str | None = None,
        user: str | None = None,
        data_fingerprint: str | None = None,
    ) -> int:
        """Copy a verified model directory in as the next version; return its number.

        With ``promote_to``, the alias moves to the new version in the same
        atomic step. ``data_fingerprint`` identifies the data a retraining run
        read (``retrain`` skips data a version was already trained on).
        """
        source = Path(model_dir)
        # Refuse a missing, altered or newer model up front. Its signature is not
        # required: adding is how a trusted model gets this registry's signature.
        load_model_dir(source, check_signature=False)
        parts_meta = json.loads((source / "metadata.json").read_text())
        (self.root / "versions").mkdir(parents=True, exist_ok=True)
        (self.root / _INCOMING).mkdir(exist_ok=True)
        tmp = Path(tempfile.mkdtemp(dir=self.root / _INCOMING))
        try:
            shutil.copytree(source, tmp / "model")
            read_manifest(tmp / "model")
            sign_model_dir(tmp / "model")
            with self._locked() as state:
                number = max([0, *map(int, state["versions"])]) + 1
                info = {
                    "version": number,
                    "registered_at": _now(),
                    "registered_by": user or _user(),
                    "source": str(source.resolve()),
                    "note": note,
                    "run_id": run_id,
                    "evaluation": evaluation,
                    "created_at": parts_meta.get("created_at"),
                    "anomaly_gan_version": parts_meta.get("anomaly_gan_version"),
                    "training_fingerprint": parts_meta.get("training_fingerprint"),
                    "data_fingerprint": data_fingerprint,
                    "n_training_rows": parts_meta.get("n_training_rows"),
                    "feature_schema": parts_meta.get("feature_schema", []),
                }
                (tmp / "version.json").write_text(
                    json.dumps(info, indent=2, sort_keys=True)
                )
                _write_card(tmp, model_card(info, tmp / "model"))
                final = self.root / "versions" / str(number)
                tmp.replace(final)  # still unlisted: invisible until the commit
                state["versions"] = [*state["versions"], number]
                if promote_to:
                    self._move_alias(state, promote_to, number, "promote", user)
                self._commit(state)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        return number

    def promote(
        self, ref: str | int, alias: str = PRODUCTION, *, user: str | None = None
    ) -> int:
        """Point ``alias`` at a version (atomic); return the version."""
        _check_alias(alias)
        with self._locked() as state:
            number = self._resolve_in(state, ref)
            self._move_alias(state, alias, number, "promote", user)
            self._commit(state)
        return number

    def rollback(
        self, alias: str = PRODUCTION, *, user: str | None = None
    ) -> tuple[int, int]:
        """Point ``alias`` back at the version it had before its last change.

        Returns
        -------
        (from_version, to_version)
        """
        with self._locked() as state:
            stack = _alias_stack(state["history"], alias)
            if len(stack) < 2:
                msg = f"registry '{self.root}': alias '{alias}' has no earlier version to roll back to"
                raise RegistryError(msg)
            current, previous = stack[-1], stack[-2]
            self._move_alias(state, alias, previous, "rollback", user)
            self._commit(state)
        return current, previous

    def set_operating_point(
        self,
        ref: str | int,
        threshold: float,
        *,
        user: str | None = None,
        note: str = "",
        evaluation: dict[str, Any] | None = None,
    ) -> int:
        """Record a threshold chosen for a version (atomic); return the version.

        Versions stay immutable: the operating point lives in ``registry.json``,
        and ``score`` / ``evaluate`` on ``registry:REF`` use it unless given
        ``--threshold`` or ``--fpr``. The previous value goes to the history.
        """
        value = float(threshold)
        if not math.isfinite(value):
            msg = f"threshold: expected a finite number, found {threshold!r}"
            raise RegistryError(msg)
        with self._locked() as state:
            number = self._resolve_in(state, ref)
            points = dict(state.get("operating_points", {}))
            previous = points.get(str(number), {}).get("threshold")
            points[str(number)] = {
                "threshold": value,
                "set_at": _now(),
                "set_by": user or _user(),
                "note": note,
                "evaluation": evaluation or {},
            }
            state["operating_points"] = points
            state["history"] = [
                *state["history"],
                {
                    "at": points[str(number)]["set_at"],
                    "alias": None,
                    "from": previous,
                    "to": number,
                    "action": "operating_point",
                    "threshold": value,
                    "by": points[str(number)]["set_by"],
                },
            ]
            self._commit(state)
        return number

    def operating_point(self, ref: str | int) -> dict[str, Any] | None:
        """Return the operating point recorded for a version, or None."""
        number = self.resolve(ref)
        point = self.state().get("operating_points", {}).get(str(number))
        return dict(point) if point else None

    def write_run_report(self, run_id: str, report: dict[str, Any]) -> Path:
        """Write a retraining run's report as runs/RUN_ID.json (atomic)."""
        path = self.root / "runs" / f"{run_id}.json"
        with atomic_write(path) as tmp:
            tmp.write_text(json.dumps(report, indent=2, sort_keys=True, default=str))
        return path

    def card(self, ref: str | int) -> dict[str, Any]:
        """Return a version's model card, with its retraining run's gate when it had one."""
        number = self.resolve(ref)
        info = self._version_info(number)
        report = self._run_report(info.get("run_id"))
        return model_card(info, self.model_path(number), report)

    def write_card(self, ref: str | int) -> Path:
        """(Re)write ``versions/N/model_card.json`` and ``.md``; return the Markdown's path."""
        number = self.resolve(ref)
        return _write_card(self.root / "versions" / str(number), self.card(number))

    def _run_report(self, run_id: str | None) -> dict[str, Any] | None:
        if not run_id:
            return None
        path = self.root / "runs" / f"{run_id}.json"
        try:
            report: dict[str, Any] = json.loads(path.read_text())
        except (OSError, ValueError):
            return None
        return report

    def run_reports(self) -> list[dict[str, Any]]:
        """Return every run report, oldest first."""
        folder = self.root / "runs"
        if not folder.is_dir():
            return []
        reports = []
        for path in sorted(folder.glob("*.json")):
            try:
                reports.append(json.loads(path.read_text()))
            except (OSError, ValueError):
                continue
        # By start time (to the microsecond: two runs can start within one second,
        # and run ids in the same second sort by their random suffix).
        return sorted(
            reports,
            key=lambda r: (str(r.get("started_at", "")), str(r.get("finished_at", ""))),
        )

    # --------------------------------------------------------------- helpers
    def _resolve_in(self, state: dict[str, Any], ref: str | int) -> int:
        text = str(ref)
        if text in state["aliases"]:
            return int(state["aliases"][text])
        if text.isdigit() and int(text) in state["versions"]:
            return int(text)
        msg = f"registry '{self.root}': no version or alias '{text}'"
        raise RegistryError(msg)

    def _move_alias(
        self,
        state: dict[str, Any],
        alias: str,
        number: int,
        action: str,
        user: str | None,
    ) -> None:
        _check_alias(alias)
        previous = state["aliases"].get(alias)
        state["aliases"] = {**state["aliases"], alias: number}
        state["history"] = [
            *state["history"],
            {
                "at": _now(),
                "alias": alias,
                "from": previous,
                "to": number,
                "action": action,
                "by": user or _user(),
            },
        ]


@dataclass(frozen=True)
class ResolvedModel:
    """A ``--model`` spec resolved once: its directory, version and operating point.

    A registry reference is turned into a version number once, so the directory,
    the version a scored file records and the operating threshold all come from
    that one version even when an alias moves meanwhile.
    """

    spec: str
    path: Path
    version: int | None = None
    operating_threshold: float | None = None


def resolve_model(
    spec: str | Path, registry: str | Path | None = None
) -> ResolvedModel:
    """Resolve a model directory or ``registry:ALIAS`` / ``registry:N`` once."""
    text = str(spec)
    if not text.startswith(REF_PREFIX):
        return ResolvedModel(text, Path(text))
    ref = text[len(REF_PREFIX) :]
    if not ref:
        msg = f"model '{text}': expected registry:ALIAS or registry:VERSION"
        raise RegistryError(msg)
    reg = ModelRegistry(default_root(registry))
    number = reg.resolve(ref)
    point = reg.operating_point(number)
    return ResolvedModel(
        text,
        reg.model_path(number),
        number,
        None if point is None else float(point["threshold"]),
    )


def resolve_model_spec(spec: str | Path, registry: str | Path | None = None) -> Path:
    """Turn ``registry:ALIAS`` / ``registry:N`` into a model directory; paths pass through."""
    return resolve_model(spec, registry).path


def operating_threshold(
    spec: str | Path, registry: str | Path | None = None
) -> float | None:
    """Return the operating threshold of ``registry:REF``; None for paths or none set."""
    return resolve_model(spec, registry).operating_threshold


def _write_card(folder: Path, card: dict[str, Any]) -> Path:
    """Write a model card beside a version: JSON for tools, Markdown for people."""
    with atomic_write(folder / "model_card.json") as tmp:
        tmp.write_text(json.dumps(card, indent=2, sort_keys=True, default=str))
    with atomic_write(folder / "model_card.md") as tmp:
        tmp.write_text(card_markdown(card))
    return folder / "model_card.md"


def _alias_stack(history: list[dict[str, Any]], alias: str) -> list[int]:
    stack: list[int] = []
    for event in history:
        if event["alias"] != alias or event["action"] == "operating_point":
            continue
        if event["action"] == "rollback" and stack:
            stack.pop()
        elif not stack or stack[-1] != int(event["to"]):
            stack.append(int(event["to"]))
    return stack


def _check_alias(alias: str) -> None:
    if (
        not alias
        or alias.isdigit()
        or not all(c.isalnum() or c in "-_." for c in alias)
    ):
        msg = f"alias '{alias}': expected letters, digits, '-', '_' or '.', not only digits"
        raise RegistryError(msg)


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


def _user() -> str:
    """Return the OS user running this process (even without a login terminal)."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # a uid with no name (e.g. in a bare container)
        return f"uid {os.getuid()}" if hasattr(os, "getuid") else "unknown"
