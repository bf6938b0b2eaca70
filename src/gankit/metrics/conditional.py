"""Conditional accuracy: how often a conditional generator draws the class it was asked for, as
the shipped classifier (metrics/classifier.py) sees its samples. `cond_acc` is the fraction of
samples classified as their requested label, `cond_acc_min` the lowest per-class accuracy, and
`cond_classes` the classes whose samples are classified as asked more often than as anything
else (the conditional analogue of class coverage: all k when every class can be asked for)."""

from __future__ import annotations

import numpy as np

from ..errors import GankitError
from ._arrays import as_features


def per_class_accuracy(logits, labels) -> np.ndarray:
    """Accuracy for each requested class (NaN for a class never asked for)."""
    z = as_features(logits, "logits", min_rows=1)
    y = np.asarray(labels.cpu() if hasattr(labels, "cpu") else labels).astype(np.int64).reshape(-1)
    if len(y) != len(z):
        raise GankitError(f"{len(z)} classified samples but {len(y)} requested labels")
    k = z.shape[1]
    if len(y) and (y.min() < 0 or y.max() >= k):
        raise GankitError(f"requested labels run from {y.min()} to {y.max()} but the classifier knows {k} classes")
    hit = z.argmax(axis=1) == y
    asked = np.bincount(y, minlength=k)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.bincount(y, weights=hit, minlength=k) / np.where(asked > 0, asked, np.nan)


def conditional_accuracy(logits, labels) -> dict:
    z = as_features(logits, "logits", min_rows=1)
    y = np.asarray(labels.cpu() if hasattr(labels, "cpu") else labels).astype(np.int64).reshape(-1)
    per_class = per_class_accuracy(z, y)
    asked = per_class[~np.isnan(per_class)]
    predicted = z.argmax(axis=1)
    # a class is covered when its samples are classified as asked more often than as any other class
    covered = 0
    for c in np.unique(y):
        counts = np.bincount(predicted[y == c], minlength=z.shape[1])
        covered += int(counts[c] == counts.max() and counts[c] > 0)
    return {"cond_acc": float((predicted == y).mean()), "cond_acc_min": float(asked.min()), "cond_classes": covered}
