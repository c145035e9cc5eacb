"""Where tensors run.

The GAN training loop and forward passes (``GanTrainer``),
data-parallel training under torchrun, and how many CPU threads to use.
"""

from anomaly_gan._lazy import lazy_exports

__all__ = ["GanTrainer", "TrainResult", "resolve_device", "scoring_threads"]

__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "GanTrainer": "training",
        "TrainResult": "training",
        "resolve_device": "forward",
        "scoring_threads": "cpus",
    },
)
