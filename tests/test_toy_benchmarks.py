"""The published mode-coverage sets (PacGAN's ring and grid), their metrics, and PacGAN packing."""

from __future__ import annotations

import math

import pytest
import torch

from gankit.config import load_preset
from gankit.data.toy import TOY_SETS, grid_2d, ring_pacgan
from gankit.errors import GankitError
from gankit.metrics import mode_stats
from gankit.nets import build_networks
from gankit.nets.layers import Packed


def test_published_ring_and_grid_have_the_papers_modes():
    ring = ring_pacgan()
    assert ring.std == 0.01 and len(ring.means) == 8
    assert all(math.hypot(*m) == pytest.approx(1.0) for m in ring.means)
    assert ring.means[2] == pytest.approx((0.0, 1.0), abs=1e-12)
    grid = grid_2d()
    assert grid.std == 0.05
    assert sorted(grid.means) == [(float(x), float(y)) for x in (-4, -2, 0, 2, 4) for y in (-4, -2, 0, 2, 4)]
    assert TOY_SETS["ring-pacgan"]().means == ring.means


def test_mode_kl_is_the_reverse_kl_of_the_generated_histogram():
    # half the samples on mode 0, a quarter on modes 1 and 2: KL(p || uniform over 8) = sum p log(8 p)
    dist = ring_pacgan()
    means = torch.tensor(dist.means)
    x = torch.cat([means[0].repeat(50, 1), means[1].repeat(25, 1), means[2].repeat(25, 1)])
    want = 0.5 * math.log(8 * 0.5) + 2 * 0.25 * math.log(8 * 0.25)
    m = mode_stats(x, dist)
    assert m["modes"] == 3 and m["hq"] == 1.0
    assert m["mode_kl"] == pytest.approx(want)  # finite: the forward KL would be infinite here


def test_high_quality_is_three_std_of_the_nearest_mode():
    dist = ring_pacgan()
    centre = torch.tensor(dist.means[0])
    inside = centre + torch.tensor([2.9 * dist.std, 0.0])
    outside = centre + torch.tensor([0.0, 3.1 * dist.std])
    m = mode_stats(torch.stack([inside, outside]), dist)
    assert m["hq"] == 0.5 and m["modes"] == 1


@pytest.mark.parametrize(
    "preset,pack,data",
    [
        ("ring-pacgan", 1, "ring-pacgan"),
        ("ring-pacgan2", 2, "ring-pacgan"),
        ("grid-25", 1, "grid-2d"),
        ("grid-25-pacgan4", 4, "grid-2d"),
    ],
)
def test_benchmark_presets(preset, pack, data):
    cfg = load_preset(preset)
    assert (cfg.model.d_pack, cfg.data.name, cfg.eval.n) == (pack, data, 2500)


def test_packed_discriminator_scores_consecutive_samples_concatenated():
    cfg = load_preset("ring-pacgan", ["model.d_pack=2"])
    torch.manual_seed(0)
    _, d = build_networks(cfg.model, (2,))
    assert isinstance(d, Packed) and d.inner.net[1].in_features == 4
    x = torch.randn(6, 2)
    out = d(x)
    assert out.shape == (3, 1)
    assert torch.equal(out, d.inner(torch.cat([x[0::2], x[1::2]], dim=1)))
    with pytest.raises(GankitError, match="packs of model.d_pack = 2"):
        d(torch.randn(5, 2))


def test_packing_stacks_images_along_the_channels():
    cfg = load_preset("dcgan-mnist32", ["model.d_pack=4"])
    _, d = build_networks(cfg.model, (1, 32, 32))
    assert d.inner.net[0].in_channels == 4
    x = torch.randn(8, 1, 32, 32)
    d.eval()
    assert d(x).shape == (2, 1)
    assert torch.equal(d(x), d.inner(x.view(2, 4, 32, 32)))


def test_no_packing_builds_the_networks_as_before():
    cfg = load_preset("ring-2d")
    assert cfg.model.d_pack == 1
    torch.manual_seed(0)
    _, d = build_networks(cfg.model, (2,))
    assert not isinstance(d, Packed) and d.net[1].in_features == 2


def test_batch_size_must_be_a_multiple_of_the_pack():
    with pytest.raises(GankitError, match=r"train.batch_size \(250\) must be a multiple of 4"):
        load_preset("grid-25-pacgan4", ["train.batch_size=250"])
    with pytest.raises(GankitError, match="choose one way"):
        load_preset("ring-pacgan2", ["model.d_group=2"])
    with pytest.raises(GankitError, match="model.d_pack must be at least 1"):
        load_preset("ring-pacgan", ["model.d_pack=0"])


def test_packed_gan_trains_with_a_gradient_penalty(one_thread):
    from gankit.api import make_trainer

    cfg = load_preset(
        "ring-pacgan2",
        [
            "train.steps=3",
            "train.log_every=1",
            "data.size=1024",
            "loss.r1_gamma=1.0",
            "eval.every=0",
            "log.tensorboard=off",
        ],
    )
    trainer = make_trainer(cfg, progress=False)
    penalty = trainer.objective.penalty(trainer.D, torch.randn(8, 2), torch.randn(8, 2))
    assert penalty.ndim == 0 and penalty > 0
    trainer.fit()
    assert trainer.pos.step == 3
    assert all(torch.isfinite(p).all() for p in trainer.D.parameters())
