"""gankit: train, evaluate and diagnose generative adversarial networks on PyTorch.

    import gankit
    cfg = gankit.load_preset("ring-2d", overrides=["train.epochs=5"])
    run = gankit.train(cfg)                 # -> RunDir
    G = gankit.load_generator(run.path)     # -> (generator, config)
"""

from __future__ import annotations

__version__ = "0.1.0"

from .config import Config, load_file, load_preset, preset_names
from .errors import GankitError


def train(cfg: Config, out=None, data_root=None, progress: bool = False):
    """Train `cfg` into a new run directory and return it."""
    from .run import RunDir
    from .training.loop import Trainer

    run = RunDir.create(cfg.name, out)
    from .config import to_toml

    run.write_text("config.toml", to_toml(cfg))
    Trainer(cfg, run, data_root=data_root, progress=progress).fit()
    return run


def load_generator(run_path, checkpoint: str = "last", device: str = "cpu"):
    """The trained generator of a run (eval mode) and the run's config."""
    from .generation.sampling import load_generator as _load

    return _load(run_path, checkpoint, device)


__all__ = ["Config", "GankitError", "load_file", "load_preset", "preset_names", "train", "load_generator",
           "__version__"]
