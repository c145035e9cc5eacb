"""What outlives a run.

The model registry (numbered versions, aliases, history)
and the analysts' verdict store (SQLite).

No torch here: listing versions or reading verdicts never loads it.
"""

from anomaly_gan._lazy import lazy_exports

__all__ = ["ModelRegistry", "VerdictStore", "resolve_model_spec"]

__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "ModelRegistry": "registry",
        "VerdictStore": "verdicts",
        "resolve_model_spec": "registry",
    },
)
