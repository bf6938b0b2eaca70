"""Kernel distance (KID): the unbiased estimate of the squared MMD between two feature sets with the
cubic polynomial kernel k(x, y) = (x.y / d + 1)^3, averaged over random subsets, with its std."""

from __future__ import annotations

import numpy as np

from ..errors import GankitError
from ._arrays import as_features, same_width


def polynomial_kernel(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    return (x @ y.T / x.shape[1] + 1.0) ** 3


def mmd2_unbiased(x: np.ndarray, y: np.ndarray) -> float:
    """Unbiased MMD^2: the diagonal (self-similarity) terms are left out of the within-set means."""
    m, n = len(x), len(y)
    kxx, kyy, kxy = polynomial_kernel(x, x), polynomial_kernel(y, y), polynomial_kernel(x, y)
    sum_xx = (kxx.sum() - np.trace(kxx)) / (m * (m - 1))
    sum_yy = (kyy.sum() - np.trace(kyy)) / (n * (n - 1))
    return float(sum_xx + sum_yy - 2 * kxy.mean())


def kid(real, fake, subsets: int = 100, subset_size: int = 1000, seed: int = 0) -> dict:
    """{'kid': mean over subsets, 'kid_std': their std}. Subsets are drawn without replacement within
    a subset (from a fixed seed); subset_size shrinks to the smaller set when that is smaller."""
    r, f = as_features(real, "real features"), as_features(fake, "generated features")
    same_width(r, f)
    size = min(subset_size, len(r), len(f))
    if size < 2:
        raise GankitError("KID needs at least 2 samples in each set")
    rng = np.random.default_rng(seed)
    values = [
        mmd2_unbiased(r[rng.choice(len(r), size, replace=False)], f[rng.choice(len(f), size, replace=False)])
        for _ in range(subsets)
    ]
    return {"kid": float(np.mean(values)), "kid_std": float(np.std(values))}
