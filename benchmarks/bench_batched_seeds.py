"""Throughput of many seeds trained at once (gankit.sweep.batched) against the same seeds trained
one after another by the normal loop (gankit.api.make_trainer, as `gankit train` builds it), measured in the same run.

    PYTHONPATH=src python benchmarks/bench_batched_seeds.py                 # 8 seeds of ring-2d, 1000 steps
    PYTHONPATH=src python benchmarks/bench_batched_seeds.py --seeds 8 --steps 5000 --threads 2   # the whole preset, 2 threads

Both sides train the preset as configured (its log-time statistics every train.log_every steps
included), without a run directory and without evaluations (eval.every=0), on the same number of
torch threads. The figure is seed-steps per second; the ratio is batched / one after another.
Then both sides' final mode statistics per seed (2,500 samples from the noise of seed + 2, as the
evaluation at the end of a run) and the largest difference of a G weight: over many steps the two
agree in distribution, not bitwise (see gankit/sweep/batched.py).
"""

from __future__ import annotations

import argparse
import time

import torch

from gankit.api import make_trainer
from gankit.config import load_preset
from gankit.metrics.toy import mode_stats
from gankit.sweep.batched import BatchedSeeds


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--preset", default="ring-2d")
    p.add_argument("--seeds", type=int, default=8)
    p.add_argument("--steps", type=int, default=1000)
    p.add_argument(
        "--threads",
        type=int,
        default=1,
        help="torch CPU threads for both sides (default 1: the fastest for tiny networks on a shared CPU)",
    )
    p.add_argument("--set", dest="overrides", action="append", default=[])
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    cfg = load_preset(
        args.preset,
        [f"train.steps={args.steps}", "eval.every=0", "log.tensorboard=off", "log.progress=off", *args.overrides],
    )
    seeds = list(range(args.seeds))

    start = time.perf_counter()
    trainers = []
    for seed in seeds:
        trainers.append(make_trainer(cfg.replace(seed=seed), progress=False))
        trainers[-1].fit()
    sequential = time.perf_counter() - start

    start = time.perf_counter()
    group = BatchedSeeds(cfg, seeds)
    group.fit()
    batched = time.perf_counter() - start

    work = args.seeds * args.steps
    print(
        f"{args.preset}, {args.seeds} seeds x {args.steps} steps, {args.threads} torch threads ({torch.__version__}):"
    )
    print(f"  one after another (Trainer): {sequential:7.1f} s  {work / sequential:8.0f} seed-steps/s")
    print(f"  at once (BatchedSeeds):      {batched:7.1f} s  {work / batched:8.0f} seed-steps/s")
    print(f"  ratio: {sequential / batched:.2f}x")
    if trainers[0].dataset.distribution is None or len(trainers[0].dataset.distribution.means) < 2:
        return
    n = 2500
    z = torch.stack([trainers[i].noise(n, torch.Generator().manual_seed(s + 2)) for i, s in enumerate(seeds)])
    apart = group.generate(z)
    rows = {"one after another": [], "at once": []}
    worst = 0.0
    for i, trainer in enumerate(trainers):
        dist = trainer.dataset.distribution
        rows["one after another"].append(mode_stats(trainer.generate(z[i]), dist))
        rows["at once"].append(mode_stats(apart[i], dist))
        state = group.state_dict(i)["g"]
        worst = max(worst, max(float((v - state[k]).abs().max()) for k, v in trainer.G.state_dict().items()))
    for side, stats in rows.items():
        cells = []
        for key in ("modes", "hq", "mode_kl"):
            v = torch.tensor([float(r[key]) for r in stats])
            cells.append(f"{key} {v.mean():.3f} ± {v.std():.3f} (per seed {', '.join(f'{x:.3g}' for x in v.tolist())})")
        print(f"  {side}: " + "; ".join(cells))
    print(f"  largest |G weight difference| after {args.steps} steps: {worst:.3g}")


if __name__ == "__main__":
    main()
