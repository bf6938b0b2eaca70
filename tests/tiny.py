"""Tiny set-ups the tests share: the one tiny preset of the training core's tests (ring-2d with
16-wide MLPs on 1,024 points, 4 steps of batch 64, a log every 2 steps, nothing written but what a
test asks for), `gankit train` from the command line in-process, a tiny conditional run, and
small MLPs on a tensor of random images (IMAGES, tiny_images).

    cfg = tiny_config(["train.steps=6"])
    assert train("ring-2d", tmp_path / "run", "train.steps=2", quiet=True) == 0
    run = conditional_run(tmp_path / "cond", data_root, "train.ema=0.9")
"""

from __future__ import annotations

from pathlib import Path

import torch

from gankit.cli import main
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

# on the CPU, with nothing written or measured but what a test asks for
QUIET = ["device=cpu", "eval.every=0", "log.tensorboard=off", "log.progress=off", "speed.amp=off"]
# small MLPs for an image data set (a conditional preset keeps its conditioning)
TINY_MLPS = ["model.g=mlp", "model.d=mlp", "model.hidden=16", "model.latent_dim=8"]


def tiny_config(overrides=(), preset: str = "ring-2d"):
    return load_preset(preset, [*TINY, *overrides])


def train(preset: str, out: Path, *overrides: str, data_root: Path | None = None, quiet: bool = False) -> int:
    """`gankit train PRESET --out OUT [--data-root ROOT] [--quiet] --set S ...`, in-process: its exit code."""
    args = ["train", preset, "--out", str(out)]
    if data_root is not None:
        args += ["--data-root", str(data_root)]
    if quiet:
        args.append("--quiet")
    return main([*args, *(arg for s in overrides for arg in ("--set", s))])


def conditional_run(out: Path, data_root: Path, *overrides: str) -> Path:
    """A tiny trained cgan-mnist run (real digits and their labels; 16-wide MLPs, 3 steps of batch 8)."""
    assert (
        train(
            "cgan-mnist",
            out,
            *TINY_MLPS,
            "train.steps=3",
            "train.batch_size=8",
            *QUIET,
            *overrides,
            data_root=data_root,
        )
        == 0
    )
    return out


# small MLPs on a tensor of images (tiny_images), on the CPU with nothing written
IMAGES = [
    "model.g=mlp",
    "model.d=mlp",
    "model.hidden=16",
    "model.latent_dim=8",
    "train.batch_size=16",
    "train.log_every=2",
    "train.sample_grid=4",
    "device=cpu",
    "eval.every=0",
    "log.tensorboard=off",
    "log.progress=off",
    "speed.amp=off",
]


def tiny_images(n=64, side=16):
    """n random grey uint8 images, the same every call."""
    return (torch.rand(n, 1, side, side, generator=torch.Generator().manual_seed(0)) * 255).to(torch.uint8)
