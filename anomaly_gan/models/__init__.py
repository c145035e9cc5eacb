"""Torch networks and losses; tensors in, tensors out.

This package imports only torch and ``anomaly_gan.config``; it never sees a
DataFrame or a file.
"""

from anomaly_gan.models.tabular import (
    GanOutput,
    TabularDiscriminator,
    TabularGenerator,
)

__all__ = ["GanOutput", "TabularDiscriminator", "TabularGenerator"]
