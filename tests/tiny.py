"""The one tiny preset the tests of the training core share: ring-2d with 16-wide MLPs on 1,024
points, 4 steps of batch 64, a log every 2 steps, nothing written but what a test asks for.

    cfg = tiny_config(["train.steps=6"])
"""

from __future__ import annotations

from gankit.config import load_preset

TINY = [
    "model.hidden=16",
    "data.size=1024",
    "train.batch_size=64",
    "train.steps=4",
    "train.log_every=2",
    "train.sample_grid=100",
    "device=cpu",
    "eval.every=0",
    "log.tensorboard=off",
    "log.progress=off",
]


def tiny_config(overrides=(), preset: str = "ring-2d"):
    return load_preset(preset, [*TINY, *overrides])
