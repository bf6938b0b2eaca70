"""Data sets, decoded once into one tensor: uint8 images (N, C, H, W) or float toy points (N, dim).

ds = load_dataset(cfg.data, data_root="../shared/data")
loader = DeviceLoader(ds, batch_size=64, seed=0, device="cpu")
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass

import torch

from ..errors import GankitError
from .convert import resize_images, to_uint8, to_unit_range
from .labels import CLASS_NAMES, folder_labels
from .loader import DeviceLoader
from .stacked import STACKED_MNIST
from .toy import DEFAULT_SIZE, TOY_SETS, GaussianMixture

IDX_SETS = ("mnist", "fashion-mnist")
log = logging.getLogger("gankit")


@dataclass
class Dataset:
    name: str
    data: torch.Tensor  # uint8 (N, C, H, W) for images, float32 (N, dim) for toy sets
    labels: torch.Tensor | None = None  # int64 (N,): MNIST's label files, a folder's class subfolders
    distribution: GaussianMixture | None = None  # toy sets: the true density
    classes: list[str] | None = None  # class names in label order (None: labels are their own names)

    @property
    def is_image(self) -> bool:
        return self.data.dtype == torch.uint8

    @property
    def sample_shape(self) -> tuple:
        return tuple(self.data.shape[1:])

    def __len__(self) -> int:
        return len(self.data)

    def take(self, idx: torch.Tensor) -> torch.Tensor:
        """The samples at indices `idx` (as data.FolderFiles.take does for a streamed folder)."""
        return self.data[idx]


def sample_shape(cfg) -> tuple:
    """Shape of one sample of data config `cfg`, known without loading the data."""
    if cfg.name in TOY_SETS:
        return (TOY_SETS[cfg.name]().dim,)
    channels = 3 if cfg.name in ("folder", STACKED_MNIST) else 1
    side = cfg.resolution or 28
    return (channels, side, side)


def holdout_split(n: int, fraction: float, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(kept indices, held-out indices) of n items, both sorted: a fraction of them (at least one,
    none when fraction is 0) drawn by `seed`, so training and evaluation agree on the split."""
    held = min(n - 1, max(1, round(fraction * n))) if fraction > 0 and n > 1 else 0
    perm = torch.randperm(n, generator=torch.Generator().manual_seed(20_000 + seed))
    return perm[held:].sort().values, perm[:held].sort().values


def load_dataset(cfg, data_root=None, seed: int = 0, download: bool = True, device=None, part: str = "train"):
    """Load the data set named by data config `cfg`. Toy sets are sampled with `seed`. An image
    folder is streamed from disk (a data.stream.FolderFiles) when data.stream says so, or under
    auto when decoding it whole would take over a quarter of the memory of `device`. With
    data.holdout > 0 a folder's files are split by `seed` (holdout_split): part "train" gives the
    kept ones, part "holdout" the held-out ones (the evaluation reference)."""
    if cfg.name in TOY_SETS:
        dist = TOY_SETS[cfg.name]()
        gen = torch.Generator().manual_seed(10_000 + seed)
        return Dataset(cfg.name, dist.sample(cfg.size or DEFAULT_SIZE[cfg.name], gen), distribution=dist)
    if cfg.name == STACKED_MNIST:  # three MNIST digits of the same split, one per channel
        from dataclasses import replace

        from .stacked import DEFAULT_SIZE as STACKED_SIZE
        from .stacked import stack_digits

        digits = load_dataset(replace(cfg, name="mnist"), data_root, seed, download, device, part)
        images, modes = stack_digits(digits.data, digits.labels, cfg.size or STACKED_SIZE, seed)
        return Dataset(cfg.name, images, modes)
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
        images, labels = load_cached(
            cfg.name, cfg.split, cfg.resolution, [folder / f for f in FILES[cfg.split]], decode
        )
        return Dataset(cfg.name, images, labels, classes=CLASS_NAMES[cfg.name])
    if cfg.name == "folder":
        from .folder import decoded_bytes, list_folder, load_folder_kept
        from .stream import FolderFiles

        paths = list_folder(cfg.root, cfg.resolution)
        labels, classes = folder_labels(cfg.root, paths)  # class subfolders (ImageFolder), if any
        if cfg.holdout:
            kept, held = holdout_split(len(paths), cfg.holdout, seed)
            part_idx = held if part == "holdout" else kept
            paths = [paths[i] for i in part_idx]
            labels = None if labels is None else labels[torch.as_tensor(part_idx, dtype=torch.int64)]
        size, budget = decoded_bytes(len(paths), cfg.resolution), memory_budget(device)
        if cfg.stream == "on" or (cfg.stream == "auto" and size > budget):
            if cfg.stream == "auto":
                log.info(
                    "streaming %d images from %s: decoded they would take %.1f GiB, over the %.1f GiB "
                    "budget (data.stream = off decodes them into memory anyway)",
                    len(paths),
                    cfg.root,
                    size / 2**30,
                    budget / 2**30,
                )
            return FolderFiles(paths, cfg.resolution, labels, classes)
        images, readable = load_folder_kept(cfg.root, cfg.resolution, paths=paths)
        return Dataset(cfg.name, images, None if labels is None else labels[readable], classes=classes)
    raise GankitError(f"unknown data set '{cfg.name}'")


def memory_budget(device=None) -> int:
    """A quarter of the memory of the training device (GPU memory, or this machine's RAM)."""
    device = torch.device(device or "cpu")
    if device.type == "cuda" and torch.cuda.is_available():
        total = torch.cuda.get_device_properties(device).total_memory
    else:
        try:
            total = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        except (ValueError, OSError, AttributeError):  # not a POSIX system: assume 16 GiB
            total = 16 * 2**30
    return total // 4


def make_loader(dataset, cfg, seed: int, device, rank: int = 0, world: int = 1):
    """The loader for a data set: in memory on the device, or streamed by DataLoader workers."""
    from .stream import FolderFiles, StreamLoader

    # a conditional model's batches are (images, labels); an unconditional one's stay plain tensors
    labels = dataset.labels if cfg.model.conditional == "true" else None
    if isinstance(dataset, FolderFiles):
        return StreamLoader(
            dataset, cfg.train.batch_size, seed, device, cfg.data.flip, rank, world, cfg.data.workers, labels
        )
    return DeviceLoader(dataset, cfg.train.batch_size, seed, device, cfg.data.flip, rank, world, labels)


__all__ = [
    "Dataset",
    "DeviceLoader",
    "holdout_split",
    "load_dataset",
    "make_loader",
    "memory_budget",
    "sample_shape",
    "to_unit_range",
    "to_uint8",
    "resize_images",
]
