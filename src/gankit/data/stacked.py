"""Stacked MNIST (Metz et al. 2017, the VEEGAN / PacGAN mode-coverage benchmark): each sample is
three MNIST digits, drawn independently and uniformly from one MNIST split, placed in the three
channels of one image. Its modes are the 1,000 digit triples (d0, d1, d2), mode id
100 * d0 + 10 * d1 + d2, all about equally likely.

Built on the fly from the real MNIST (the same decode, resize and disk cache as `mnist`): the
triples are drawn by a generator seeded from the run's seed, so the same seed gives the same data.
"""

from __future__ import annotations

import torch

from ..errors import GankitError

STACKED_MNIST = "stacked-mnist"
CHANNELS = 3
MODES = 10**CHANNELS
DEFAULT_SIZE = 60_000  # stacked images per data set (data.size = 0), whichever MNIST split they come from


def stack_digits(images: torch.Tensor, labels: torch.Tensor, n: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(uint8 (n, 3, H, W) stacked images, int64 (n,) mode ids) from grey digits `images`
    (N, 1, H, W) with their `labels`: channel c of sample i is digit idx[i, c], all drawn
    independently by a generator seeded from `seed`."""
    if images.dim() != 4 or images.shape[1] != 1:
        raise GankitError(f"Stacked MNIST stacks grey digits (N, 1, H, W); got shape {tuple(images.shape)}")
    if n < 1:
        raise GankitError(f"Stacked MNIST needs at least one sample (data.size = {n})")
    gen = torch.Generator().manual_seed(30_000 + seed)
    idx = torch.randint(len(images), (n, CHANNELS), generator=gen)
    stacked = images[idx.reshape(-1), 0].reshape(n, CHANNELS, *images.shape[-2:])
    digits = labels[idx]  # (n, 3)
    modes = (digits * torch.tensor([100, 10, 1])).sum(1)
    return stacked, modes
