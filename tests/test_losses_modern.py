"""The modern losses and remedies (issue 17): RpGAN against its formula, R2 on generated samples,
feature matching on D's features, a perceptual loss refused clearly, D/G width multipliers, and
G pausing while D's accuracy is below a bound."""

from __future__ import annotations

import math

import pytest
import torch
from tiny import tiny_config

from gankit.api import make_trainer
from gankit.config import load_preset
from gankit.errors import GankitError
from gankit.losses import LOSSES, Objective, feature_matching, r2_penalty
from gankit.nets import build_networks, count_parameters


def _softplus_by_hand(t):
    return [math.log(1 + math.exp(v)) for v in t]


def test_rpgan_matches_its_formula_pair_by_pair():
    real, fake = torch.tensor([[2.0], [-1.0], [0.5]]), torch.tensor([[1.0], [0.0], [3.0]])
    obj = Objective("rpgan")
    d_want = sum(_softplus_by_hand([f - r for r, f in zip(real.flatten().tolist(), fake.flatten().tolist())])) / 3
    g_want = sum(_softplus_by_hand([r - f for r, f in zip(real.flatten().tolist(), fake.flatten().tolist())])) / 3
    assert obj.d_loss(real, fake).item() == pytest.approx(d_want, rel=1e-6)
    assert obj.g_loss(fake, real).item() == pytest.approx(g_want, rel=1e-6)
    assert LOSSES["rpgan"].g_needs_real and LOSSES["rpgan"].critic


def test_rpgan_sees_only_differences_so_its_verdicts_are_relative():
    real, fake = torch.tensor([[5.0], [6.0]]), torch.tensor([[3.0], [4.0]])
    obj = Objective("rpgan")
    shifted = obj.d_loss(real + 100, fake + 100)
    assert shifted.item() == pytest.approx(obj.d_loss(real, fake).item())
    # all scores positive, yet D separates the two sets: accuracy 1 at the batch midpoint, not 0.5 at 0
    assert obj.accuracy(real + 100, fake + 100).item() == 1.0
    assert Objective("hinge").accuracy(real, fake).item() == 0.5


def test_r2_is_the_squared_input_gradient_on_generated_samples():
    w = torch.tensor([1.0, -2.0, 3.0])
    d = torch.nn.Linear(3, 1, bias=False)
    with torch.no_grad():
        d.weight.copy_(w)
    fake = torch.randn(5, 3)
    assert r2_penalty(d, fake).item() == pytest.approx(14.0)  # |w|^2 for a linear D
    obj = Objective("rpgan", r2_gamma=2.0)
    real = torch.randn(5, 3)
    assert obj.penalty(d, real, fake).item() == pytest.approx(14.0)  # gamma/2 * R2
    assert Objective("rpgan", r1_gamma=2.0, r2_gamma=2.0).penalty(d, real, fake).item() == pytest.approx(28.0)


def test_r2_gamma_changes_training(one_thread):
    def weights(extra):
        t = make_trainer(tiny_config(["loss.kind=rpgan", "loss.r1_gamma=1", *extra]), None, progress=False)
        t.fit()
        return t.D.state_dict()

    a, b = weights([]), weights(["loss.r2_gamma=10"])
    assert any(not torch.equal(a[k], b[k]) for k in a)


def test_feature_matching_matches_the_mean_features_by_hand():
    cfg = load_preset("mlp-mnist")
    _, d = build_networks(cfg.model, (1, 28, 28))
    real, fake = torch.rand(6, 1, 28, 28), torch.rand(6, 1, 28, 28)
    f = d.features
    want = (f(real).mean(0) - f(fake).mean(0)).pow(2).sum()
    assert f(real).shape == (6, 128)
    assert feature_matching(d, real, fake).item() == pytest.approx(want.item(), rel=1e-5)


def test_feature_matching_trains_g_differently_and_needs_features(one_thread):
    def g_weights(extra):
        t = make_trainer(tiny_config(extra), None, progress=False)
        t.fit()
        return t.G.state_dict()

    a, b = g_weights([]), g_weights(["loss.feature_matching=1"])
    assert any(not torch.equal(a[k], b[k]) for k in a)

    class NoFeatures(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = torch.nn.Linear(2, 1)

        def forward(self, x):
            return self.lin(x)

    with pytest.raises(GankitError, match="features"):
        make_trainer(tiny_config(["loss.feature_matching=1"]), None, progress=False, D=NoFeatures())


def test_a_perceptual_loss_is_refused_with_the_alternative():
    with pytest.raises(GankitError, match="loss.feature_matching"):
        load_preset("dcgan-mnist32", ["loss.perceptual=vgg"])


@pytest.mark.parametrize(
    "preset,shape", [("dcgan-mnist32", (1, 32, 32)), ("dcgan-mnist", (1, 28, 28)), ("dcgan-rgb", (3, 64, 64))]
)
def test_width_multipliers_scale_the_dcgan_families(preset, shape):
    over = ["data.resolution=64"] if preset == "dcgan-rgb" else []
    g1, d1 = build_networks(load_preset(preset, over).model, shape)
    g2, d2 = build_networks(load_preset(preset, [*over, "model.d_width=2", "model.g_width=0.5"]).model, shape)
    assert count_parameters(d2) > 2.5 * count_parameters(d1)
    assert count_parameters(g2) < 0.6 * count_parameters(g1)
    assert d2(torch.zeros(2, *shape)).shape == (2, 1) and g2(torch.zeros(2, g2_latent(preset))).shape[1:] == shape
    assert d2.features(torch.zeros(2, *shape)).dim() == 2


def g2_latent(preset):
    return load_preset(preset).model.latent_dim


def test_width_multipliers_are_for_the_dcgan_families():
    with pytest.raises(GankitError, match="DCGAN families"):
        load_preset("mlp-mnist", ["model.d_width=2"])
    with pytest.raises(GankitError, match="model.g_width"):
        load_preset("dcgan-mnist32", ["model.g_width=0"])


def test_g_waits_while_d_accuracy_is_below_the_bound(one_thread, tmp_path):
    from gankit.run import RunDir

    # the tiny run logs every 2 steps; D's accuracy is far below 0.99, so G trains the first 2 steps only
    run = RunDir.create("pause", tmp_path / "run")
    paused = make_trainer(tiny_config(["train.g_pause_below=0.99"]), run, progress=False)
    paused.fit()
    two = make_trainer(tiny_config(["train.steps=2"]), None, progress=False)
    two.fit()
    for k, v in two.G.state_dict().items():
        assert torch.equal(v, paused.G.state_dict()[k])
    assert [r["g_paused"] for r in run.read_stats()] == [0.0, 1.0]
    assert paused.state_dict()["g_paused"] is True
    with pytest.raises(GankitError, match="g_pause_below"):
        load_preset("ring-2d", ["train.g_pause_below=1.5"])
