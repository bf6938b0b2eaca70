"""Latent walks and truncated sampling: the maths, and `gankit sample --interpolate/--truncation`."""

from __future__ import annotations

import pytest
import torch
from PIL import Image
from run_factory import shared_run

from gankit.cli import main
from gankit.config import load_preset
from gankit.errors import GankitError
from gankit.generation.explore import interpolation, latent_draw, slerp


def test_slerp_ends_norms_and_great_circle():
    gen = torch.Generator().manual_seed(0)
    a, b = torch.randn(5, 16, generator=gen), torch.randn(5, 16, generator=gen)
    t = torch.linspace(0, 1, 7)
    path = slerp(a, b, t)
    assert path.shape == (5, 7, 16)
    torch.testing.assert_close(path[:, 0], a)
    torch.testing.assert_close(path[:, -1], b)
    expected_norm = (1 - t) * a.norm(dim=1, keepdim=True) + t * b.norm(dim=1, keepdim=True)
    torch.testing.assert_close(path.norm(dim=2), expected_norm)
    # equal angular steps along the great circle
    unit = path / path.norm(dim=2, keepdim=True)
    angles = torch.arccos((unit[:, 1:] * unit[:, :-1]).sum(2).clamp(-1, 1))
    torch.testing.assert_close(angles, angles[:, :1].expand_as(angles), atol=1e-4, rtol=1e-4)
    # parallel endpoints: no division by zero
    par = slerp(a[:1], 2 * a[:1], t)
    assert torch.isfinite(par).all()
    torch.testing.assert_close(par[0, 3], a[0] * 1.5)


def test_uniform_latents_interpolate_linearly():
    cfg = load_preset("gaussian-1d")
    a, b = torch.zeros(2, 1), torch.ones(2, 1)
    path = interpolation(cfg, a, b, 5)
    torch.testing.assert_close(path[0, :, 0], torch.linspace(0, 1, 5))


def test_truncation_bounds_every_entry_and_is_reproducible():
    cfg = load_preset("ring-2d", ["model.latent_dim=64"])
    z = latent_draw(cfg, 500, seed=3, truncation=0.5)
    assert z.abs().max() <= 0.5 and z.shape == (500, 64)
    assert torch.equal(z, latent_draw(cfg, 500, seed=3, truncation=0.5))
    assert latent_draw(cfg, 500, seed=3).abs().max() > 2  # untruncated draws do go past
    with pytest.raises(GankitError, match="positive"):
        latent_draw(cfg, 4, 0, truncation=-1.0)
    with pytest.raises(GankitError, match="uniform"):
        latent_draw(load_preset("gaussian-1d"), 4, 0, truncation=1.0)


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    return {kind: shared_run(tmp_path_factory, kind) for kind in ("toy", "image")}


@pytest.mark.parametrize("kind", ["toy", "image"])
def test_sample_interpolate_writes_grid_and_gif(runs, kind, tmp_path):
    out = tmp_path / "walk.png"
    assert main(["sample", str(runs[kind]), "--interpolate", "--n", "3", "--steps", "6", "--out", str(out)]) == 0
    gif = Image.open(out.with_suffix(".gif"))
    assert gif.n_frames == 2 * 6 - 2  # forward, then back
    grid = Image.open(out)
    if kind == "image":  # 3 rows of 6 images of 16x16, enlarged so they can be seen
        assert grid.width / grid.height == pytest.approx((6 * 18 + 2) / (3 * 18 + 2), rel=0.01)


def test_sample_with_truncation(runs, tmp_path, capsys):
    out = tmp_path / "s.npy"
    assert main(["sample", str(runs["image"]), "--n", "5", "--truncation", "0.7", "--out", str(out)]) == 0
    import numpy as np

    assert np.load(out).shape == (5, 3, 16, 16)
    assert main(["sample", str(runs["toy"]), "--interpolate", "--out", str(tmp_path / "w.gif")]) == 2
    assert "the interpolation grid is a .png" in capsys.readouterr().err
