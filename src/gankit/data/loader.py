"""Batches straight from a tensor on the training device: no worker processes, no per-sample
Python. Given labels (a conditional model), each batch is a pair (images, labels). Each epoch's order is a permutation drawn from (seed, epoch), so a run resumed in the
middle of an epoch sees exactly the batches it would have seen.

With `world` > 1 processes, `batch_size` is the global batch: every rank draws the same permutation
and yields its own slice (rank `rank`) of each global batch, so the ranks together see exactly the
batches one process would."""

from __future__ import annotations

import torch

from ..errors import GankitError
from .convert import to_unit_range


class BatchPlan:
    """Which samples make up each batch: the epoch's permutation, cut into global batches, of which
    this rank takes its slice. Shared by the in-memory and the streaming loaders, so both see the
    same batches."""

    def __init__(
        self, n: int, batch_size: int, seed: int, device, flip: bool, is_image: bool, rank: int = 0, world: int = 1
    ):
        if batch_size > n:
            raise GankitError(f"train.batch_size = {batch_size} is larger than the data set ({n} samples)")
        if batch_size % world:
            raise GankitError(
                f"train.batch_size = {batch_size} (the global batch) must be a multiple of the "
                f"number of processes ({world})"
            )
        self.n, self.batch_size, self.seed = n, batch_size, seed
        self.device = torch.device(device)
        self.is_image = is_image
        self.flip = flip and is_image
        self.rank, self.world = rank, world
        self.local_batch = batch_size // world

    def __len__(self) -> int:
        """Batches per epoch (the last partial batch is dropped, as batch norm prefers)."""
        return self.n // self.batch_size

    def local_slice(self, i: int) -> slice:
        """This rank's part of global batch i of an epoch's permutation."""
        lo = i * self.batch_size + self.rank * self.local_batch
        return slice(lo, lo + self.local_batch)


class DeviceLoader(BatchPlan):
    """The whole data set on the training device, batches gathered there by index."""

    def __init__(
        self,
        dataset,
        batch_size: int,
        seed: int,
        device,
        flip: bool = False,
        rank: int = 0,
        world: int = 1,
        labels: torch.Tensor | None = None,
    ):
        super().__init__(len(dataset), batch_size, seed, device, flip, dataset.is_image, rank, world)
        self.data = dataset.data.to(self.device)
        self.labels = None if labels is None else labels.to(self.device)  # given: batches are (x, y)

    def order(self, epoch: int) -> torch.Tensor:
        return epoch_order(self.seed, epoch, self.n).to(self.device)

    def epoch(self, epoch: int, start: int = 0):
        """Yield the batches of `epoch` from batch index `start` on, as float tensors ([-1, 1] for images)."""
        perm = self.order(epoch)
        for i in range(start, len(self)):
            idx = perm[self.local_slice(i)]
            batch = self.data[idx]
            batch = finish_batch(batch, self) if self.is_image else batch
            # labels: the same indices, so the same permutation, rank slice and resume position
            yield batch if self.labels is None else (batch, self.labels[idx])


def epoch_order(seed: int, epoch: int, n: int) -> torch.Tensor:
    """The permutation of epoch `epoch`: a function of (seed, epoch) alone, so resumes are exact."""
    return torch.randperm(n, generator=torch.Generator().manual_seed(seed * 1_000_003 + epoch))


def finish_batch(batch: torch.Tensor, loader) -> torch.Tensor:
    """uint8 images on the device -> floats in [-1, 1], randomly flipped when the loader flips."""
    batch = to_unit_range(batch)
    if loader.flip:
        # drawn for the whole global batch on every rank: the RNG streams stay equal
        mask = torch.rand(loader.batch_size, 1, 1, 1, device=loader.device) < 0.5
        mask = mask[loader.rank * loader.local_batch : (loader.rank + 1) * loader.local_batch]
        batch = torch.where(mask, batch.flip(-1), batch)
    return batch
