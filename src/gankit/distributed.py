"""Training on several processes with PyTorch's own engine: `torchrun` starts one process per
GPU (or per CPU slot), each process calls `init_from_env()`, and the trainer wraps G and D in
DistributedDataParallel.

    torchrun --nproc_per_node 4 -m gankit train dcgan-rgb --data-root DATA
    gankit train dcgan-rgb --gpus 4          # the same, launched for you

Conventions (the trainer relies on them):
- train.batch_size is the GLOBAL batch; each of the `world` ranks trains on batch_size / world
  samples, its own slice of the same global batch a single process would see. So a run means the
  same thing (steps, epochs, learning rates) whatever the number of processes, and a checkpoint
  resumes exactly on another world size.
- Every rank draws the noise (and flip masks) of the whole global batch from the same seeded RNG
  and keeps its slice: the RNG streams stay identical on all ranks, and equal a single process's.
- Rank 0 alone writes the run directory; the others train with run=None.
"""

from __future__ import annotations

import datetime
import os
from contextlib import contextmanager
from dataclasses import dataclass

import torch
import torch.distributed as dist

from .errors import GankitError


@dataclass(frozen=True)
class Dist:
    rank: int = 0
    world: int = 1
    local_rank: int = 0

    @property
    def enabled(self) -> bool:
        return self.world > 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0


_current = Dist()
_lost = False  # a collective failed: the process group is broken


def current() -> Dist:
    """This process's place in the run (rank 0 of 1 when not distributed)."""
    return _current


def is_main() -> bool:
    return _current.is_main


def launched_by_torchrun() -> bool:
    return int(os.environ.get("WORLD_SIZE", "1")) > 1


def init_from_env(device: str = "auto", timeout_s: float = 1800.0) -> Dist:
    """Join the process group described by torchrun's RANK / WORLD_SIZE / LOCAL_RANK (and
    MASTER_ADDR / MASTER_PORT). NCCL on CUDA, gloo on the CPU. A collective that waits longer than
    `timeout_s` (a rank died or hangs) fails instead of hanging forever."""
    global _current
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        _current = Dist()
        return _current
    if dist.is_initialized():
        return _current
    try:
        rank, local_rank = int(os.environ["RANK"]), int(os.environ.get("LOCAL_RANK", "0"))
    except (KeyError, ValueError):
        raise GankitError(
            "WORLD_SIZE is set but RANK is not: start distributed runs with torchrun (or gankit train --gpus N)"
        ) from None
    cuda = device.startswith("cuda") or (device == "auto" and torch.cuda.is_available())
    if cuda:
        if not torch.cuda.is_available():
            raise GankitError(f"device = {device!r} but no CUDA GPU is visible on rank {rank}")
        if local_rank >= torch.cuda.device_count():
            raise GankitError(
                f"rank {rank} has local rank {local_rank} but only {torch.cuda.device_count()} GPUs "
                "are visible; start at most one process per GPU (--nproc_per_node)"
            )
        torch.cuda.set_device(local_rank)
    backend = "nccl" if cuda else "gloo"
    try:
        dist.init_process_group(backend, timeout=datetime.timedelta(seconds=timeout_s))
    except (RuntimeError, ValueError) as e:
        raise GankitError(
            f"rank {rank} could not join the other {world - 1} processes ({_first_line(e)}); "
            "check MASTER_ADDR/MASTER_PORT (torchrun --rdzv_endpoint) and the network"
        ) from None
    _current = Dist(rank, world, local_rank)
    return _current


def lost_peers() -> bool:
    """True once a collective has failed (a rank died): the process group can no longer be used,
    and even its clean-up may abort, so the process should leave with os._exit."""
    return _lost


def shutdown() -> None:
    global _current
    if dist.is_initialized() and not _lost:
        dist.destroy_process_group()
    _current = Dist()


def barrier() -> None:
    if _current.enabled:
        dist.barrier()


def all_reduce(t: torch.Tensor, op: str = "mean") -> torch.Tensor:
    """`t` reduced over all ranks, in place: mean | sum | min | max."""
    if not _current.enabled:
        return t
    ops = {"mean": dist.ReduceOp.SUM, "sum": dist.ReduceOp.SUM, "min": dist.ReduceOp.MIN, "max": dist.ReduceOp.MAX}
    dist.all_reduce(t, op=ops[op])
    if op == "mean":
        t /= _current.world
    return t


def all_gather(t: torch.Tensor) -> torch.Tensor:
    """The tensors of every rank concatenated along dim 0 (same shape on every rank)."""
    if not _current.enabled:
        return t
    parts = [torch.empty_like(t) for _ in range(_current.world)]
    dist.all_gather(parts, t.contiguous())
    return torch.cat(parts)


def any_rank(flag: bool, device) -> bool:
    """True on every rank when `flag` is true on any (e.g. a Ctrl-C seen by one process only)."""
    if not _current.enabled:
        return flag
    t = torch.tensor([1.0 if flag else 0.0], device=device)
    dist.all_reduce(t, op=dist.ReduceOp.MAX)
    return bool(t.item())


def agree_to_stop(flag: bool, step: int, device) -> bool:
    """Called by every rank after each step: True on all ranks when any saw a Ctrl-C, so all stop
    at the same step. (Here, not in the loop, sits the test hook that makes a rank vanish.)"""
    maybe_die_for_test(step)
    return any_rank(flag, device)


def wrap(module: torch.nn.Module, device: torch.device) -> torch.nn.Module:
    """`module` in DistributedDataParallel (itself when not distributed). The wrapper is used only
    for the training forwards; the trainer keeps the plain module for everything else."""
    if not _current.enabled:
        return module
    from torch.nn.parallel import DistributedDataParallel as DDP

    ids = [device.index if device.index is not None else _current.local_rank] if device.type == "cuda" else None
    return DDP(module, device_ids=ids)  # buffers (batch-norm statistics) follow rank 0 at each forward


def shard(n_global: int) -> slice:
    """This rank's slice of a global batch of `n_global` samples."""
    n = n_global // _current.world
    return slice(_current.rank * n, (_current.rank + 1) * n)


def maybe_die_for_test(step: int) -> None:
    """Tests only: GANKIT_TEST_DIE_AT=RANK:STEP makes that rank vanish (no clean-up) after STEP."""
    spec = os.environ.get("GANKIT_TEST_DIE_AT")
    if spec:
        rank, at = (int(x) for x in spec.split(":"))
        if rank == _current.rank and step == at:
            os._exit(17)


def _first_line(e: BaseException) -> str:
    text = str(e).strip()
    return (text.splitlines()[0] if text else type(e).__name__)[:300]


@contextmanager
def lost_peers_are_errors(resume_hint: str = "RUN"):
    """Turn a failed collective (a rank died, the network dropped, the timeout passed) into a
    clear GankitError on the surviving ranks instead of a backend traceback."""
    if not _current.enabled:
        yield
        return
    try:
        yield
    except GankitError:
        raise
    except (dist.DistError, RuntimeError) as e:
        global _lost
        words = ("gloo", "nccl", "connection", "timed out", "timeout", "peer", "socket", "barrier", "closed")
        if not isinstance(e, dist.DistError) and not any(w in str(e).lower() for w in words):
            raise
        _lost = True
        raise GankitError(
            f"rank {_current.rank} of {_current.world}: lost contact with the other processes "
            f"({_first_line(e)}). Another rank probably died or hangs: see its output. "
            f"Checkpoints already written are intact; continue with: gankit train --resume "
            f"{resume_hint}"
        ) from None
