"""Rows made ready for a model.

Column roles, value parsing and the numeric
encoding (``TabularPreprocessor``), fitted on training data and saved as JSON.

No torch here.
"""

from anomaly_gan._lazy import lazy_exports

__all__ = ["TabularPreprocessor", "TransformReport", "infer_role"]

__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "TabularPreprocessor": "preprocessing",
        "TransformReport": "transform_report",
        "infer_role": "schema",
    },
)
