"""Entry point for the torchrun tests: ``anomaly-gan`` with two test probes.

- ``ANOMALY_GAN_TEST_PARAMS=FILE``: after training, every rank's generator and
  discriminator parameter sums are gathered and rank 0 writes them to FILE.
- ``ANOMALY_GAN_TEST_KILL_AFTER=N``: rank 0 exits (code 9) right after writing
  its N-th checkpoint, as a crashed node would; torchrun then stops the job.
"""

import json
import os
import sys
from pathlib import Path

import torch
import torch.distributed as dist

from anomaly_gan.cli import main
from anomaly_gan.engine.training import GanTrainer

_fit = GanTrainer.fit
_save = GanTrainer._save_checkpoint
saved = {"n": 0}


def fit_and_report(self, *args, **kwargs):
    result = _fit(self, *args, **kwargs)
    path = os.environ.get("ANOMALY_GAN_TEST_PARAMS")
    if path and dist.is_initialized():
        mine = torch.tensor(
            [
                sum(float(p.double().sum()) for p in result.generator.parameters()),
                sum(float(p.double().sum()) for p in result.discriminator.parameters()),
            ],
            dtype=torch.float64,
        )
        every = [torch.zeros_like(mine) for _ in range(dist.get_world_size())]
        dist.all_gather(every, mine)
        if dist.get_rank() == 0:
            Path(path).write_text(json.dumps([t.tolist() for t in every]))
    return result


def save_then_die(self, *args, **kwargs):
    _save(self, *args, **kwargs)
    saved["n"] += 1
    if saved["n"] == int(os.environ["ANOMALY_GAN_TEST_KILL_AFTER"]):
        os._exit(9)


GanTrainer.fit = fit_and_report
if os.environ.get("ANOMALY_GAN_TEST_KILL_AFTER"):
    GanTrainer._save_checkpoint = save_then_die

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
