"""anomaly-gan: GAN-based (GANomaly-family) anomaly detection.

Public names are listed in ``__all__``; everything else is private. Heavy
imports (torch) load on first use, so ``anomaly-gan --help`` starts fast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from anomaly_gan._version import __version__

__all__ = [
    "AnomalyGanError",
    "ArtifactError",
    "ConfigError",
    "DataError",
    "DetectorConfig",
    "GANomalyDetector",
    "ImageGANomalyDetector",
    "RegistryError",
    "SchemaError",
    "TabularPreprocessor",
    "__version__",
    "load_adbench",
    "load_mnist",
    "load_nsl_kdd",
    "make_transactions",
]

_LAZY = {
    "GANomalyDetector": "anomaly_gan.detectors.tabular",
    "ImageGANomalyDetector": "anomaly_gan.detectors.image",
    "TabularPreprocessor": "anomaly_gan.features.preprocessing",
    "DetectorConfig": "anomaly_gan.config",
    "make_transactions": "anomaly_gan.data.datasets",
    "load_adbench": "anomaly_gan.data.datasets",
    "load_nsl_kdd": "anomaly_gan.data.datasets",
    "load_mnist": "anomaly_gan.data.datasets",
    "AnomalyGanError": "anomaly_gan.exceptions",
    "ArtifactError": "anomaly_gan.exceptions",
    "ConfigError": "anomaly_gan.exceptions",
    "DataError": "anomaly_gan.exceptions",
    "RegistryError": "anomaly_gan.exceptions",
    "SchemaError": "anomaly_gan.exceptions",
}

if TYPE_CHECKING:
    from anomaly_gan.config import DetectorConfig
    from anomaly_gan.data.datasets import (
        load_adbench,
        load_mnist,
        load_nsl_kdd,
        make_transactions,
    )
    from anomaly_gan.detectors.image import ImageGANomalyDetector
    from anomaly_gan.detectors.tabular import GANomalyDetector
    from anomaly_gan.exceptions import (
        AnomalyGanError,
        ArtifactError,
        ConfigError,
        DataError,
        RegistryError,
        SchemaError,
    )
    from anomaly_gan.features.preprocessing import TabularPreprocessor


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    msg = f"module 'anomaly_gan' has no attribute {name!r}"
    raise AttributeError(msg)


def __dir__() -> list[str]:
    return sorted(__all__)
