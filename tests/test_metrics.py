"""The metric functions against closed forms, an independent reference (scipy) and hand-built sets."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.linalg
import torch

from gankit.errors import GankitError
from gankit.metrics import (
    REGISTRY,
    check_primary,
    class_coverage,
    density_coverage,
    fid,
    frechet_distance,
    gaussian_stats,
    inception_score,
    kid,
    parse_metrics,
    precision_recall,
)


def scipy_fd(mu1, s1, mu2, s2) -> float:
    """The textbook formula with scipy's general matrix square root (the reference)."""
    covmean = scipy.linalg.sqrtm(s1 @ s2).real
    return float(((mu1 - mu2) ** 2).sum() + np.trace(s1 + s2 - 2 * covmean))


def random_cov(rng, c: int) -> np.ndarray:
    a = rng.normal(size=(c, c))
    return a @ a.T / c + 0.1 * np.eye(c)


@pytest.mark.parametrize("c", [1, 2, 8, 64])
def test_frechet_distance_matches_scipy(c):
    rng = np.random.default_rng(c)
    mu1, mu2 = rng.normal(size=c), rng.normal(size=c)
    s1, s2 = random_cov(rng, c), random_cov(rng, c)
    assert frechet_distance(mu1, s1, mu2, s2) == pytest.approx(scipy_fd(mu1, s1, mu2, s2), rel=1e-6, abs=1e-8)


@pytest.mark.parametrize("n,c", [(50, 4), (500, 32), (3000, 128)])
def test_fid_of_features_matches_scipy_on_sample_statistics(n, c):
    rng = np.random.default_rng(n)
    a, b = rng.normal(size=(n, c)), rng.normal(size=(n, c)) * 1.3 + 0.2
    mu1, s1 = np.mean(a, 0), np.cov(a, rowvar=False)
    mu2, s2 = np.mean(b, 0), np.cov(b, rowvar=False)
    assert fid(a, b)["fid"] == pytest.approx(scipy_fd(mu1, s1, mu2, s2), rel=1e-6)


def test_a_wrong_formula_would_be_caught():
    """Without the cross term the value differs a lot from the reference, so the checks above can fail."""
    rng = np.random.default_rng(1)
    mu, s1, s2 = np.zeros(8), random_cov(rng, 8), random_cov(rng, 8)
    wrong = float(np.trace(s1 + s2 - 2 * scipy.linalg.sqrtm(s1).real @ scipy.linalg.sqrtm(s2).real))
    assert abs(wrong - frechet_distance(mu, s1, mu, s2)) > 1e-3


def test_fid_of_gaussian_samples_approaches_the_closed_form():
    # N(mu1, diag(v1)) vs N(mu2, diag(v2)): FD = |mu1 - mu2|^2 + sum(v1 + v2 - 2 sqrt(v1 v2))
    gen = torch.Generator().manual_seed(0)
    mu1, mu2 = torch.tensor([0.0, 1.0, -1.0, 2.0]), torch.tensor([0.5, 1.0, 0.0, 2.0])
    v1, v2 = torch.tensor([1.0, 2.0, 0.5, 1.0]), torch.tensor([1.0, 0.5, 0.5, 4.0])
    a = mu1 + v1.sqrt() * torch.randn(200_000, 4, generator=gen)
    b = mu2 + v2.sqrt() * torch.randn(200_000, 4, generator=gen)
    closed = float(((mu1 - mu2) ** 2).sum() + (v1 + v2 - 2 * (v1 * v2).sqrt()).sum())
    assert fid(a, b)["fid"] == pytest.approx(closed, rel=0.02)
    assert fid(a, a)["fid"] == pytest.approx(0.0, abs=1e-6)


def test_gaussian_stats_accepts_torch_and_numpy_alike():
    x = np.random.default_rng(0).normal(size=(100, 3))
    for got, want in zip(gaussian_stats(torch.from_numpy(x).float()), gaussian_stats(x)):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


