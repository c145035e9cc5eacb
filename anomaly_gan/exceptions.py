"""Every error class anomaly-gan raises.

The tree::

    AnomalyGanError
    ├── ConfigError(ValueError)       a parameter or config file is invalid
    ├── DataError(ValueError)         an input file cannot be read as a table
    ├── SchemaError(ValueError)       a column is missing or holds the wrong type
    │   └── BadRowsError              rows could not be scored (--fail-on-bad-rows)
    ├── ArtifactError                 a model directory is missing, altered or too new
    └── RegistryError                 a registry operation cannot be done
        └── LockedError               another run holds the lock

Each child also inherits the built-in its callers already catch. Not-fitted
errors reuse scikit-learn's ``NotFittedError``. This module imports nothing from
the package.
"""

from __future__ import annotations


class AnomalyGanError(Exception):
    """Root of every error raised on purpose by anomaly-gan."""


class ConfigError(AnomalyGanError, ValueError):
    """A parameter, a config file or a command-line option is invalid."""


class DataError(AnomalyGanError, ValueError):
    """An input file is missing, unreadable or not a table."""


class SchemaError(AnomalyGanError, ValueError):
    """A column is missing or holds values of the wrong type."""


class BadRowsError(SchemaError):
    """Rows could not be scored and the run was told to fail on them."""


class ArtifactError(AnomalyGanError):
    """A saved model is missing, altered, truncated or of a newer format."""


class RegistryError(AnomalyGanError):
    """A model-registry operation cannot be carried out."""


class LockedError(RegistryError):
    """Another process holds a lock this one needs (e.g. a retraining run)."""
