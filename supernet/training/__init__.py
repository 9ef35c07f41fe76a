"""Training weight-sharing supernets: single-path (:func:`train_supernet`) and DrNAS (:func:`train_drnas`);
and stand-alone networks of single architectures (:func:`train_standalone`, true accuracies on any images).

The trainers plug their step, epoch log row and checkpoint into one loop skeleton (:mod:`.loop`), which
owns epochs, steps, graceful stop, ``max_steps``, checkpoints and exact resume.  Rooms: ``device``
(device, torchrun process group), ``checkpoint`` (atomic save/load, RNG state, snapshots, warm start),
``control`` (stop signal, schedule, epoch log), ``inputs`` (a config's images and supernet),
``single_path``, ``drnas_config``, ``dirichlet``, ``drnas``, ``standalone_config`` and ``standalone``.
"""

from .checkpoint import (
    CHECKPOINT,
    CheckpointError,
    config_diff,
    load_checkpoint,
    save_atomic,
    snapshot_paths,
    state_hash,
)
from .control import StopRequested, append_log, cosine_lr, truncate_log
from .device import DistInfo, resolve_device
from .dirichlet import DirichletArch
from .drnas import StepStats, drnas_step, train_drnas
from .drnas_config import DrNASConfig, drnas_config_from_dict, load_drnas_config
from .inputs import build_supernet, load_images, resolve_source
from .loop import NonFiniteLossError
from .single_path import CONFIG, TRAIN_LOG, train_supernet
from .standalone import RESULT, RESULT_COLUMNS, append_result, read_result, train_standalone
from .standalone_config import PRESETS, StandaloneConfig, standalone_config

__all__ = [
    "CHECKPOINT",
    "CONFIG",
    "TRAIN_LOG",
    "CheckpointError",
    "resolve_device",
    "load_images",
    "resolve_source",
    "build_supernet",
    "train_supernet",
    "load_checkpoint",
    "save_atomic",
    "DistInfo",
    "StopRequested",
    "NonFiniteLossError",
    "state_hash",
    "snapshot_paths",
    "cosine_lr",
    "append_log",
    "truncate_log",
    "config_diff",
    "DrNASConfig",
    "DirichletArch",
    "StepStats",
    "drnas_config_from_dict",
    "load_drnas_config",
    "drnas_step",
    "train_drnas",
    "PRESETS",
    "RESULT",
    "RESULT_COLUMNS",
    "StandaloneConfig",
    "standalone_config",
    "train_standalone",
    "append_result",
    "read_result",
]
