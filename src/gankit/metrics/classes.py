"""Class coverage for MNIST-like data, the image analogue of modes covered: the classifier labels
each generated image; `classes` counts the classes predicted at least once and `class_kl` is the
KL divergence (nats) of the predicted-class histogram from the uniform one (0 = all classes
equally often; log 10 = one class only)."""

from __future__ import annotations

import numpy as np

from ._arrays import as_features


def class_coverage(logits) -> dict:
    z = as_features(logits, "logits", min_rows=1)
    k = z.shape[1]
    counts = np.bincount(z.argmax(axis=1), minlength=k)
    p = counts / counts.sum()
    nz = p > 0
    return {"classes": int(nz.sum()), "class_kl": float((p[nz] * np.log(p[nz] * k)).sum())}
