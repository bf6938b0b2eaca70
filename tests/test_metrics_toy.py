"""Toy metrics on mixtures whose answers are known."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.stats
import torch

from gankit.data.toy import GaussianMixture, gaussian_1d, grid_2d, ring_2d
from gankit.errors import GankitError
from gankit.metrics import jsd, ks_1d, mode_stats, moments_1d


@pytest.mark.parametrize("dist", [ring_2d(), grid_2d()], ids=["ring", "grid"])
def test_true_samples_cover_every_mode(dist):
    x = dist.sample(5000, torch.Generator().manual_seed(0))
    m = mode_stats(x, dist)
    assert m["modes"] == len(dist.means)
    assert m["hq"] == pytest.approx(1 - math.exp(-4.5), abs=0.01)  # 2D: P(|x - mu| <= 3 std)
    assert m["mode_kl"] < 0.01


def test_collapsed_samples_cover_one_mode():
    dist = ring_2d()
    x = torch.tensor(dist.means[2]) + dist.std * torch.randn(1000, 2, generator=torch.Generator().manual_seed(0))
    m = mode_stats(x, dist)
    assert m["modes"] == 1
    assert m["mode_kl"] == pytest.approx(math.log(8))


def test_samples_between_modes_are_not_high_quality():
    dist = ring_2d()
    m = mode_stats(torch.zeros(100, 2), dist)  # the centre of the ring: far from every mode
    assert m == {"modes": 0, "hq": 0.0, "mode_kl": pytest.approx(math.log(8))}


def test_half_the_modes():
    dist = ring_2d()
    means = torch.tensor(dist.means[:4]).repeat(250, 1)
    m = mode_stats(means, dist)
    assert m["modes"] == 4 and m["mode_kl"] == pytest.approx(math.log(2))


def test_ks_matches_scipy_for_a_gaussian_and_a_mixture():
    g = gaussian_1d()
    x = g.sample(3000, torch.Generator().manual_seed(1)).numpy()[:, 0]
    ref = scipy.stats.kstest(x, scipy.stats.norm(4.0, 1.25).cdf).statistic
    assert ks_1d(x, g)["ks"] == pytest.approx(ref, abs=1e-6)
    mix = GaussianMixture(((-1.0,), (2.0,)), 0.5)
    y = np.random.default_rng(0).normal(0.5, 1.0, size=2000)
    cdf = lambda t: (scipy.stats.norm(-1, 0.5).cdf(t) + scipy.stats.norm(2, 0.5).cdf(t)) / 2  # noqa: E731
    assert ks_1d(y, mix)["ks"] == pytest.approx(scipy.stats.kstest(y, cdf).statistic, abs=1e-6)


def test_1d_metrics_tell_the_target_from_a_shifted_gaussian():
    g = gaussian_1d()
    good = g.sample(10_000, torch.Generator().manual_seed(2))
    bad = good + 1.0
    assert moments_1d(good, g)["mean"] == pytest.approx(4.0, abs=0.05)
    assert moments_1d(good, g)["std"] == pytest.approx(1.25, abs=0.05)
    assert ks_1d(good, g)["ks"] < 0.02 < 0.2 < ks_1d(bad, g)["ks"]
    assert jsd(good, g)["jsd"] < 0.01 < 0.05 < jsd(bad, g)["jsd"]
    assert jsd(torch.full((100, 1), 100.0), g)["jsd"] == pytest.approx(1.0, abs=1e-4)  # disjoint: 1 bit


def test_dimension_mismatch_is_a_clear_error():
    with pytest.raises(GankitError, match="coordinates"):
        mode_stats(torch.zeros(10, 1), ring_2d())
    with pytest.raises(GankitError, match="coordinates"):
        ks_1d(torch.zeros(10, 2), gaussian_1d())
