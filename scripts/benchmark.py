#!/usr/bin/env python
"""Run the detection benchmark of ../shared/BENCHMARK.md and write its report.

The same as `anomaly-gan benchmark`; see `anomaly-gan benchmark --help`.
"""

import sys

from anomaly_gan.cli import main

if __name__ == "__main__":
    sys.exit(main(["benchmark", *sys.argv[1:]]))
