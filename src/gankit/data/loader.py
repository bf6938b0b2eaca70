"""Batches straight from a tensor on the training device: no worker processes, no per-sample
Python. Each epoch's order is a permutation drawn from (seed, epoch), so a run resumed in the
middle of an epoch sees exactly the batches it would have seen.

With `world` > 1 processes, `batch_size` is the global batch: every rank draws the same permutation
and yields its own slice (rank `rank`) of each global batch, so the ranks together see exactly the
batches one process would."""

from __future__ import annotations

import torch

from ..errors import GankitError
from .convert import to_unit_range


class DeviceLoader:
    def __init__(self, dataset, batch_size: int, seed: int, device, flip: bool = False, rank: int = 0,
                 world: int = 1):
        if batch_size > len(dataset):
            raise GankitError(f"train.batch_size = {batch_size} is larger than the data set ({len(dataset)} samples)")
        self.device = torch.device(device)
        self.data = dataset.data.to(self.device)
        self.is_image = dataset.is_image
        self.batch_size = batch_size
        self.seed = seed
        self.flip = flip and self.is_image
        if batch_size % world:
            raise GankitError(f"train.batch_size = {batch_size} (the global batch) must be a multiple of the "
                              f"number of processes ({world})")
        self.rank, self.world = rank, world
        self.local_batch = batch_size // world

    def __len__(self) -> int:
        """Batches per epoch (the last partial batch is dropped, as batch norm prefers)."""
        return len(self.data) // self.batch_size

    def order(self, epoch: int) -> torch.Tensor:
        gen = torch.Generator().manual_seed(self.seed * 1_000_003 + epoch)
        return torch.randperm(len(self.data), generator=gen).to(self.device)

    def epoch(self, epoch: int, start: int = 0):
        """Yield the batches of `epoch` from batch index `start` on, as float tensors ([-1, 1] for images)."""
        perm = self.order(epoch)
        for i in range(start, len(self)):
            lo = i * self.batch_size + self.rank * self.local_batch
            batch = self.data[perm[lo:lo + self.local_batch]]
            if self.is_image:
                batch = to_unit_range(batch)
                if self.flip:
                    # drawn for the whole global batch on every rank: the RNG streams stay equal
                    mask = torch.rand(self.batch_size, 1, 1, 1, device=self.device) < 0.5
                    mask = mask[self.rank * self.local_batch:(self.rank + 1) * self.local_batch]
                    batch = torch.where(mask, batch.flip(-1), batch)
            yield batch
