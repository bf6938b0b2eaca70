"""Diversity of generated samples, measured cheaply at log time for the diagnosis.

    stats = SampleStats(dataset, seed=0)
    stats(trainer.generate(noise))   # {"diversity": 0.93, "modes_covered": 8, ...}

`diversity` is the mean pairwise L2 distance of a small generated batch divided by the same for
a fixed real batch: about 1 when G spreads like the data, near 0 when it repeats one output
(mode collapse). For toy mixtures the true modes are known, so modes are also counted.
"""

from __future__ import annotations

import torch

from ..data.convert import to_unit_range

DIVERSITY_SAMPLES = 256  # 32,640 pairs: the ratio is stable to a few per cent, and costs one small G forward


def mean_pairwise_distance(x: torch.Tensor) -> float:
    """Mean L2 distance over all pairs i < j of the rows of x (flattened)."""
    x = x.detach().float().flatten(1)
    n = x.shape[0]
    if n < 2:
        return 0.0
    d = torch.cdist(x, x)
    return float(d.sum() / (n * (n - 1)))


def mode_counts(samples: torch.Tensor, means: torch.Tensor, std: float) -> dict:
    """Modes of a mixture that G covers, by the one definition the metrics use (gankit.metrics.toy:
    a mode is covered when at least one sample within 3 std is nearest to it; `mode_quality` is the
    fraction of such high-quality samples). `on_modes`, for the vanishing-gradient rule, is another
    quantity: the fraction of samples nearer a mode than half the smallest distance between two."""
    from types import SimpleNamespace

    from ..metrics.toy import mode_stats

    x = samples.detach().float().cpu().flatten(1)
    means = means.float()
    k = means.shape[0]
    stats = mode_stats(x.double().numpy(), SimpleNamespace(means=means.double().numpy(), std=std, dim=x.shape[1]))
    nearest = torch.cdist(x, means).min(dim=1).values
    sep = torch.cdist(means, means).masked_fill(torch.eye(k, dtype=torch.bool), float("inf"))
    near = nearest <= float(sep.min()) / 2
    return {"modes_covered": stats["modes"], "modes_total": k, "on_modes": float(near.float().mean()),
            "mode_quality": float((nearest <= 3 * std).float().mean())}  # = stats["hq"], in the record's float32


class SampleStats:
    """Callable that turns a batch of generated samples into the diversity statistics."""

    def __init__(self, dataset, seed: int = 0, n: int = DIVERSITY_SAMPLES):
        self.n = n
        gen = torch.Generator().manual_seed(20_000 + seed)
        idx = torch.randperm(len(dataset), generator=gen)[:n]
        real = dataset.take(idx)
        self.is_image = dataset.is_image
        real = to_unit_range(real) if self.is_image else real.float()
        self.real_distance = max(mean_pairwise_distance(real), 1e-12)
        dist = dataset.distribution
        self.means = torch.tensor(dist.means) if dist is not None and len(dist.means) > 1 else None
        self.std = dist.std if dist is not None else 0.0

    def __call__(self, samples: torch.Tensor) -> dict:
        samples = samples.detach().float().cpu()
        out = {"diversity": mean_pairwise_distance(samples[: self.n]) / self.real_distance}
        if self.means is not None:
            out.update(mode_counts(samples, self.means, self.std))
        return out
