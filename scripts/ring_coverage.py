"""Mode coverage of a 2D toy preset over several seeds: how many of the mixture's modes G covers.

    python scripts/ring_coverage.py ring-2d ring-2d-stable --seeds 0 1 2 [--set train.epochs=5]

A mode counts as covered when at least `--min-frac` (1 %) of 2000 samples lie within 3 std of its
centre; "quality" is the fraction of all samples within 3 std of some mode. The looser count of
gankit.metrics.toy.mode_stats (one sample suffices) and its mode KL are printed alongside.
"""

from __future__ import annotations

import argparse
import time

import torch

from gankit.api import make_trainer
from gankit.config import load_preset
from gankit.metrics.toy import mode_stats


def mode_coverage(samples: torch.Tensor, mixture, min_frac: float = 0.01) -> tuple[int, float, list[int]]:
    """(modes covered, fraction of samples within 3 std of a mode, samples per mode)."""
    means = torch.tensor(mixture.means, dtype=samples.dtype)
    dist = torch.cdist(samples, means)  # (N, modes)
    nearest = dist.argmin(1)
    close = dist.min(1).values <= 3 * mixture.std
    counts = [int(((nearest == k) & close).sum()) for k in range(len(means))]
    covered = sum(c >= min_frac * len(samples) for c in counts)
    return covered, float(close.float().mean()), counts


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("presets", nargs="+")
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--set", dest="overrides", action="append", default=[])
    p.add_argument("--n", type=int, default=2000)
    p.add_argument("--min-frac", type=float, default=0.01)
    p.add_argument("--threads", type=int, default=1, help="torch CPU threads (tiny nets: 1 is fastest)")
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    for preset in args.presets:
        for seed in args.seeds:
            cfg = load_preset(preset, [f"seed={seed}", *args.overrides])
            trainer = make_trainer(cfg, run=None, progress=False)
            start = time.perf_counter()
            trainer.fit()
            z = trainer.noise(args.n, torch.Generator().manual_seed(1234))
            samples = trainer.generate(z).cpu()
            covered, quality, counts = mode_coverage(samples, trainer.dataset.distribution, args.min_frac)
            loose = mode_stats(samples, trainer.dataset.distribution)
            print(
                f"{preset} seed {seed}: {covered}/{len(counts)} modes, {quality:.1%} within 3 std, "
                f"per mode {counts}, mode_stats modes {loose['modes']} mode_kl {loose['mode_kl']:.3f}, "
                f"{trainer.pos.step} steps in {time.perf_counter() - start:.0f} s",
                flush=True,
            )


if __name__ == "__main__":
    main()
