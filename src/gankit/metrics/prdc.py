"""Precision and recall of the k-nearest-neighbour manifolds (Kynkäänniemi et al. 2019, k = 3), and
density and coverage (Naeem et al. 2020, k = 5), from feature arrays.

A set's manifold is the union of open balls around its points, each of radius the distance to the
point's k-th nearest neighbour in the same set (the point itself not counted). "Inside" is the
strict `<` of the papers' reference code: a ball of radius 0 (a point with k exact copies) holds
nothing, and a point on a ball's edge is outside. Distances between equal vectors are exactly 0
(round-off below 1e-12 of the squared norms is cut), so ties between copied images are real ties.
- precision: fraction of generated points inside the real manifold
- recall:    fraction of real points inside the generated manifold
- density:   mean number of real balls holding each generated point, divided by k (about 1 when
             the two sets are alike; > 1 when the generated points crowd dense real regions)
- coverage:  fraction of real points whose ball holds at least one generated point
"""

from __future__ import annotations

import numpy as np

from ..errors import GankitError
from ._arrays import as_features, same_width

CHUNK = 1024  # rows per distance block: bounds memory at CHUNK x N doubles


def pairwise_distances(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Euclidean distances (len(a), len(b)) in float64."""
    na, nb = (a * a).sum(axis=1)[:, None], (b * b).sum(axis=1)[None]
    d2 = na + nb - 2 * a @ b.T
    d2[d2 <= 1e-12 * (na + nb)] = 0.0  # round-off of equal vectors: make their ties exact
    return np.sqrt(d2)


def _blocks(a: np.ndarray, b: np.ndarray):
    """(start row, distances of rows start:start+CHUNK of a to all of b)."""
    for i in range(0, len(a), CHUNK):
        yield i, pairwise_distances(a[i : i + CHUNK], b)


def knn_radii(x: np.ndarray, k: int) -> np.ndarray:
    """Distance from each point to its k-th nearest other point of the same set."""
    if len(x) <= k:
        raise GankitError(f"the k-nearest-neighbour metrics need more than k = {k} samples per set; got {len(x)}")
    radii = np.empty(len(x))
    for i, d in _blocks(x, x):
        d[np.arange(len(d)), np.arange(i, i + len(d))] = np.inf  # a point is not its own neighbour
        radii[i : i + len(d)] = np.partition(d, k - 1, axis=1)[:, k - 1]
    return radii


def _inside_any(points: np.ndarray, centres: np.ndarray, radii: np.ndarray) -> np.ndarray:
    """For each point: is it inside at least one ball (centre, radius)?"""
    return np.concatenate([(d < radii[None]).any(axis=1) for _, d in _blocks(points, centres)])


def precision_recall(real, fake, k: int = 3) -> dict:
    r, f = as_features(real, "real features"), as_features(fake, "generated features")
    same_width(r, f)
    precision = _inside_any(f, r, knn_radii(r, k)).mean()
    recall = _inside_any(r, f, knn_radii(f, k)).mean()
    return {"precision": float(precision), "recall": float(recall)}


def density_coverage(real, fake, k: int = 5) -> dict:
    r, f = as_features(real, "real features"), as_features(fake, "generated features")
    same_width(r, f)
    radii = knn_radii(r, k)
    counts = np.concatenate([(d < radii[None]).sum(axis=1) for _, d in _blocks(f, r)])  # real balls per fake
    coverage = np.concatenate([(d.min(axis=1) < radii[i : i + len(d)]) for i, d in _blocks(r, f)]).mean()
    return {"density": float(counts.sum() / (k * len(f))), "coverage": float(coverage)}


def prdc(real, fake) -> dict:
    """All four with the papers' k (3 for precision/recall, 5 for density/coverage)."""
    return {**precision_recall(real, fake), **density_coverage(real, fake)}
