"""The ``anomaly-gan`` command line.

``entry`` holds the parser, the exit codes and ``main``; each command is one
module here (``train``, ``score``, ``evaluate``, ``registry``, ``retrain``,
``generate``, ``benchmark``, ``feedback``, ``dashboard``) with ``add_parser``
and ``run``. ``image_commands`` and ``dask_command`` are the image and Dask
paths of ``train``/``score``/``evaluate``; ``_options`` and ``_shared`` hold
what several commands use.
"""

from anomaly_gan._lazy import lazy_exports

__all__ = ["build_parser", "main"]

__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "build_parser": "entry",
        "main": "entry",
    },
)
