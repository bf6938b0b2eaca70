"""Conditional accuracy: how often a conditional generator draws the class it was asked for, as
the shipped classifier (metrics/classifier.py) sees its samples. `cond_acc` is the fraction of
samples classified as their requested label, `cond_acc_min` the lowest per-class accuracy, and
`cond_classes` the classes whose samples are classified as asked more often than as anything
else (the conditional analogue of class coverage: all k when every class can be asked for).

`class_fid` is the per-class FID: for every class asked for, the Fréchet distance between the
real images of that class and the samples generated for it (the intra-class FID of Miyato &
Koyama 2018), reported as the mean over classes (`fid_class`) and the worst class (`fid_class_max`).
A conditional G that draws the right digits of one style only is good by cond_acc and bad here."""

from __future__ import annotations

import numpy as np

from ..errors import GankitError
from ._arrays import as_features
from .frechet import frechet_distance, gaussian_stats


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


def _as_labels(labels) -> np.ndarray:
    return np.asarray(labels.cpu() if hasattr(labels, "cpu") else labels).astype(np.int64).reshape(-1)


def class_fid(real, real_labels, fake, fake_labels) -> dict:
    """Mean and worst per-class FID over the classes asked for (every such class needs at least
    two real and two generated samples)."""
    r, f = as_features(real, "real features"), as_features(fake, "generated features")
    ry, fy = _as_labels(real_labels), _as_labels(fake_labels)
    if len(ry) != len(r) or len(fy) != len(f):
        raise GankitError(
            f"per-class FID needs one label per sample: {len(r)} real samples with {len(ry)} labels, "
            f"{len(f)} generated with {len(fy)}"
        )
    values = []
    for c in np.unique(fy):
        rc, fc = r[ry == c], f[fy == c]
        if len(rc) < 2 or len(fc) < 2:
            raise GankitError(
                f"per-class FID: class {c} has {len(rc)} real and {len(fc)} generated samples; each class "
                "needs at least 2 of both (draw more samples, e.g. --n 10000)"
            )
        values.append(frechet_distance(*gaussian_stats(rc), *gaussian_stats(fc)))
    return {"fid_class": float(np.mean(values)), "fid_class_max": float(np.max(values))}
