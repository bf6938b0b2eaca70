"""Metrics for the toy sets, against their true distribution (a gankit.data.toy.GaussianMixture).

1D (seed S1): sample mean and std, the Kolmogorov-Smirnov statistic against the target CDF, and
the Jensen-Shannon divergence (bits, in [0, 1]) between the sample histogram and the target's
probabilities on a fixed binning.

2D mixtures (ring, grid), as in the Unrolled-GAN / VEEGAN / PacGAN evaluations: each sample is
assigned to its nearest mode; it is *high quality* when it lies within 3 std of that mode. A mode
is covered when at least one high-quality sample is assigned to it. `mode_kl` is the KL divergence
of the histogram of high-quality samples over the modes from the uniform one (0 = modes equally
filled, log K nats = all in one mode; with no high-quality sample at all it is reported as log K).
These are VEEGAN's definitions (Srivastava et al. 2017: high quality = within 3 std of the nearest
mode, a mode is captured when it is nearest to at least one high-quality sample, 2,500 samples),
which PacGAN (Lin et al. 2018) reports as "modes", "high-quality samples" and "reverse KL":
`mode_kl` = KL(P_G || P_data) over the modes, the generator's histogram first. That is the reverse
direction; the forward KL(P_data || P_G) would be infinite as soon as one mode is missed.
"""

from __future__ import annotations

import math

import numpy as np

from ..errors import GankitError
from ._arrays import as_features

JSD_BINS = 100  # bins across mean +- 5 std of the target (plus one overflow bin on each side)


def mixture_cdf(dist, x: np.ndarray) -> np.ndarray:
    """CDF of a 1D equal-weight Gaussian mixture at points x."""
    import torch  # here, not at the top: the CLI's parser imports this module, and torch takes seconds

    means = np.array([m[0] for m in dist.means], dtype=np.float64)
    z = torch.from_numpy((x[:, None] - means[None]) / dist.std)
    return torch.special.ndtr(z).numpy().mean(axis=1)


def ks_statistic(samples: np.ndarray, dist) -> float:
    """sup_x |F_n(x) - F(x)|, checked on both sides of each step of the empirical CDF."""
    x = np.sort(samples)
    cdf = mixture_cdf(dist, x)
    n = len(x)
    return float(max((np.arange(1, n + 1) / n - cdf).max(), (cdf - np.arange(n) / n).max()))


def _check_dim(x: np.ndarray, dist, name: str) -> None:
    if x.shape[1] != dist.dim:
        raise GankitError(f"{name}: samples have {x.shape[1]} coordinates but the target distribution has {dist.dim}")


def jsd_1d(samples: np.ndarray, dist, bins: int = JSD_BINS) -> float:
    means = [m[0] for m in dist.means]
    edges = np.linspace(min(means) - 5 * dist.std, max(means) + 5 * dist.std, bins + 1)
    cdf = mixture_cdf(dist, edges)
    p = np.concatenate([[cdf[0]], np.diff(cdf), [1 - cdf[-1]]])  # with the two overflow bins
    idx = np.searchsorted(edges, samples, side="right")  # 0 = below, bins + 1 = above
    q = np.bincount(idx, minlength=bins + 2) / len(samples)
    m = (p + q) / 2

    def kl(a, b):
        nz = a > 0
        return float((a[nz] * np.log2(a[nz] / b[nz])).sum())

    return max(0.5 * kl(p, m) + 0.5 * kl(q, m), 0.0)


def moments_1d(samples, dist) -> dict:
    x = as_features(samples, "samples", min_rows=2)
    _check_dim(x, dist, "moments")
    return {"mean": float(x[:, 0].mean()), "std": float(x[:, 0].std(ddof=1))}


def ks_1d(samples, dist) -> dict:
    x = as_features(samples, "samples", min_rows=2)
    _check_dim(x, dist, "ks")
    return {"ks": ks_statistic(x[:, 0], dist)}


def jsd(samples, dist) -> dict:
    x = as_features(samples, "samples", min_rows=2)
    _check_dim(x, dist, "jsd")
    return {"jsd": jsd_1d(x[:, 0], dist)}


def mode_histogram(samples, dist, sigmas: float = 3.0) -> tuple[np.ndarray, float]:
    """(high-quality samples assigned to each mode, fraction of high-quality samples): mode i is
    covered when its count is above 0. The diagnosis reads which modes are missing from it."""
    x = as_features(samples, "samples", min_rows=1)
    _check_dim(x, dist, "modes")
    means = np.asarray(dist.means, dtype=np.float64)
    d = np.sqrt(((x[:, None, :] - means[None]) ** 2).sum(-1))  # (N, modes)
    nearest, dist_min = d.argmin(axis=1), d.min(axis=1)
    good = dist_min <= sigmas * dist.std
    return np.bincount(nearest[good], minlength=len(means)), float(good.mean())


def mode_stats(samples, dist, sigmas: float = 3.0) -> dict:
    """{'modes': modes covered, 'hq': fraction of high-quality samples, 'mode_kl': nats}."""
    counts, hq = mode_histogram(samples, dist, sigmas)
    k = len(counts)
    if counts.sum() == 0:
        mode_kl = math.log(k)
    else:
        p = counts / counts.sum()
        nz = p > 0
        mode_kl = float((p[nz] * np.log(p[nz] * k)).sum())
    return {"modes": int((counts > 0).sum()), "hq": hq, "mode_kl": mode_kl}
