"""Throughput of many seeds trained at once (gankit.sweep.batched) against the same seeds trained
one after another by the normal loop (gankit.api.make_trainer, as `gankit train` builds it), measured in the same run.

    PYTHONPATH=src python benchmarks/bench_batched_seeds.py                 # 8 seeds of ring-2d, 1000 steps
    PYTHONPATH=src python benchmarks/bench_batched_seeds.py --seeds 8 --steps 5000 --threads 2

Both sides train the preset as configured (its log-time statistics every train.log_every steps
included), without a run directory and without evaluations (eval.every=0), on the same number of
torch threads. The figure is seed-steps per second; the ratio is batched / one after another.
"""

from __future__ import annotations

import argparse
import time

import torch

from gankit.api import make_trainer
from gankit.config import load_preset
from gankit.sweep.batched import BatchedSeeds


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--preset", default="ring-2d")
    p.add_argument("--seeds", type=int, default=8)
    p.add_argument("--steps", type=int, default=1000)
    p.add_argument("--threads", type=int, default=torch.get_num_threads(),
                   help=f"torch CPU threads for both sides (default: torch's, here {torch.get_num_threads()})")
    p.add_argument("--set", dest="overrides", action="append", default=[])
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    cfg = load_preset(args.preset, [f"train.steps={args.steps}", "eval.every=0", "log.tensorboard=off",
                                    "log.progress=off", *args.overrides])
    seeds = list(range(args.seeds))

    start = time.perf_counter()
    for seed in seeds:
        make_trainer(cfg.replace(seed=seed), progress=False).fit()
    sequential = time.perf_counter() - start

    start = time.perf_counter()
    BatchedSeeds(cfg, seeds).fit()
    batched = time.perf_counter() - start

    work = args.seeds * args.steps
    print(f"{args.preset}, {args.seeds} seeds x {args.steps} steps, {args.threads} torch threads "
          f"({torch.__version__}):")
    print(f"  one after another (Trainer): {sequential:7.1f} s  {work / sequential:8.0f} seed-steps/s")
    print(f"  at once (BatchedSeeds):      {batched:7.1f} s  {work / batched:8.0f} seed-steps/s")
    print(f"  ratio: {sequential / batched:.2f}x")


if __name__ == "__main__":
    main()