def test_kid_near_zero_for_one_distribution_and_positive_otherwise():
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(2000, 16)), rng.normal(size=(2000, 16))
    same = kid(a, b, subsets=20, subset_size=500)
    shifted = kid(a, b + 0.5, subsets=20, subset_size=500)
    assert abs(same["kid"]) < 3 * same["kid_std"] + 1e-3
    assert shifted["kid"] > 0.05 and shifted["kid"] > 10 * shifted["kid_std"]


def test_kid_unbiased_estimate_by_hand():
    """With one subset of everything, KID is the unbiased MMD^2 written out with loops."""
    rng = np.random.default_rng(3)
    x, y = rng.normal(size=(6, 3)), rng.normal(size=(6, 3)) + 0.3
    k = lambda p, q: (p @ q / 3 + 1) ** 3  # noqa: E731
    pairs = [(i, j) for i in range(6) for j in range(6)]
    xx = sum(k(x[i], x[j]) for i, j in pairs if i != j) / 30
    yy = sum(k(y[i], y[j]) for i, j in pairs if i != j) / 30
    xy = sum(k(x[i], y[j]) for i, j in pairs) / 36
    assert kid(x, y, subsets=1, subset_size=6)["kid"] == pytest.approx(xx + yy - 2 * xy)


def test_precision_recall_on_a_hand_built_set():
    # real radii (k=3): 0.3, 0.2, 0.2, 0.2, 0.3; the generated outlier at 100 is outside every real ball,
    # but its own k-NN ball (radius 99.85) swallows all real points: recall 1 (the known weakness).
    real = np.array([0.0, 0.1, 0.2, 0.3, 0.4])[:, None]
    fake = np.array([0.05, 0.15, 0.25, 0.35, 100.0])[:, None]
    assert precision_recall(real, fake) == {"precision": pytest.approx(0.8), "recall": pytest.approx(1.0)}
    # generated points far from everything: nothing inside the real manifold
    far = np.array([50.0, 50.1, 50.2, 50.3])[:, None]
    assert precision_recall(real, far)["precision"] == 0.0
    assert precision_recall(real, far)["recall"] == 0.0


def test_density_coverage_on_a_hand_built_set():
    # real points 0..5, k = 5: radii 5, 4, 3, 3, 4, 5
    real = np.arange(6.0)[:, None]
    assert density_coverage(real, np.array([[0.5], [100.0]])) == {
        "density": pytest.approx(6 / 10),
        "coverage": pytest.approx(1.0),
    }
    # -4.5 lies only in the ball of 0 (4.5 <= 5): density 1 / (5 * 2), coverage 1 / 6
    assert density_coverage(real, np.array([[-4.5], [100.0]])) == {
        "density": pytest.approx(0.1),
        "coverage": pytest.approx(1 / 6),
    }


def test_prdc_balls_are_open_so_copies_and_edges_count_as_the_papers_say():
    # a real point with k = 3 exact copies has a ball of radius 0: it holds nothing, not even a copy
    real = np.array([0.0, 0.0, 0.0, 0.0, 5.0, 6.0, 7.0, 8.0])[:, None]
    assert precision_recall(real, np.array([[0.0], [0.0], [0.0], [0.0], [20.0]]))["precision"] == pytest.approx(0.0)
    # a point exactly on a ball's edge is outside: real 0..5 (k = 5 radii 5, 4, 3, 3, 4, 5), fake at -5
    grid = np.arange(6.0)[:, None]
    assert density_coverage(grid, np.array([[-5.0], [100.0]])) == {"density": 0.0, "coverage": 0.0}
    assert density_coverage(grid, np.array([[-4.999], [100.0]]))["density"] == pytest.approx(0.1)
    # copies in high dimension: the round-off of |a|^2 + |b|^2 - 2ab must not break the ties
    rng = np.random.default_rng(0)
    x = rng.normal(size=(6, 128)) * 30
    real = np.concatenate([x] * 4)  # every point has 3 copies: radius exactly 0
    assert precision_recall(real, x)["precision"] == 0.0


