"""Streaming path for image folders too large to decode into memory at once.

Files are decoded as they are needed by DataLoader worker processes (PIL, Resize + CenterCrop, as
the in-memory path does), collated to uint8, copied through pinned memory, and normalised and
flipped on the training device. The batches are the same ones the in-memory loader would give:
same (seed, epoch) permutation, same slices per rank, same flips. So a streamed run resumes
exactly, and equals an in-memory run of the same folder bit for bit.

    ds = FolderFiles(list_folder(root, 64), 64)
    loader = StreamLoader(ds, batch_size=64, seed=0, device="cuda", flip=True, workers=8)
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import DataLoader

from ..errors import GankitError
from .folder import load_image
from .loader import BatchPlan, epoch_order, finish_batch

log = logging.getLogger("gankit")
MAX_SUBSTITUTES = 100  # consecutive unreadable files tolerated before giving up


class FolderFiles(torch.utils.data.Dataset):
    """The image files of a folder, decoded one at a time. An unreadable file is replaced by the
    next readable one (a fixed choice, so runs stay reproducible) and reported once per process."""

    name = "folder"
    is_image = True
    distribution = None

    def __init__(
        self, paths: list[Path], resolution: int, labels: torch.Tensor | None = None, classes: list[str] | None = None
    ):
        self.paths, self.resolution = list(paths), resolution
        self.labels, self.classes = labels, classes  # by class subfolder (data/labels.py), or None
        self._reported: set[int] = set()

    @property
    def sample_shape(self) -> tuple:
        return (3, self.resolution, self.resolution)

    def __len__(self) -> int:
        return len(self.paths)

    def __getitem__(self, i: int) -> torch.Tensor:
        for k in range(MAX_SUBSTITUTES):
            j = (i + k) % len(self.paths)
            arr = load_image(self.paths[j], self.resolution)
            if arr is not None:
                return torch.from_numpy(np.ascontiguousarray(arr.transpose(2, 0, 1)))
            if j not in self._reported:
                self._reported.add(j)
                log.warning("skipping unreadable image %s (using the next file instead)", self.paths[j])
        raise GankitError(
            f"{MAX_SUBSTITUTES} image files in a row from {self.paths[i]} on could not be read; "
            "the folder may be corrupt or not hold images"
        )

    def take(self, idx: torch.Tensor) -> torch.Tensor:
        """uint8 images (len(idx), 3, R, R) for the given indices."""
        return torch.stack([self[int(i)] for i in idx])


class _EpochBatches(torch.utils.data.Sampler):
    """Index lists of one epoch from a start batch on, for this rank; set before each iteration
    (the sampler runs in the main process, so persistent workers see the change)."""

    def __init__(self, plan: BatchPlan):
        self.plan, self.epoch, self.start = plan, 0, 0

    def __iter__(self):
        perm = epoch_order(self.plan.seed, self.epoch, self.plan.n)
        for i in range(self.start, len(self.plan)):
            yield perm[self.plan.local_slice(i)].tolist()

    def __len__(self) -> int:
        return len(self.plan) - self.start


def default_workers() -> int:
    return min(8, os.cpu_count() or 1)


class StreamLoader(BatchPlan):
    """Same interface as DeviceLoader (len, local_batch, epoch(epoch, start)), fed by DataLoader workers."""

    def __init__(
        self,
        dataset: FolderFiles,
        batch_size: int,
        seed: int,
        device,
        flip: bool = False,
        rank: int = 0,
        world: int = 1,
        workers: int = -1,
        labels: torch.Tensor | None = None,
    ):
        super().__init__(len(dataset), batch_size, seed, device, flip, True, rank, world)
        self.dataset = dataset
        self.labels = labels  # given: batches are (images, labels), labels picked in this process
        self.workers = default_workers() if workers < 0 else workers
        self.sampler = _EpochBatches(self)
        self._loader = DataLoader(
            dataset,
            batch_sampler=self.sampler,
            num_workers=self.workers,
            pin_memory=self.device.type == "cuda",
            persistent_workers=self.workers > 0,
            prefetch_factor=4 if self.workers > 0 else None,
            # its own generator: starting an epoch must not draw from the global
            # RNG, whose stream (noise, flips) has to equal the in-memory path's
            generator=torch.Generator().manual_seed(seed),
        )

    def epoch(self, epoch: int, start: int = 0):
        self.sampler.epoch, self.sampler.start = epoch, start
        perm = epoch_order(self.seed, epoch, self.n) if self.labels is not None else None
        for i, batch in enumerate(self._loader, start):
            batch = finish_batch(batch.to(self.device, non_blocking=True), self)
            if perm is None:
                yield batch
            else:  # the sampler's indices of batch i (an unreadable file's substitute keeps its label)
                yield batch, self.labels[perm[self.local_slice(i)]].to(self.device)
