"""Seed S1's promise: the gaussian-1d preset, with its default settings, learns N(4, 1.25)."""

import time

import torch

from gankit.api import make_trainer
from gankit.config import load_preset
from gankit.generation.sampling import draw


def test_gaussian_1d_default_preset_converges(tmp_path):
    cfg = load_preset("gaussian-1d", ["log.progress=off"])
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # networks this small run fastest on one thread
    started = time.perf_counter()
    trainer = make_trainer(cfg, None, progress=False)
    try:
        trainer.fit()
    finally:
        torch.set_num_threads(threads)
    elapsed = time.perf_counter() - started
    x = draw(trainer.G.eval(), cfg, 10_000, seed=123)
    mean, std = x.mean().item(), x.std().item()
    print(f"gaussian-1d: mean {mean:.3f} std {std:.3f} in {elapsed:.1f} s ({trainer.pos.step} steps)")
    assert abs(mean - 4.0) < 0.1, mean
    assert abs(std - 1.25) < 0.1, std
