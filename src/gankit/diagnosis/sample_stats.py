"""Diversity of generated samples, measured cheaply at log time for the diagnosis.

    stats = SampleStats(dataset, seed=0)
    stats(trainer.generate(noise))   # {"diversity": 0.93, "modes_covered": 8, ...}

`diversity` is the mean pairwise L2 distance of a small generated batch divided by the same for
a fixed real batch: about 1 when G spreads like the data, near 0 when it repeats one output
(mode collapse). The signal that sees a *partial* collapse depends on the data:
- toy mixtures: the true modes are known, so modes are counted (and which ones are missing) by
  the one definition the metrics use (gankit.metrics.toy.mode_histogram);
- MNIST and Fashion-MNIST: the shipped classifier labels the samples (gankit.metrics.classifier),
  giving the classes covered, which are missing and the KL divergence of the class histogram from
  the uniform one (gankit.metrics.classes.class_coverage), as a user looking at the grid would;
- other images (RGB folders, any folder without a shipped classifier): the MS-SSIM of pairs of
  generated images against the same for pairs of real images (`msssim`, `msssim_real`; Odena et
  al. 2017, AC-GAN section 4.2, by gankit.metrics.msssim): a G that repeats a few templates makes
  pairs far more alike than real pairs are, even while their pixel spread (`diversity`) looks normal.
"""

from __future__ import annotations

import torch

from ..data.convert import to_unit_range

