"""How many CPU threads a scoring process should use.

A process may use fewer cores than the machine has: its CPU affinity (taskset,
container cpusets) and its cgroup's CPU quota (Docker ``--cpus``, Kubernetes
limits) bound it. Torch's default, every core of the machine, oversubscribes
such a process, and on a machine where other jobs keep cores busy its OpenMP
threads wait on each other: on 2 cores with one other busy process, scoring
200,000 rows took 28.0 s with 2 torch threads against 15.8 s with 1
(docs/benchmarks.md, "Threads"). The default therefore leaves one usable core
to the reader and writer threads and to the rest of the machine. No torch here.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

_CGROUP_V2 = Path("/sys/fs/cgroup/cpu.max")
_CGROUP_V1 = Path("/sys/fs/cgroup/cpu/cpu.cfs_quota_us")
_CGROUP_V1_PERIOD = Path("/sys/fs/cgroup/cpu/cpu.cfs_period_us")


def usable_cpus() -> int:
    """Return the cores this process may run on: affinity, then the cgroup quota."""
    try:
        count = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not on Linux
        count = os.cpu_count() or 1
    quota = cgroup_quota()
    if quota is not None:
        count = min(count, max(1, math.ceil(quota)))
    return max(1, count)


def cgroup_quota() -> float | None:
    """Return the cgroup's CPU quota in cores, or None when there is none."""
    try:
        if _CGROUP_V2.exists():
            limit, period = _CGROUP_V2.read_text().split()[:2]
            return None if limit == "max" else int(limit) / int(period)
        if _CGROUP_V1.exists():
            limit_us = int(_CGROUP_V1.read_text())
            period_us = int(_CGROUP_V1_PERIOD.read_text())
            return None if limit_us <= 0 else limit_us / period_us
    except (OSError, ValueError):
        return None
    return None


def scoring_threads(requested: int | None = None) -> int:
    """Return the model's thread count: ``requested``, else one fewer than usable."""
    if requested is not None:
        return requested
    return max(1, usable_cpus() - 1)
