"""Conversions between stored uint8 images and the float [-1, 1] range networks see."""

from __future__ import annotations

import torch
import torch.nn.functional as F


def to_unit_range(images: torch.Tensor) -> torch.Tensor:
    """uint8 [0, 255] -> float [-1, 1] (what every generator's Tanh produces)."""
    return images.float().div_(127.5).sub_(1.0)


def to_uint8(images: torch.Tensor) -> torch.Tensor:
    """float [-1, 1] -> uint8 [0, 255], rounding to the nearest level."""
    return images.detach().add(1.0).mul_(127.5).round_().clamp_(0, 255).to(torch.uint8)


def resize_images(images: torch.Tensor, resolution: int) -> torch.Tensor:
    """Resize uint8 images once at load time (bilinear with antialiasing, like torchvision's Resize)."""
    if images.shape[-1] == resolution:
        return images
    out = F.interpolate(
        images.float(), size=(resolution, resolution), mode="bilinear", antialias=True, align_corners=False
    )
    return out.round_().clamp_(0, 255).to(torch.uint8)
