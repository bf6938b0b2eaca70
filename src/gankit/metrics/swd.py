"""Multi-scale sliced Wasserstein distance (SWD) between two image sets, as Karras et al. (2018,
Progressive Growing of GANs, appendix D) define it; needs no pretrained network.

Each image is split into a Laplacian pyramid (5x5 binomial filter) from full size down to 16x16,
the coarsest level being the low-pass image itself. At each level, 7x7 patches are cut at random
places of every image; each patch (C*49 values) is one descriptor, normalised per colour channel by
the mean and std of its own set. The distance of the two descriptor sets is approximated by 512
random directions: project, sort, and average |difference| of the sorted projections (the exact
1D Wasserstein-1 distance on each direction). Reported x 1e3, as in the paper:
- swd:        mean over the pyramid levels
- swd_fine:   the finest level (pixel-scale detail: noise, texture)
- swd_coarse: the 16x16 level (layout, colour masses)

Lower is better; two draws of the same distribution give a small positive value (the floor).
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F

from ..errors import GankitError

PATCH = 7
MIN_SIDE = 16
DIRECTIONS = 512
MAX_DESCRIPTORS = 2**17  # per level and set: bounds memory (n x patches x C*49 floats)
_BINOMIAL = torch.tensor([1.0, 4.0, 6.0, 4.0, 1.0]) / 16


def _blur(x: torch.Tensor, gain: float = 1.0) -> torch.Tensor:
    """5x5 binomial filter, reflect-padded, as two 1D passes of shifted sums: memory-bound
    elementwise work, far faster on a CPU than a grouped 5x5 convolution."""
    k = (_BINOMIAL * gain**0.5).tolist()
    y = F.pad(x, (2, 2, 2, 2), mode="reflect")
    h, w = x.shape[-2:]
    acc = y[..., 0:h, :] * k[0]
    for i in range(1, 5):
        acc.add_(y[..., i : i + h, :], alpha=k[i])
    out = acc[..., 0:w] * k[0]
    for i in range(1, 5):
        out.add_(acc[..., i : i + w], alpha=k[i])
    return out


def _down(x: torch.Tensor) -> torch.Tensor:
    return _blur(x)[..., ::2, ::2]


def _up(x: torch.Tensor, size) -> torch.Tensor:
    n, c, h, w = x.shape
    z = x.new_zeros(n, c, 2 * h, 2 * w)
    z[..., ::2, ::2] = x
    return _blur(z, gain=4.0)[..., : size[0], : size[1]]  # gain 4: a quarter of the pixels are non-zero


def laplacian_pyramid(images: torch.Tensor, min_side: int = MIN_SIDE) -> list[torch.Tensor]:
    """Levels from finest to coarsest; the last one is the low-pass image of side >= min_side."""
    levels, x = [], images
    while x.shape[-1] // 2 >= min_side and x.shape[-2] // 2 >= min_side:
        small = _down(x)
        levels.append(x - _up(small, x.shape[-2:]))
        x = small
    levels.append(x)
    return levels


def _descriptors(level: torch.Tensor, per_image: int, gen: torch.Generator) -> torch.Tensor:
    n, c, h, w = level.shape
    ys = torch.randint(0, h - PATCH + 1, (n, per_image), generator=gen)
    xs = torch.randint(0, w - PATCH + 1, (n, per_image), generator=gen)
    d = torch.arange(PATCH)
    rows = (ys[..., None] + d)[..., :, None].expand(n, per_image, PATCH, PATCH)
    cols = (xs[..., None] + d)[..., None, :].expand(n, per_image, PATCH, PATCH)
    img = torch.arange(n)[:, None, None, None].expand_as(rows)
    patches = level.permute(0, 2, 3, 1)[img, rows, cols]  # (n, per_image, 7, 7, c)
    desc = patches.reshape(n * per_image, PATCH * PATCH, c)
    # per-channel normalisation within the set (the paper's choice: a global colour shift is left out)
    desc = (desc - desc.mean(dim=(0, 1))) / desc.std(dim=(0, 1)).clamp_min(1e-8)
    return desc.reshape(len(desc), -1)


def sliced_wasserstein(a: torch.Tensor, b: torch.Tensor, directions: int, gen: torch.Generator) -> float:
    """Mean over random unit directions of the 1D Wasserstein-1 distance of the projections."""
    a, b = a.numpy(), b.numpy()
    total = 0.0
    for k in range(0, directions, 128):
        dirs = torch.randn(min(128, directions - k), a.shape[1], generator=gen).numpy()
        dirs /= np.linalg.norm(dirs, axis=1, keepdims=True)
        # (directions, points) sorted along the last axis: numpy's vectorised sort is far faster here
        pa, pb = np.sort(dirs @ a.T, axis=1), np.sort(dirs @ b.T, axis=1)
        total += float(np.abs(pa - pb).mean(axis=1, dtype=np.float64).sum())
    return total / directions


def _as_float(images, name: str) -> torch.Tensor:
    x = torch.as_tensor(images)
    if x.dim() != 4:
        raise GankitError(f"{name} must be images (N, C, H, W); got shape {tuple(x.shape)}")
    if x.dtype == torch.uint8:
        return x.float().div(127.5).sub(1.0)
    x = x.float()
    if not torch.isfinite(x).all():
        raise GankitError(f"{name} contain NaN or infinite values (did training diverge?)")
    return x


def swd(real, fake, seed: int = 0, directions: int = DIRECTIONS) -> dict:
    """{'swd', 'swd_fine', 'swd_coarse'} (x 1e3) of uint8 or [-1, 1] float images (N, C, H, W)."""
    r, f = _as_float(real, "real images"), _as_float(fake, "generated images")
    if r.shape[1:] != f.shape[1:]:
        raise GankitError(f"the two image sets differ in shape ({tuple(r.shape[1:])} and {tuple(f.shape[1:])})")
    if min(r.shape[-2:]) < PATCH:
        raise GankitError(f"SWD needs images of at least {PATCH}x{PATCH} pixels; got {tuple(r.shape[-2:])}")
    n = min(len(r), len(f))
    if n < 2:
        raise GankitError("SWD needs at least 2 images in each set")
    gen = torch.Generator().manual_seed(seed)
    # the same number of images from each set, so the sorted projections pair up one to one
    if len(r) > n:
        r = r[torch.randperm(len(r), generator=gen)[:n]]
    if len(f) > n:
        f = f[torch.randperm(len(f), generator=gen)[:n]]
    per_image = max(1, min(128, MAX_DESCRIPTORS // n))
    values = []
    for lr, lf in zip(laplacian_pyramid(r), laplacian_pyramid(f)):
        state = gen.get_state()  # the same patch places in both sets: identical sets give exactly 0
        dr = _descriptors(lr, per_image, gen)
        gen.set_state(state)
        df = _descriptors(lf, per_image, gen)
        values.append(1e3 * sliced_wasserstein(dr, df, directions, gen))
    if not all(math.isfinite(v) for v in values):
        raise GankitError("SWD is not finite: the images hold NaN or infinite values")
    return {"swd": sum(values) / len(values), "swd_fine": values[0], "swd_coarse": values[-1]}
