"""Data sets, decoded once into one tensor: uint8 images (N, C, H, W) or float toy points (N, dim).

    ds = load_dataset(cfg.data, data_root="../shared/data")
    loader = DeviceLoader(ds, batch_size=64, seed=0, device="cpu")
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from ..errors import GankitError
from .convert import resize_images, to_uint8, to_unit_range
from .loader import DeviceLoader
from .toy import DEFAULT_SIZE, TOY_SETS, GaussianMixture

IDX_SETS = ("mnist", "fashion-mnist")


@dataclass
class Dataset:
    name: str
    data: torch.Tensor  # uint8 (N, C, H, W) for images, float32 (N, dim) for toy sets
    labels: torch.Tensor | None = None
    distribution: GaussianMixture | None = None  # toy sets: the true density

    @property
    def is_image(self) -> bool:
        return self.data.dtype == torch.uint8

    @property
    def sample_shape(self) -> tuple:
        return tuple(self.data.shape[1:])

    def __len__(self) -> int:
        return len(self.data)


def sample_shape(cfg) -> tuple:
    """Shape of one sample of data config `cfg`, known without loading the data."""
    if cfg.name in TOY_SETS:
        return (TOY_SETS[cfg.name]().dim,)
    channels = 3 if cfg.name == "folder" else 1
    side = cfg.resolution or 28
    return (channels, side, side)


def load_dataset(cfg, data_root=None, seed: int = 0, download: bool = True) -> Dataset:
    """Load the data set named by data config `cfg`. Toy sets are sampled with `seed`."""
    if cfg.name in TOY_SETS:
        dist = TOY_SETS[cfg.name]()
        gen = torch.Generator().manual_seed(10_000 + seed)
        return Dataset(cfg.name, dist.sample(cfg.size or DEFAULT_SIZE[cfg.name], gen), distribution=dist)
    if cfg.name in IDX_SETS:
        from .cache import load_cached
        from .idx import FILES, load_idx_images, locate

        # data.root comes from a config file: read from it, never download (write) into it
        root, fetch = cfg.root or data_root, download and not cfg.root
        folder = locate(cfg.name, root, fetch)

        def decode():
            images, labels = load_idx_images(cfg.name, root, cfg.split, fetch)
            return (resize_images(images, cfg.resolution) if cfg.resolution else images), labels

        # decoded once, then read back from the disk cache (see data/cache.py)
        images, labels = load_cached(cfg.name, cfg.split, cfg.resolution,
                                     [folder / f for f in FILES[cfg.split]], decode)
        return Dataset(cfg.name, images, labels)
    if cfg.name == "folder":
        from .folder import load_folder

        return Dataset(cfg.name, load_folder(cfg.root, cfg.resolution))
    raise GankitError(f"unknown data set '{cfg.name}'")


__all__ = ["Dataset", "DeviceLoader", "load_dataset", "sample_shape", "to_unit_range", "to_uint8", "resize_images"]
