"""The detectors users fit, save and load.

The detectors users fit and load: ``GANomalyDetector`` (tables) and
``ImageGANomalyDetector`` (images), on a shared base (``_base``); and the model
directory they save to and load from (``artifacts``, ``signing``).
"""

from anomaly_gan._lazy import lazy_exports

__all__ = [
    "GANomalyDetector",
    "ImageGANomalyDetector",
    "load_model_dir",
    "read_manifest",
    "save_model_dir",
]

__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "GANomalyDetector": "tabular",
        "ImageGANomalyDetector": "image",
        "load_model_dir": "artifacts",
        "read_manifest": "artifacts",
        "save_model_dir": "artifacts",
    },
)
