"""Stacked MNIST mode coverage (VEEGAN, Srivastava et al. 2017; PacGAN, Lin et al. 2018): the
shipped MNIST classifier (metrics/classifier.py) reads the digit in each of the three channels of
a generated sample; the triple is its mode (one of 1,000). `modes` counts the modes at least one
sample falls in, `mode_kl` is KL(P_G || uniform) over the 1,000 modes in nats, the generator's
histogram first, as the papers report it (0 = every mode equally often, log 1000 = 6.91 = one
mode). The papers score 26,000 samples (26 per mode); eval.n sets how many here.

The feature network of stacked-mnist is that classifier applied to each channel: its features
are the three channels' 128 penultimate values side by side (384, so FID, KID and PRDC compare
digit triples), its logits the three channels' 10 logits side by side (30).
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn

from ..errors import GankitError
from ._arrays import as_features
from .classifier import to_classifier_input

CHANNELS, DIGITS = 3, 10
MODES = DIGITS**CHANNELS
NET_NAME = "mnist-classifier-per-channel"
# what stacked-mnist can be scored with: the logits hold three 10-way classifications, so the
# Inception-Score-style `is` and the 10-class `classes` do not apply
STACKED_METRICS = ("stacked", "fid", "kid", "pr", "dc", "swd", "msssim")
STACKED_DEFAULTS = ("stacked", "fid")  # k-NN precision/recall on 26,000 samples would take minutes on a CPU


class PerChannelClassifier(nn.Module):
    """The MNIST classifier on each channel of (N, 3, 28, 28): features (N, 384), logits (N, 30)."""

    def __init__(self, classifier: nn.Module):
        super().__init__()
        self.classifier = classifier

    def features_and_logits(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        n, c = x.shape[:2]
        f, z = self.classifier.features_and_logits(x.reshape(n * c, 1, *x.shape[2:]))
        return f.reshape(n, -1), z.reshape(n, -1)


def to_stacked_input(images: torch.Tensor) -> torch.Tensor:
    """(N, 3, H, W) uint8 or [-1, 1] float -> (N, 3, 28, 28) float, each channel as the classifier takes a digit."""
    if images.dim() != 4 or images.shape[1] != CHANNELS:
        raise GankitError(f"Stacked MNIST samples are (N, 3, H, W) images; got shape {tuple(images.shape)}")
    n, c, h, w = images.shape
    return to_classifier_input(images.reshape(n * c, 1, h, w)).reshape(n, c, 28, 28)


def mode_ids(logits) -> np.ndarray:
    """(N, 30) per-channel logits -> (N,) mode ids 100 * d0 + 10 * d1 + d2."""
    z = as_features(logits, "logits", min_rows=1)
    if z.shape[1] != CHANNELS * DIGITS:
        raise GankitError(
            f"Stacked MNIST modes need the per-channel classifier's {CHANNELS * DIGITS} logits per sample "
            f"(got {z.shape[1]}): the `stacked` metric is for data.name = stacked-mnist"
        )
    digits = z.reshape(len(z), CHANNELS, DIGITS).argmax(axis=2)
    return digits @ np.array([100, 10, 1])


def mode_counts(ids) -> np.ndarray:
    return np.bincount(np.asarray(ids, dtype=np.int64), minlength=MODES)


def kl_from_uniform(counts: np.ndarray) -> float:
    """KL(p || uniform) in nats of the histogram `counts` (p = counts / total)."""
    p = counts / counts.sum()
    nz = p > 0
    return float((p[nz] * np.log(p[nz] * len(counts))).sum())


def stacked_modes(logits) -> dict:
    """{'modes': modes with at least one sample (of 1,000), 'mode_kl': KL(P_G || uniform), nats}."""
    counts = mode_counts(mode_ids(logits))
    return {"modes": int((counts > 0).sum()), "mode_kl": kl_from_uniform(counts)}


def expected_modes(n: int, modes: int = MODES) -> float:
    """Modes a perfect generator covers on average with n samples: K (1 - (1 - 1/K)^n)."""
    return modes * (1 - math.exp(n * math.log1p(-1 / modes)))