def test_metrics_do_not_depend_on_sample_order():
    rng = np.random.default_rng(5)
    a, b = rng.normal(size=(300, 8)), rng.normal(size=(300, 8)) + 0.3
    pa, pb = a[rng.permutation(300)], b[rng.permutation(300)]
    assert fid(pa, pb)["fid"] == pytest.approx(fid(a, b)["fid"], rel=1e-9)
    assert precision_recall(pa, pb) == precision_recall(a, b)
    assert density_coverage(pa, pb) == pytest.approx(density_coverage(a, b))
    full = dict(subsets=1, subset_size=300)  # subsets of everything: order cannot matter
    assert kid(pa, pb, **full)["kid"] == pytest.approx(kid(a, b, **full)["kid"], rel=1e-9)
    logits = rng.normal(size=(100, 10))
    assert inception_score(logits[rng.permutation(100)], splits=1)["is"] == pytest.approx(
        inception_score(logits, splits=1)["is"]
    )


def test_too_few_samples_are_clear_errors():
    x = np.zeros((3, 2))
    with pytest.raises(GankitError, match="more than k = 3"):
        precision_recall(x, np.ones((10, 2)))
    with pytest.raises(GankitError, match="more than k = 5"):
        density_coverage(np.ones((5, 2)), np.ones((10, 2)))
    with pytest.raises(GankitError, match="too few"):
        fid(np.ones((1, 4)), np.ones((10, 4)))
    with pytest.raises(GankitError, match="one sample per split"):
        inception_score(np.ones((5, 10)), splits=10)
    with pytest.raises(GankitError, match="different widths"):
        fid(np.ones((10, 4)), np.ones((10, 5)))
    with pytest.raises(GankitError, match="NaN"):
        fid(np.full((10, 4), np.nan), np.ones((10, 4)))


def test_inception_score_extremes():
    confident = np.eye(10)[np.arange(1000) % 10] * 50  # sharp, all classes equally often
    assert inception_score(confident)["is"] == pytest.approx(10, rel=1e-3)
    collapsed = np.tile(np.eye(10)[3] * 50, (1000, 1))  # always the same class
    assert inception_score(collapsed)["is"] == pytest.approx(1, abs=1e-3)


def test_inception_score_matches_scipy_and_survives_confident_logits():
    from scipy.special import softmax
    from scipy.stats import entropy

    rng = np.random.default_rng(2)
    logits = rng.normal(size=(200, 7)) * 3
    p = softmax(logits, axis=1)
    want = np.exp(np.mean([entropy(row, p.mean(axis=0)) for row in p]))
    assert inception_score(logits, splits=1)["is"] == pytest.approx(want, rel=1e-9)
    # logits of 1000: softmax underflows to exact 0s; the score is still exact (log space)
    sharp = np.eye(10)[np.arange(500) % 10] * 1000 + rng.normal(size=(500, 10))
    assert inception_score(sharp, splits=1)["is"] == pytest.approx(10, rel=1e-9)
    assert np.isfinite(inception_score(sharp * 10)["is_std"])


def test_class_coverage():
    assert class_coverage(np.eye(10)[np.arange(100) % 10]) == {"classes": 10, "class_kl": pytest.approx(0)}
    one = class_coverage(np.tile(np.eye(10)[7], (20, 1)))
    assert one["classes"] == 1 and one["class_kl"] == pytest.approx(np.log(10))


def test_registry_names_and_did_you_mean():
    assert parse_metrics("fid, kid,pr", "image") == ["fid", "kid", "pr"]
    assert parse_metrics("", "2d") == ["modes"]
    assert "classes" not in parse_metrics("", "image", "folder")
    with pytest.raises(GankitError, match="did you mean 'kid'"):
        parse_metrics("kdi", "image")
    with pytest.raises(GankitError, match="for image data"):
        parse_metrics("fid", "2d")
    with pytest.raises(GankitError, match="choose one of"):
        check_primary("mean", ["moments"], "1d")
    assert all(m.values for m in REGISTRY.values())
