"""Timing of gankit's real training step: warm-up, then timed generator steps (no run directory).

    result = time_trainer(Trainer(build(cfg)), steps=50, warmup=5)
    result.images_per_s

Used by `gankit bench` and benchmarks/bench_vs_conventional.py. Counted images are real images
read (batch size x D steps per G step), as in the images_per_s of training logs.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import torch


@dataclass
class Timing:
    steps: int
    images: int
    seconds: float

    @property
    def images_per_s(self) -> float:
        return self.images / self.seconds


def synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def time_trainer(trainer, steps: int, warmup: int) -> Timing:
    """Run `warmup` untimed steps (compilation, allocator, caches), then time `steps` steps.
    The statistics are read once at the end, as a log line would read them."""
    groups = trainer.schedule.groups(trainer.loader, 0, 0, 0)
    trainer.G.train()
    trainer.D.train()
    for _ in range(warmup):
        trainer.train_group(next(groups)[-1])
    synchronize(trainer.device)
    images = 0
    start = time.perf_counter()
    for _ in range(steps):
        group = next(groups)[-1]
        trainer.train_group(group)
        images += sum(len(b) for b in group)
    trainer.stats.sync()  # the host read one log interval ends with
    synchronize(trainer.device)
    return Timing(steps, images, time.perf_counter() - start)
