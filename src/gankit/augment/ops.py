"""DiffAugment's operations on a batch of images in [-1, 1], (N, C, H, W), written from the
paper's description (Zhao et al. 2020, "Differentiable Augmentation for Data-Efficient GAN
Training"), and ADA's zoom and rotation (`geometric`, Karras et al. 2020): every op is
differentiable in the images, runs on their device, and draws its random parameters per sample
from the global torch RNG. Each op is applied to a sample with probability
`p` (a float or a device scalar: no host sync), as ADA applies its augmentations."""

from __future__ import annotations

import math

import torch
from torch.nn import functional as F


def _apply(x: torch.Tensor, changed: torch.Tensor, p) -> torch.Tensor:
    """Per sample: the changed image with probability p, else the image itself. The mask is drawn
    whatever p is, so the number of random draws never depends on p."""
    keep = torch.rand(x.shape[0], 1, 1, 1, device=x.device) < p
    return torch.where(keep, changed, x)


def _uniform(x: torch.Tensor, lo: float, hi: float) -> torch.Tensor:
    return torch.rand(x.shape[0], 1, 1, 1, device=x.device, dtype=x.dtype) * (hi - lo) + lo


def brightness(x: torch.Tensor, p=1.0) -> torch.Tensor:
    return _apply(x, x + _uniform(x, -0.5, 0.5), p)  # add U(-0.5, 0.5) to every pixel


def saturation(x: torch.Tensor, p=1.0) -> torch.Tensor:
    grey = x.mean(dim=1, keepdim=True)
    return _apply(x, (x - grey) * _uniform(x, 0.0, 2.0) + grey, p)  # scale the distance from grey by U(0, 2)


def contrast(x: torch.Tensor, p=1.0) -> torch.Tensor:
    mean = x.mean(dim=(1, 2, 3), keepdim=True)
    return _apply(x, (x - mean) * _uniform(x, 0.5, 1.5) + mean, p)  # scale the distance from the mean


def color(x: torch.Tensor, p=1.0) -> torch.Tensor:
    return contrast(saturation(brightness(x, p), p), p)


def translation(x: torch.Tensor, p=1.0, ratio: float = 0.125) -> torch.Tensor:
    """Shift each image by whole pixels, up to ratio * side each way, filling with zeros."""
    n, c, h, w = x.shape
    sh, sw = int(h * ratio + 0.5), int(w * ratio + 0.5)
    ty = torch.randint(-sh, sh + 1, (n, 1, 1), device=x.device)
    tx = torch.randint(-sw, sw + 1, (n, 1, 1), device=x.device)
    rows = torch.arange(h, device=x.device).view(1, h, 1) + ty  # source row of each output pixel
    cols = torch.arange(w, device=x.device).view(1, 1, w) + tx
    inside = ((rows >= 0) & (rows < h) & (cols >= 0) & (cols < w)).unsqueeze(1)
    index = (rows.clamp(0, h - 1) * w + cols.clamp(0, w - 1)).view(n, 1, h * w).expand(n, c, h * w)
    moved = x.flatten(2).gather(2, index).view(n, c, h, w)  # gather: differentiable in x
    return _apply(x, moved * inside, p)


def cutout(x: torch.Tensor, p=1.0, ratio: float = 0.5) -> torch.Tensor:
    """Zero a square of side ratio * side at a random place (it may hang over the border)."""
    n, _, h, w = x.shape
    ch, cw = int(h * ratio + 0.5), int(w * ratio + 0.5)
    cy = torch.randint(0, h + (1 - ch % 2), (n, 1, 1), device=x.device) - ch // 2  # top edge
    cx = torch.randint(0, w + (1 - cw % 2), (n, 1, 1), device=x.device) - cw // 2
    ys = torch.arange(h, device=x.device).view(1, h, 1)
    xs = torch.arange(w, device=x.device).view(1, 1, w)
    hole = ((ys >= cy) & (ys < cy + ch) & (xs >= cx) & (xs < cx + cw)).unsqueeze(1)
    return _apply(x, x * (~hole), p)


def geometric(x: torch.Tensor, p=1.0, rotation: float = 15.0, scale: float = 0.2) -> torch.Tensor:
    """Rotate each image by U(-rotation, rotation) degrees and scale it by 2^N(0, scale^2) about its
    centre (ADA's isotropic scaling and rotation, Karras et al. 2020), resampled bilinearly with the
    border reflected, so no constant frame appears for D to key on. Small ranges: applied with
    p = 1 as DiffAugment applies its ops, a wide rotation would leak into G's samples."""
    n = x.shape[0]
    angle = (torch.rand(n, device=x.device, dtype=x.dtype) * 2 - 1) * math.radians(rotation)
    zoom = torch.exp2(torch.randn(n, device=x.device, dtype=x.dtype) * scale)
    cos, sin = torch.cos(angle) / zoom, torch.sin(angle) / zoom  # the output -> input map: inverse scale
    zero = torch.zeros_like(cos)
    theta = torch.stack([torch.stack([cos, -sin, zero], 1), torch.stack([sin, cos, zero], 1)], 1)
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    moved = F.grid_sample(x, grid, mode="bilinear", padding_mode="reflection", align_corners=False)
    return _apply(x, moved, p)
