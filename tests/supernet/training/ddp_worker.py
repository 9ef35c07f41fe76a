"""Run by tests under torchrun: train, then write the hash of this rank's final weights beside the run."""

import json
import sys
from pathlib import Path

import torch.distributed as dist

from supernet.config import config_from_dict
from supernet.training import train_supernet

cfg = config_from_dict(json.loads(sys.argv[1]))
out = Path(sys.argv[2])
summary = train_supernet(cfg, out, progress=False)
assert summary["world_size"] == 2, summary
rank = dist.get_rank()
(out / f"weights_rank{rank}.txt").write_text(summary["weights_sha256"])
dist.barrier()
dist.destroy_process_group()