DIVERSITY_SAMPLES = 256  # 32,640 pairs: the ratio is stable to a few per cent, and costs one small G forward
# Toy mixtures: modes are counted on as many samples as the training evaluations use (eval.n's
# default), because "covered" means at least one high-quality sample, which depends on how many
# are drawn: so the diagnosis's missing modes are the ones metrics.jsonl's `modes` misses.
# 2,000 points through a small MLP cost about a millisecond.
TOY_MODE_SAMPLES = 2000
# MS-SSIM pairs per log: 128 fixed pairs of the 256 diagnostic samples. The mean's standard error
# is about 0.01 (pair MS-SSIMs spread by ~0.1 on Fashion-MNIST), a tenth of the margin the rule
# reads; 0.1 s at 32x32 and 0.4 s at 64x64 on one CPU thread, computed where the samples are (a
# GPU run's on the GPU). The real level is read once, on the CPU, on four times as many pairs of
# the 256 fixed real images (a second or two at 128x128).
MSSSIM_PAIRS = 128
MSSSIM_REAL_PAIRS = 512
MSSSIM_MIN_SIDE = 16  # gankit.metrics.msssim's smallest image
# with 256 samples a G that matches the data misses one of 10 equally likely classes with
# probability 10 * 0.9**256 < 1e-10 (one of 8 modes: 8 * 0.875**256 < 1e-13): a missing class is G's doing


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
    fraction of such high-quality samples), and `modes_missing`, the indices of the others.
    `on_modes`, for the g_overpowering rule, is another quantity: the fraction of samples nearer a
    mode than half the smallest distance between two."""
    from types import SimpleNamespace

    from ..metrics.toy import mode_histogram

    x = samples.detach().float().cpu().flatten(1)
    means = means.float()
    k = means.shape[0]
    counts, _ = mode_histogram(
        x.double().numpy(), SimpleNamespace(means=means.double().numpy(), std=std, dim=x.shape[1])
    )
    nearest = torch.cdist(x, means).min(dim=1).values
    sep = torch.cdist(means, means).masked_fill(torch.eye(k, dtype=torch.bool), float("inf"))
    near = nearest <= float(sep.min()) / 2
    return {
        "modes_covered": int((counts > 0).sum()),
        "modes_total": k,
        "modes_missing": [i for i in range(k) if counts[i] == 0],
        "mode_samples": len(x),
        "on_modes": float(near.float().mean()),
        "mode_quality": float((nearest <= 3 * std).float().mean()),
    }  # = the metric's hq, in float32


class ClassHistogram:
    """The shipped MNIST / Fashion-MNIST classifier's verdict on generated images: classes covered,
    missing, and the KL divergence (nats) of the class histogram from the uniform one. The network
    is built on first use, with the random streams forked: building it draws its initial weights,
    and what is measured must not change what is trained."""

    def __init__(self, name: str):
        self.name = name
        self._net = None

    @property
    def net(self):
        if self._net is None:
            from ..metrics.classifier import load_classifier

            with torch.random.fork_rng(devices=[]):
                self._net = load_classifier(self.name)
        return self._net

    @torch.no_grad()
    def __call__(self, images: torch.Tensor) -> dict:
        from ..metrics.classes import class_coverage
        from ..metrics.classifier import to_classifier_input

        logits = self.net(to_classifier_input(images.detach().float().cpu()))
        cov = class_coverage(logits.numpy())
        k = logits.shape[1]
        seen = set(logits.argmax(1).tolist())
        return {
            "classes_covered": cov["classes"],
            "classes_total": k,
            "class_kl": cov["class_kl"],
            "classes_missing": [c for c in range(k) if c not in seen],
        }


class PairSimilarity:
    """MS-SSIM of fixed pairs of generated images (`msssim`), next to the real images' level
    (`msssim_real`, measured once). Pairs are drawn from a generator of their own."""

    def __init__(self, real: torch.Tensor, seed: int, n: int):
        from ..metrics.msssim import random_pairs

        gen = torch.Generator().manual_seed(50_000 + seed)
        self.pairs = random_pairs(n, MSSSIM_PAIRS, gen)
        i, j = random_pairs(len(real), MSSSIM_REAL_PAIRS, gen)
        self.real = self._mean(real, i, j)

    @staticmethod
    def _mean(x: torch.Tensor, i: torch.Tensor, j: torch.Tensor) -> float:
        from ..data.convert import to_uint8
        from ..metrics.msssim import pair_msssim

        x = to_uint8(x.clamp(-1, 1))
        return float(pair_msssim(x[i], x[j]).mean())

    def __call__(self, samples: torch.Tensor) -> dict:
        if not torch.isfinite(samples).all():  # a diverged G: the divergence rule speaks, not this one
            return {}
        i, j = (p.to(samples.device) for p in self.pairs)
        keep = (i < len(samples)) & (j < len(samples))
        return {"msssim": self._mean(samples, i[keep], j[keep]), "msssim_real": self.real}


class SampleStats:
    """Callable that turns a batch of generated samples into the diversity statistics."""

    def __init__(self, dataset, seed: int = 0, n: int = DIVERSITY_SAMPLES):
        from ..metrics.classifier import CLASSIFIER_SETS

        dist = dataset.distribution
        mixture = dist is not None and len(dist.means) > 1
        self.n = max(n, TOY_MODE_SAMPLES) if mixture else n  # the loop draws this many diagnostic samples
        self.diversity_n = n
        gen = torch.Generator().manual_seed(20_000 + seed)
        idx = torch.randperm(len(dataset), generator=gen)[:n]
        real = dataset.take(idx)
        self.is_image = dataset.is_image
        real = to_unit_range(real) if self.is_image else real.float()
        self.real_distance = max(mean_pairwise_distance(real), 1e-12)
        self.means = torch.tensor(dist.means) if mixture else None
        self.std = dist.std if dist is not None else 0.0
        name = getattr(dataset, "name", "")
        grey = self.is_image and real.shape[1] == 1
        self.classes = ClassHistogram(name) if grey and name in CLASSIFIER_SETS else None
        side = min(real.shape[-2:]) if self.is_image else 0
        similar = self.is_image and self.classes is None and side >= MSSSIM_MIN_SIDE and len(real) >= 2
        self.similarity = PairSimilarity(real, seed, n) if similar else None

    def __call__(self, samples: torch.Tensor) -> dict:
        on_device = samples.detach().float()
        samples = on_device.cpu()
        out = {"diversity": mean_pairwise_distance(samples[: self.diversity_n]) / self.real_distance}
        if self.means is not None:
            out.update(mode_counts(samples, self.means, self.std))
        if self.classes is not None:
            out.update(self.classes(samples[: self.diversity_n]))
        if self.similarity is not None:
            out.update(self.similarity(on_device[: self.diversity_n]))
        return out
