"""Lazy re-exports for package ``__init__`` files: a name's module loads on first use.

A folder whose modules import torch re-exports its public names through
``lazy_exports`` so that importing one light module of the folder (or the
folder itself) does not import torch.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any


def lazy_exports(
    package: str, names: dict[str, str]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """``__getattr__`` and ``__dir__`` for ``package``: ``names`` maps a name to its module."""

    def get_attribute(name: str) -> Any:
        if name in names:
            return getattr(importlib.import_module(f"{package}.{names[name]}"), name)
        msg = f"module {package!r} has no attribute {name!r}"
        raise AttributeError(msg)

    def names_list() -> list[str]:
        return sorted(names)

    return get_attribute, names_list
