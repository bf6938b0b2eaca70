"""gankit: train, evaluate and diagnose generative adversarial networks on PyTorch.

import gankit
cfg = gankit.load_preset("ring-2d", overrides=["train.epochs=5"])
run = gankit.train(cfg)                 # -> RunDir
G = gankit.load_generator(run.path)     # -> (generator, config)
"""

from __future__ import annotations

from .config import Config, load_file, load_preset, preset_names
from .errors import GankitError
from .version import __version__


def train(cfg: Config, out=None, data_root=None, progress: bool = False, callbacks=None, **parts):
    """Train `cfg` into a new run directory and return it (a RunDir): what `gankit train` does,
    diagnosis, metrics, best.pt and report included. G, D, loss and data may be your own
    (nn.Modules, an Objective, a tensor of uint8 images or float points)."""
    from .api import train as _train

    return _train(cfg, out, data_root, progress, callbacks, **parts)


def resume(run_path, data_root=None, overrides: list[str] | None = None, progress: bool = False, **parts):
    """Continue a run from its last checkpoint to its configured end (or a new one given in
    `overrides`, e.g. ["train.epochs=30"]); returns the RunDir. A run trained with your own
    G, D, loss or data resumes with the same ones passed again."""
    from .api import resume as _resume

    trainer = _resume(run_path, data_root, overrides, progress=progress, diagnose=True, **parts)
    trainer.fit()
    return trainer.run


def load_generator(run_path, checkpoint: str = "last", device: str = "cpu"):
    """The trained generator of a run (eval mode) and the run's config; `run_path` may also be a file
    written by `gankit export`: safetensors weights (G's moving average when it has one) or a .pt2 program."""
    from .generation.sampling import load_generator as _load

    return _load(run_path, checkpoint, device)


__all__ = [
    "Config",
    "GankitError",
    "load_file",
    "load_preset",
    "preset_names",
    "train",
    "resume",
    "load_generator",
    "__version__",
]
