"""Toy distributions generated in-process: seed S1's 1D Gaussian and the 2D mixtures used as
mode-collapse testbeds.

- ring-2d: 8 Gaussians on a circle of radius 2, std 0.02 (the Unrolled-GAN testbed).
- ring-pacgan: 8 Gaussians on the unit circle, std 0.01: the 2D-ring of the PacGAN/VEEGAN
  comparison (PacGAN's reference code: means (cos 2 pi k/8, sin 2 pi k/8), std 0.01).
- grid-2d: the 2D-grid of the same papers, 25 Gaussians at {-4, -2, 0, 2, 4}^2, std 0.05
  (the `grid-25` preset trains on it).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class GaussianMixture:
    """Equal-weight mixture of isotropic Gaussians; a 1D Gaussian is a mixture of one."""

    means: tuple  # tuple of coordinate tuples
    std: float

    @property
    def dim(self) -> int:
        return len(self.means[0])

    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        means = torch.tensor(self.means, dtype=torch.float32)
        idx = torch.randint(len(self.means), (n,), generator=generator)
        return means[idx] + self.std * torch.randn(n, self.dim, generator=generator)

    def log_density(self, x: torch.Tensor) -> torch.Tensor:
        """log p(x) for points x of shape (N, dim)."""
        means = torch.tensor(self.means, dtype=x.dtype, device=x.device)
        sq = ((x[:, None, :] - means[None]) ** 2).sum(-1)  # (N, modes)
        log_norm = -0.5 * self.dim * math.log(2 * math.pi * self.std**2)
        return torch.logsumexp(-sq / (2 * self.std**2), dim=1) + log_norm - math.log(len(self.means))


def gaussian_1d(mean: float = 4.0, std: float = 1.25) -> GaussianMixture:
    """Seed S1: real data ~ N(4, 1.25)."""
    return GaussianMixture(((mean,),), std)


def ring_2d(modes: int = 8, radius: float = 2.0, std: float = 0.02) -> GaussianMixture:
    """8 Gaussians on a circle of radius 2, std 0.02 (the Unrolled-GAN testbed)."""
    means = tuple(
        (radius * math.cos(2 * math.pi * k / modes), radius * math.sin(2 * math.pi * k / modes)) for k in range(modes)
    )
    return GaussianMixture(means, std)


def ring_pacgan() -> GaussianMixture:
    """PacGAN's 2D-ring: 8 modes on a circle of radius 1, std 0.01."""
    return ring_2d(modes=8, radius=1.0, std=0.01)


def grid_2d(side: int = 5, spacing: float = 2.0, std: float = 0.05) -> GaussianMixture:
    """A side x side grid of Gaussians centred on the origin (25 modes by default)."""
    offs = [spacing * (i - (side - 1) / 2) for i in range(side)]
    return GaussianMixture(tuple((x, y) for x in offs for y in offs), std)


TOY_SETS = {"gaussian-1d": gaussian_1d, "ring-2d": ring_2d, "ring-pacgan": ring_pacgan, "grid-2d": grid_2d}
DEFAULT_SIZE = {"gaussian-1d": 64_000, "ring-2d": 64_000, "ring-pacgan": 64_000, "grid-2d": 64_000}
