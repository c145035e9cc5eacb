"""``python -m anomaly_gan``: the same as the ``anomaly-gan`` command."""

import sys

from anomaly_gan.cli import main

sys.exit(main())
