"""The metrics that need no pretrained network: sliced Wasserstein distance on Laplacian-pyramid
patches and MS-SSIM diversity, on known cases and against independent references (scipy's 1D
Wasserstein distance, pytorch-msssim's MS-SSIM)."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.stats
import torch
from shapes import blur, noisy, shapes

from gankit.errors import GankitError
from gankit.metrics import REGISTRY, check_primary, parse_metrics
from gankit.metrics.msssim import msssim, pair_msssim, settings
from gankit.metrics.swd import _up, laplacian_pyramid, sliced_wasserstein, swd


@pytest.fixture(autouse=True)
def _one_thread(one_thread):
    yield


@pytest.fixture(scope="module")
def sets():
    """Two independent draws of one distribution of 32x32 RGB images."""
    return shapes(400, 32, seed=1), shapes(400, 32, seed=2)


def test_laplacian_pyramid_reconstructs_the_image_and_stops_at_16():
    x = torch.rand(3, 3, 64, 64)
    levels = laplacian_pyramid(x)
    assert [lv.shape[-1] for lv in levels] == [64, 32, 16]
    rec = levels[-1]
    for lv in reversed(levels[:-1]):
        rec = lv + _up(rec, lv.shape[-2:])
    assert torch.allclose(rec, x, atol=1e-5)
    flat = torch.full((1, 1, 32, 32), 0.3)  # a constant image has no detail: zero band-pass level
    assert laplacian_pyramid(flat)[0].abs().max() < 1e-6


def test_sliced_wasserstein_matches_scipy_on_each_direction():
    """One direction at a time, the value is the exact 1D Wasserstein-1 distance of the projections."""
    g = torch.Generator().manual_seed(0)
    a, b = torch.randn(500, 6, generator=g), torch.randn(500, 6, generator=g) * 1.5 + 0.3
    state = g.get_state()
    got = sliced_wasserstein(a, b, 1, g)
    g.set_state(state)
    d = torch.randn(1, 6, generator=g)
    d /= d.norm()
    want = scipy.stats.wasserstein_distance((a @ d.T).squeeze(1).numpy(), (b @ d.T).squeeze(1).numpy())
    assert got == pytest.approx(want, rel=1e-4)


def test_swd_of_identical_sets_is_zero_and_of_two_draws_is_small(sets):
    a, b = sets
    assert swd(a, a)["swd"] == pytest.approx(0.0, abs=1e-9)
    floor = swd(a, b)
    worse = swd(a, blur(b, 1.0))
    assert 0 < floor["swd"] < 0.5 * worse["swd"]


def test_swd_grows_with_blur_and_with_noise(sets):
    a, b = sets
    by_blur = [swd(a, blur(b, s) if s else b)["swd"] for s in (0, 0.6, 1.2, 2.4)]
    by_noise = [swd(a, noisy(b, s) if s else b)["swd"] for s in (0, 0.03, 0.1, 0.3)]
    assert by_blur == sorted(by_blur) and len(set(by_blur)) == 4, by_blur
    assert by_noise == sorted(by_noise) and len(set(by_noise)) == 4, by_noise
    # noise is fine detail: it shows at the finest level far more than at 16x16
    n = swd(a, noisy(b, 0.1))
    assert n["swd_fine"] > 2 * n["swd_coarse"]


def test_swd_accepts_floats_and_checks_its_input(sets):
    a, b = sets
    u = swd(a, b)
    f = swd(a.float() / 127.5 - 1, b.float() / 127.5 - 1)
    assert f["swd"] == pytest.approx(u["swd"], rel=1e-5)
    with pytest.raises(GankitError, match="differ in shape"):
        swd(a, b[:, :1])
    with pytest.raises(GankitError, match="NaN"):
        swd(a, torch.full((4, 3, 32, 32), float("nan")))


def test_msssim_settings_fit_the_image_size():
    assert settings(256)[1:] == (11, 1.5) and len(settings(256)[0]) == 5
    assert len(settings(32)[0]) == 3 and settings(32)[1] == 7
    for side in (16, 28, 32, 64, 128, 256):
        betas, k, _ = settings(side)
        assert sum(betas) == pytest.approx(1.0) and k % 2 == 1
        pair_msssim(shapes(2, side), shapes(2, side, seed=5))  # torchmetrics accepts them


def test_msssim_matches_pytorch_msssim_at_the_standard_setting():
    """Where five scales of an 11-pixel window fit, torchmetrics' MS-SSIM (used here) agrees with an
    independent implementation, on grey pairs alike to different degrees. (For unrelated pairs both
    sit near 0, where the clamping of negative terms makes any two implementations differ; and on
    colour images they average the channels at different points.)"""
    pytorch_msssim = pytest.importorskip("pytorch_msssim")
    a = shapes(6, 192, seed=3)[:, :1]
    b = torch.cat(
        [noisy(a[:3], s, seed=1)[i : i + 1] for i, s in enumerate((0.02, 0.08, 0.2))]
        + [blur(a[3:], s)[i : i + 1] for i, s in enumerate((0.7, 1.5, 3.0))]
    )
    a = torch.cat([a[:3], a[3:]])
    ours = pair_msssim(a, b)
    ref = pytorch_msssim.ms_ssim(a.float(), b.float(), data_range=255, size_average=False).double()
    assert torch.allclose(ours, ref, atol=0.01), (ours, ref)
    assert ours.min() < 0.9 and ours.max() > 0.95  # a range of similarities was compared
    assert ours[0] > ours[1] > ours[2] and ours[3] > ours[4] > ours[5]


def test_msssim_of_a_collapsed_set_is_far_above_the_real_sets(sets):
    a, _ = sets
    two = msssim(a, a[torch.arange(400) % 2], pairs=300)  # copies of two images
    assert two["msssim"] > two["msssim_real"] + 0.3
    v = msssim(a, a[torch.arange(400) % 4], pairs=300)  # of four: still twice the real pairs' value
    assert v["msssim"] > 2 * v["msssim_real"]
    same = msssim(a, shapes(400, 32, seed=9), pairs=300)
    assert same["msssim_gap"] < 0.05 < v["msssim_gap"]
    assert 0 < same["msssim_real"] < 0.5


def test_pixel_metrics_are_registered_with_directions():
    assert REGISTRY["swd"].takes == REGISTRY["msssim"].takes == "images"
    assert parse_metrics("swd,msssim", "image") == ["swd", "msssim"]
    assert check_primary("", ["swd", "msssim"], "image") == "swd"
    assert check_primary("msssim_gap", ["swd", "msssim"], "image") == "msssim_gap"
    with pytest.raises(GankitError, match="choose one of"):
        check_primary("msssim", ["msssim"], "image")  # the raw value has no better direction


def test_folder_defaults_without_inception_are_the_pixel_metrics(monkeypatch, tmp_path):
    monkeypatch.setenv("GANKIT_OFFLINE", "1")
    monkeypatch.setenv("GANKIT_CACHE", str(tmp_path))
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    assert parse_metrics("", "image", "folder") == ["swd", "msssim"]
    assert parse_metrics("", "image", "folder", training=True) == ["swd", "msssim"]
    monkeypatch.setenv("GANKIT_OFFLINE", "0")  # may download: Inception's metrics come first
    assert parse_metrics("", "image", "folder")[:2] == ["fid", "kid"]
    assert np.isin(["swd", "msssim"], parse_metrics("", "image", "folder")).all()
