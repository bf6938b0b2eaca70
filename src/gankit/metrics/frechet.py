"""Fréchet distance between Gaussian fits of two feature sets (FID when the features are Inception's):

    FD = |mu_1 - mu_2|^2 + tr(S_1 + S_2 - 2 (S_1 S_2)^(1/2))

tr((S_1 S_2)^(1/2)) is computed as the sum of the square roots of the eigenvalues of
S_1^(1/2) S_2 S_1^(1/2), a symmetric positive semi-definite matrix with the same eigenvalues as
S_1 S_2; this avoids the complex round-off of a general matrix square root.
"""

from __future__ import annotations

import numpy as np

from ._arrays import as_features, same_width


def gaussian_stats(features) -> tuple[np.ndarray, np.ndarray]:
    """(mean, covariance) of features (N, D), with the unbiased (N - 1) covariance."""
    x = as_features(features, min_rows=2)
    return x.mean(axis=0), np.atleast_2d(np.cov(x, rowvar=False))


def _sqrt_psd(m: np.ndarray) -> np.ndarray:
    w, v = np.linalg.eigh((m + m.T) / 2)
    return (v * np.sqrt(np.clip(w, 0, None))) @ v.T


def frechet_distance(mu1, sigma1, mu2, sigma2) -> float:
    mu1, mu2 = np.atleast_1d(np.asarray(mu1, np.float64)), np.atleast_1d(np.asarray(mu2, np.float64))
    s1, s2 = np.atleast_2d(np.asarray(sigma1, np.float64)), np.atleast_2d(np.asarray(sigma2, np.float64))
    root1 = _sqrt_psd(s1)
    inner = root1 @ s2 @ root1
    eig = np.linalg.eigvalsh((inner + inner.T) / 2)
    tr_sqrt = np.sqrt(np.clip(eig, 0, None)).sum()
    diff = mu1 - mu2
    return float(max(diff @ diff + np.trace(s1) + np.trace(s2) - 2 * tr_sqrt, 0.0))


def fid(real, fake) -> dict:
    """Fréchet distance between the Gaussian fits of two feature sets (N, D)."""
    r, f = as_features(real, "real features"), as_features(fake, "generated features")
    same_width(r, f)
    return {"fid": frechet_distance(*gaussian_stats(r), *gaussian_stats(f))}
