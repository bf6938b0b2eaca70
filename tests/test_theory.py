"""Seed S2's theory: D* = p_data / (p_data + p_g) and V(D*, G) = -log 4 + 2 JSD, checked numerically."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from gankit.theory import LOG4, fit_discriminator, jsd, kde, monte_carlo_value, normal_pdf, optimal_d, run_theory, value

pytestmark = pytest.mark.usefixtures("one_thread")  # tiny networks (fixture in conftest.py)


X = np.linspace(-30.0, 70.0, 200_001)  # fine and wide enough that the trapezoid error is ~1e-10


def jsd_quad(m1, s1, m2, s2) -> float:
    """JSD of two normals by adaptive quadrature (scipy), independent of gankit's grid code."""
    integrate = pytest.importorskip("scipy.integrate")
    from scipy.stats import norm

    def integrand(x):
        p, q = norm.pdf(x, m1, s1), norm.pdf(x, m2, s2)
        m = 0.5 * (p + q)
        return 0.5 * ((p * math.log(p / m) if p > 0 else 0.0) + (q * math.log(q / m) if q > 0 else 0.0))

    lo, hi = min(m1 - 15 * s1, m2 - 15 * s2), max(m1 + 15 * s1, m2 + 15 * s2)
    return integrate.quad(integrand, lo, hi, points=[m1, m2], epsabs=1e-13, epsrel=1e-12, limit=400)[0]


@pytest.mark.parametrize("q", [(4.0, 1.25), (5.0, 1.0), (0.0, 0.5), (4.0, 3.0), (10.0, 1.25)])
def test_value_at_the_optimal_d_is_minus_log4_plus_2jsd(q):
    """The identity to 1e-7 against a quadrature JSD; p = N(4, 1.25), the seed's data."""
    p_data, p_g = normal_pdf(X, 4.0, 1.25), normal_pdf(X, *q)
    v = value(X, p_data, p_g, optimal_d(p_data, p_g))
    reference = -LOG4 + 2 * jsd_quad(4.0, 1.25, *q)
    assert v == pytest.approx(reference, abs=1e-7)
    assert jsd(X, p_data, p_g) == pytest.approx(jsd_quad(4.0, 1.25, *q), abs=1e-7)


def test_equal_densities_give_half_everywhere_and_minus_log4():
    p = normal_pdf(X, 4.0, 1.25)
    assert np.allclose(optimal_d(p, p), 0.5)
    assert jsd(X, p, p) == pytest.approx(0.0, abs=1e-12)
    assert value(X, p, p, optimal_d(p, p)) == pytest.approx(-LOG4, abs=1e-9)


def test_disjoint_densities_reach_the_jsd_bound():
    p, q = normal_pdf(X, 0.0, 1.0), normal_pdf(X, 40.0, 1.0)
    assert jsd(X, p, q) == pytest.approx(math.log(2), abs=1e-9)
    assert value(X, p, q, optimal_d(p, q)) == pytest.approx(0.0, abs=1e-9)


def test_no_other_discriminator_does_better():
    p, q = normal_pdf(X, 4.0, 1.25), normal_pdf(X, 5.0, 1.0)
    best = value(X, p, q, optimal_d(p, q))
    for d in (np.full_like(X, 0.5), np.clip(optimal_d(p, q) + 0.05, 0, 1), 1 / (1 + np.exp(-(4.5 - X)))):
        assert value(X, p, q, d) < best - 1e-4


def test_kde_recovers_a_known_density():
    samples = np.random.default_rng(0).normal(4.0, 1.25, 20_000)
    x = np.linspace(-4, 12, 1601)
    est = kde(samples, x)
    assert float(np.sum(est) * (x[1] - x[0])) == pytest.approx(1.0, abs=1e-3)
    assert np.abs(est - normal_pdf(x, 4.0, 1.25)).max() < 0.02


def test_a_fitted_discriminator_approaches_the_optimal_one():
    """Two known Gaussians: BCE training on fresh samples lands within a few hundredths of D*,
    and its Monte Carlo value within 0.01 of V(D*, G)."""

    def sample(mean, std):
        return lambda n, g: mean + std * torch.randn(n, 1, generator=g)

    d = fit_discriminator(sample(4.0, 1.25), sample(5.0, 1.0), iters=250, batch=1024, seed=0)
    x = np.linspace(-2, 11, 1301)
    p, q = normal_pdf(x, 4.0, 1.25), normal_pdf(x, 5.0, 1.0)
    with torch.no_grad():
        fitted = d(torch.from_numpy(x).float()[:, None]).double().numpy().ravel()
    weighted_gap = np.sum(0.5 * (p + q) * np.abs(fitted - optimal_d(p, q))) * (x[1] - x[0])
    assert weighted_gap < 0.03
    gen = torch.Generator().manual_seed(1)
    v_fit = monte_carlo_value(d, sample(4.0, 1.25)(50_000, gen), sample(5.0, 1.0)(50_000, gen))
    v_star = -LOG4 + 2 * jsd(X, normal_pdf(X, 4.0, 1.25), normal_pdf(X, 5.0, 1.0))
    assert v_fit == pytest.approx(v_star, abs=0.01)


def test_short_theory_run_and_figure(tmp_path):
    from gankit.theory import plot_theory

    snaps = run_theory(steps=(0, 40), fit_iters=20)
    assert [s.step for s in snaps] == [0, 40]
    for s in snaps:
        assert s.v_star == pytest.approx(s.bound, abs=1e-6)
        assert -LOG4 - 1e-6 <= s.bound <= 0.0 + 1e-6
    assert snaps[0].jsd > snaps[1].jsd  # G moved towards the data
    plot_theory(snaps, tmp_path / "theory.png")
    assert (tmp_path / "theory.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_theory_command_rejects_bad_steps():
    from gankit.commands.theory import _parse_steps
    from gankit.errors import GankitError

    assert _parse_steps("200, 0,50") == (0, 50, 200)
    for bad in ("a,b", "0", "-5,10"):
        with pytest.raises(GankitError):
            _parse_steps(bad)
