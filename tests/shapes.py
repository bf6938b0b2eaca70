"""Synthetic RGB images with structure at several scales (a colour gradient, discs and boxes of
random colours, sizes and places), for the metrics that need no pretrained network: a stand-in for
a folder of photos that can be made anywhere, fast, from a seed."""

from __future__ import annotations

from pathlib import Path

import torch
import torch.nn.functional as F


def shapes(n: int, side: int = 32, seed: int = 0) -> torch.Tensor:
    """uint8 images (n, 3, side, side)."""
    g = torch.Generator().manual_seed(seed)
    y, x = torch.meshgrid(torch.linspace(0, 1, side), torch.linspace(0, 1, side), indexing="ij")
    c0, c1 = torch.rand(n, 3, 1, 1, generator=g), torch.rand(n, 3, 1, 1, generator=g)
    angle = torch.rand(n, 1, 1, generator=g) * 6.2832
    t = (x * angle.cos() + y * angle.sin()).clamp(0, 1)[:, None]
    img = c0 + (c1 - c0) * t
    for _ in range(3):
        colour = torch.rand(n, 3, 1, 1, generator=g)
        cx, cy = torch.rand(n, 1, 1, generator=g), torch.rand(n, 1, 1, generator=g)
        r = 0.08 + 0.2 * torch.rand(n, 1, 1, generator=g)
        disc = (x - cx) ** 2 + (y - cy) ** 2 < r**2
        box = ((x - cx).abs() < r) & ((y - cy).abs() < 0.6 * r)
        mask = torch.where(torch.rand(n, 1, 1, generator=g) < 0.5, disc, box)[:, None]
        img = torch.where(mask, colour, img)
    return (img * 255).round().clamp(0, 255).to(torch.uint8)


def write_folder(folder: Path, n: int, side: int = 32, seed: int = 0) -> Path:
    """n shapes images as PNG files in `folder`."""
    from PIL import Image

    folder.mkdir(parents=True, exist_ok=True)
    for i, img in enumerate(shapes(n, side, seed)):
        Image.fromarray(img.permute(1, 2, 0).numpy()).save(folder / f"{i:05d}.png")
    return folder


def blur(images: torch.Tensor, sigma: float) -> torch.Tensor:
    """Gaussian blur of uint8 images (what a blurry generator shows)."""
    r = int(3 * sigma) + 1
    k = torch.exp(-(torch.arange(-r, r + 1.0) ** 2) / (2 * sigma**2))
    k = (k / k.sum()).view(1, 1, 1, -1)
    x = images.float().reshape(-1, 1, *images.shape[-2:])
    x = F.conv2d(F.pad(x, (r, r, 0, 0), mode="reflect"), k)
    x = F.conv2d(F.pad(x, (0, 0, r, r), mode="reflect"), k.transpose(-1, -2))
    return x.reshape(images.shape).round().clamp(0, 255).to(torch.uint8)


def noisy(images: torch.Tensor, std: float, seed: int = 0) -> torch.Tensor:
    """uint8 images plus Gaussian noise of `std` (in units of the full range)."""
    g = torch.Generator().manual_seed(seed)
    return (images.float() + std * 255 * torch.randn(images.shape, generator=g)).round().clamp(0, 255).to(torch.uint8)
