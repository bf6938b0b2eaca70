"""Shared input checks: every metric takes feature arrays (N, D) as numpy or torch and computes in
float64 numpy, so results do not depend on the array library or the device."""

from __future__ import annotations

import numpy as np

from ..errors import GankitError


def as_features(x, name: str = "features", min_rows: int = 2) -> np.ndarray:
    """(N, D) float64 array from a numpy array or torch tensor; 1D input becomes (N, 1)."""
    if hasattr(x, "detach"):
        x = x.detach().cpu().double().numpy()
    x = np.asarray(x, dtype=np.float64)
    if x.ndim == 1:
        x = x[:, None]
    if x.ndim != 2:
        raise GankitError(f"{name} must be a 2D array (samples, features); got shape {x.shape}")
    if len(x) < min_rows:
        raise GankitError(f"{name}: {len(x)} samples are too few; this metric needs at least {min_rows}")
    if not np.isfinite(x).all():
        raise GankitError(f"{name} contain NaN or infinite values (did training diverge?)")
    return x


def same_width(a: np.ndarray, b: np.ndarray) -> None:
    if a.shape[1] != b.shape[1]:
        raise GankitError(
            f"the two feature sets have different widths ({a.shape[1]} and {b.shape[1]}); "
            "they must come from the same feature network"
        )
