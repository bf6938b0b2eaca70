"""Inception-Score-style score from a classifier's class probabilities p(y|x):

    IS = exp( E_x KL(p(y|x) || p(y)) ),  p(y) = E_x p(y|x)

computed on `splits` disjoint parts of the samples; the mean and std over the parts are reported.
Ranges from 1 (every sample gets the same prediction) to the number of classes (confident
predictions spread evenly over all classes). Named `is` after the network that gave p(y|x)."""

from __future__ import annotations

import numpy as np

from ..errors import GankitError
from ._arrays import as_features


def log_softmax(logits: np.ndarray) -> np.ndarray:
    z = logits - logits.max(axis=1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=1, keepdims=True))


def inception_score(logits, splits: int = 10) -> dict:
    """From logits (N, classes); {'is': mean over splits, 'is_std': std}. Works in log space
    throughout (log_softmax, log-mean-exp for log p(y)), so confident logits lose nothing to a clip."""
    logp = log_softmax(as_features(logits, "logits"))
    if len(logp) < splits:
        raise GankitError(f"the score needs at least one sample per split ({splits}); got {len(logp)}")
    scores = []
    for part in np.array_split(logp, splits):
        top = part.max(axis=0, keepdims=True)
        log_py = top + np.log(np.exp(part - top).mean(axis=0, keepdims=True))  # log E_x p(y|x)
        kl = (np.exp(part) * (part - log_py)).sum(axis=1)
        scores.append(np.exp(kl.mean()))
    return {"is": float(np.mean(scores)), "is_std": float(np.std(scores))}
