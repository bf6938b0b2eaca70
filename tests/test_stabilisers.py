"""Stabilisers: WGAN-GP, hinge, R1, spectral norm, critic normalisation, EMA of G, D-step schedule."""

import math

import pytest
import torch
from torch import nn

from gankit.api import make_trainer
from gankit.config import LossConfig, load_preset
from gankit.errors import GankitError
from gankit.generation.sampling import load_generator
from gankit.losses import Objective, gradient_penalty, make_objective, r1_penalty
from gankit.nets import build_networks, count_parameters
from gankit.nets.layers import add_spectral_norm
from gankit.run import RunDir
from gankit.training.ema import EMA

QUIET_IMAGES = ["device=cpu", "eval.every=0", "log.tensorboard=off", "log.progress=off", "speed.amp=off"]

pytestmark = pytest.mark.usefixtures("one_thread")  # tiny networks (fixture in conftest.py)


# ---------------------------------------------------------------- losses on hand-picked scores


def test_wgan_losses_are_differences_of_mean_critic_scores():
    obj = make_objective(LossConfig(kind="wgan-gp"))
    real, fake = torch.tensor([[2.0], [1.0]]), torch.tensor([[-1.0], [3.0]])  # means 1.5 and 1.0
    assert obj.d_loss(real, fake).item() == pytest.approx(1.0 - 1.5)
    assert obj.g_loss(fake).item() == pytest.approx(-1.0)
    assert obj.score(real).tolist() == real.tolist() and obj.threshold == 0.0


def test_hinge_losses():
    obj = make_objective(LossConfig(kind="hinge"))
    real = torch.tensor([[0.5], [2.0]])  # relu(1 - r): 0.5, 0   -> mean 0.25
    fake = torch.tensor([[-3.0], [0.5]])  # relu(1 + f): 0, 1.5  -> mean 0.75
    assert obj.d_loss(real, fake).item() == pytest.approx(0.25 + 0.75)
    assert obj.g_loss(fake).item() == pytest.approx(-(-3.0 + 0.5) / 2)
    assert obj.threshold == 0.0
    # accuracy counts a real sample as recognised when its score is above 0
    assert ((obj.score(real) > obj.threshold).float().mean()).item() == 1.0


def test_existing_losses_have_no_penalty_and_unknown_kind_is_an_error():
    d = nn.Linear(2, 1)
    x = torch.randn(4, 2)
    assert make_objective(LossConfig(kind="bce")).penalty(d, x, x) is None
    with pytest.raises(GankitError, match="wgan-gp"):
        make_objective(LossConfig(kind="wgan"))
    with pytest.raises(GankitError, match="loss.kind"):
        load_preset("ring-2d", ["loss.kind=wgan"])


# ---------------------------------------------------------------- gradient penalties by hand


def _linear_critic(w):
    d = nn.Linear(len(w), 1)
    with torch.no_grad():
        d.weight.copy_(torch.tensor([w]))
        d.bias.fill_(0.7)
    return d


def test_gradient_penalty_on_a_linear_critic_equals_the_hand_computation():
    # D(x) = w.x + b has gradient w everywhere, so GP = (|w| - 1)^2 whatever the interpolates
    d = _linear_critic([3.0, 4.0])
    real, fake = torch.randn(8, 2), torch.randn(8, 2)
    assert gradient_penalty(d, real, fake).item() == pytest.approx((5.0 - 1.0) ** 2)
    obj = Objective("wgan-gp", gp_weight=10.0)
    assert obj.penalty(d, real, fake).item() == pytest.approx(160.0)
    # the penalty trains D: d/dw (|w| - 1)^2 = 2 (|w| - 1) w / |w|
    obj.penalty(d, real, fake).backward()
    assert d.weight.grad.tolist()[0] == pytest.approx([10 * 2 * 4 * 3 / 5, 10 * 2 * 4 * 4 / 5])


def test_gradient_penalty_uses_per_sample_gradients_of_a_nonlinear_critic():
    # D(x) = sum(x^2): grad = 2 x_hat; check against interpolates drawn with the same RNG state
    class Square(nn.Module):
        def forward(self, x):
            return x.pow(2).sum(1, keepdim=True)

    real, fake = torch.randn(6, 3), torch.randn(6, 3)
    torch.manual_seed(5)
    gp = gradient_penalty(Square(), real, fake)
    torch.manual_seed(5)
    eps = torch.rand(6, 1)
    x_hat = eps * real + (1 - eps) * fake
    want = ((2 * x_hat).norm(dim=1) - 1).pow(2).mean()
    assert gp.item() == pytest.approx(want.item(), rel=1e-5)


def test_r1_penalty_on_real_samples():
    d = _linear_critic([1.0, 2.0])  # |grad|^2 = 5
    real = torch.randn(4, 2)  # requires_grad is False: the penalty must make its own leaf
    assert r1_penalty(d, real).item() == pytest.approx(5.0)
    obj = make_objective(LossConfig(kind="hinge", r1_gamma=2.0))
    assert obj.penalty(d, real, torch.randn(4, 2)).item() == pytest.approx(0.5 * 2.0 * 5.0)
    assert not real.requires_grad


# ---------------------------------------------------------------- spectral norm, critic norm


def test_spectral_norm_layers_have_unit_spectral_norm():
    torch.manual_seed(0)
    d = add_spectral_norm(nn.Sequential(nn.Linear(16, 32), nn.ReLU(), nn.Linear(32, 1)))
    d.train()
    for _ in range(30):  # each training forward runs one power iteration
        d(torch.randn(4, 16))
    d.eval()
    for layer in (d[0], d[2]):
        sigma = torch.linalg.matrix_norm(layer.weight.detach(), ord=2).item()
        assert sigma == pytest.approx(1.0, abs=1e-3)


def test_spectral_norm_and_critic_norm_settings_build_the_discriminator():
    cfg = load_preset("dcgan-mnist32", ["model.spectral_norm=true", "model.d_norm=layer"])
    g, d = build_networks(cfg.model, (1, 32, 32))
    assert count_parameters(g) == 1_049_985 and count_parameters(d) == 98_113  # same counts as the seed
    assert not any(isinstance(m, nn.BatchNorm2d) for m in d.modules())
    convs = [m for m in d.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    assert convs and all(hasattr(m, "parametrizations") for m in convs)
    _, d_none = build_networks(load_preset("dcgan-mnist32", ["model.d_norm=none"]).model, (1, 32, 32))
    assert not any(isinstance(m, (nn.BatchNorm2d, nn.GroupNorm)) for m in d_none.modules())
    with pytest.raises(GankitError, match="d_norm"):
        load_preset("dcgan-mnist32", ["model.d_norm=instance"])
    with pytest.raises(GankitError, match="DCGAN"):
        build_networks(load_preset("ring-2d", ["model.d_norm=layer"]).model, (2,))


# ---------------------------------------------------------------- EMA


def _bn_net():
    return nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4))


def test_ema_with_decay_zero_equals_the_weights_and_copies_buffers():
    net = _bn_net()
    ema = EMA(net, 0.0)
    with torch.no_grad():
        net[0].weight.add_(1.0)
    net.train()(torch.randn(8, 3))  # moves the running statistics
    ema.update(net)
    for a, b in zip(ema.module.state_dict().values(), net.state_dict().values()):
        assert torch.equal(a, b)


def test_ema_lags_the_weights_with_its_ramped_decay():
    net = nn.Linear(1, 1, bias=False)
    with torch.no_grad():
        net.weight.fill_(0.0)
    ema = EMA(net, 0.9)
    decays = []
    for _ in range(100):  # the ramp (1 + n) / (10 + n) reaches 0.9 at n = 80
        with torch.no_grad():
            net.weight.fill_(1.0)
        decays.append(ema.current_decay())
        ema.update(net)
    assert decays[0] == pytest.approx(2 / 11) and decays[-1] == pytest.approx(0.9)
    want = 1 - math.prod(decays)  # average of a step from 0 to 1
    assert ema.module.weight.item() == pytest.approx(want, rel=1e-5)
    assert 0 < ema.module.weight.item() < 1  # lags


def test_recomputed_statistics_are_the_averages_own_and_copied_ones_are_gs():
    torch.manual_seed(0)
    net = _bn_net()
    batches = [(torch.randn(16, 3),) for _ in range(3)]
    own, copied = EMA(net, 0.5, norm_inputs=lambda: iter(batches)), EMA(net, 0.5)
    for _ in range(3):
        with torch.no_grad():
            net[0].weight.add_(0.5)  # G moves on; the average lags it
        net.train()(torch.randn(8, 3))  # and so do G's running statistics
        own.update(net)
        copied.update(net)
    assert torch.equal(copied.module[1].running_mean, net[1].running_mean)
    sampler = own.sampler()
    with torch.no_grad():  # the average's pre-norm activations over the given batches, by hand
        h = [sampler[0](x) for (x,) in batches]
    want_mean = torch.stack([b.mean(0) for b in h]).mean(0)
    want_var = torch.stack([b.var(0) for b in h]).mean(0)  # per batch unbiased, then averaged
    assert torch.allclose(sampler[1].running_mean, want_mean, atol=1e-6)
    assert torch.allclose(sampler[1].running_var, want_var, atol=1e-6)
    assert not torch.allclose(sampler[1].running_mean, net[1].running_mean)
    assert sampler[1].momentum == net[1].momentum and not sampler.training  # left as it was
    assert torch.equal(own.module[0].weight, copied.module[0].weight)  # the weights average alike


def test_recomputed_statistics_leave_training_unchanged_and_reach_the_checkpoint(tmp_path, data_root):
    sets = ["train.steps=3", "train.batch_size=8", "train.log_every=1", "train.ema=0.9", *QUIET_IMAGES]
    runs = {}
    for mode in ("copy", "recompute"):
        run = RunDir.create(mode, tmp_path / mode)
        trainer = make_trainer(load_preset("dcgan-mnist32", [*sets, f"train.ema_bn_stats={mode}"]), run, data_root)
        trainer.fit()
        runs[mode] = run.load_checkpoint()
    copy_state, own_state = runs["copy"], runs["recompute"]
    for net in ("g", "d"):  # the setting touches the average's statistics alone, never what trains
        assert all(torch.equal(copy_state[net][k], own_state[net][k]) for k in copy_state[net])
    stats = [k for k in own_state["g_ema"] if k.endswith("running_mean")]
    assert stats
    assert all(torch.equal(copy_state["g_ema"][k], copy_state["g"][k]) for k in stats)  # copy: G's
    assert not any(torch.equal(own_state["g_ema"][k], own_state["g"][k]) for k in stats)  # its own
    g, _ = load_generator(tmp_path / "recompute")  # sampling reads the average with its own statistics
    assert all(torch.equal(g.state_dict()[k], own_state["g_ema"][k]) for k in stats)
    with pytest.raises(GankitError, match="keeps none; set train.ema"):
        load_preset("dcgan-mnist32", ["train.ema_bn_stats=recompute"])


def test_checkpoint_round_trip_keeps_the_moving_average(tmp_path):
    cfg = load_preset("ring-2d", ["train.steps=6", "train.log_every=3", "train.ema=0.99", "data.size=4096"])
    run = RunDir.create("ema", tmp_path / "run")
    trainer = make_trainer(cfg, run, progress=False)
    trainer.fit()
    ema_w = [p.clone() for p in trainer.g_ema.module.parameters()]
    g_w = [p.detach().clone() for p in trainer.G.parameters()]
    assert any(not torch.equal(a, b) for a, b in zip(ema_w, g_w))  # the average lags G
    state = run.load_checkpoint()
    assert state["ema_updates"] == 6
    again = make_trainer(cfg, run, progress=False)
    again.load_state_dict(state)
    assert all(torch.equal(a, b) for a, b in zip(ema_w, again.g_ema.module.parameters()))
    assert again.g_ema.updates == 6
    g, _ = load_generator(run.path)  # sampling prefers the moving average
    assert all(torch.equal(a, b) for a, b in zip(ema_w, g.parameters()))
    z = trainer.fixed_noise[:5]
    assert torch.allclose(trainer.generate(z), trainer.g_ema.module(z))
    assert torch.allclose(trainer.generate(z, ema=False), trainer.G.eval()(z))  # the trained G itself


# ---------------------------------------------------------------- lr ratio and D-step schedule


def test_lr_ratio_sets_the_discriminator_learning_rate():
    cfg = load_preset("ring-2d", ["optim.d_lr_ratio=4", "optim.g.lr=1e-4", "data.size=4096"])
    trainer = make_trainer(cfg, progress=False)
    assert trainer.opt_d.param_groups[0]["lr"] == pytest.approx(4e-4)
    with pytest.raises(GankitError, match="d_lr_ratio"):
        load_preset("ring-2d", ["optim.d_lr_ratio=-1"])


def test_d_step_schedule_front_loads_critic_steps():
    # 4096 / 256 = 16 batches an epoch; 4 D steps for the first 3 G steps, then 1
    cfg = load_preset(
        "ring-2d",
        [
            "data.size=4096",
            "train.epochs=2",
            "train.d_steps_start=4",
            "train.d_steps_start_for=3",
            "train.log_every=1000",
        ],
    )
    trainer = make_trainer(cfg, progress=False)
    assert [trainer.d_steps_at(s) for s in range(5)] == [4, 4, 4, 1, 1]
    assert trainer.total_steps == 3 + (16 - 12) + 16
    trainer.fit()
    assert trainer.pos.step == trainer.total_steps == 23
    assert trainer.pos.epoch == 2
    with pytest.raises(GankitError, match="d_steps_start_for"):
        load_preset("ring-2d", ["train.d_steps_start=100"])


# ---------------------------------------------------------------- presets


def test_wgangp_preset_trains_a_few_steps_on_mnist(data_root, tmp_path):
    cfg = load_preset(
        "dcgan-mnist32-wgangp", ["train.steps=2", "train.log_every=1", "train.batch_size=16", "device=cpu"]
    )
    assert cfg.loss.kind == "wgan-gp" and cfg.train.d_steps == 5 and cfg.model.d_norm == "layer"
    run = RunDir.create("wgangp", tmp_path / "run")
    trainer = make_trainer(cfg, run, data_root=data_root, progress=False)
    assert not any(isinstance(m, nn.BatchNorm2d) for m in trainer.D.modules())
    assert count_parameters(trainer.D) == 98_113
    trainer.fit()
    stats = run.read_stats()
    assert len(stats) == 2 and all(math.isfinite(r["d_loss"]) and math.isfinite(r["g_loss"]) for r in stats)
    assert trainer.g_ema.updates == 2


def _ring_modes(preset: str, seed: int, overrides: list[str]) -> dict:
    from gankit.metrics.toy import mode_stats

    cfg = load_preset(preset, [f"seed={seed}", "train.log_every=1000", *overrides])
    trainer = make_trainer(cfg, progress=False)
    trainer.fit()
    z = trainer.noise(2000, torch.Generator().manual_seed(1234))
    return mode_stats(trainer.generate(z).cpu(), trainer.dataset.distribution)


def test_ring_stable_preset_covers_all_modes_quickly():
    # seed 2 is the seed on which plain ring-2d collapses to one mode (see the slow test below)
    stats = _ring_modes("ring-2d-stable", 2, ["train.steps=500"])
    assert stats["modes"] == 8 and stats["hq"] > 0.15


@pytest.mark.slow
def test_plain_ring_collapses_where_the_stable_preset_covers_all_modes():
    plain = _ring_modes("ring-2d", 2, [])
    stable = _ring_modes("ring-2d-stable", 2, [])
    assert plain["modes"] <= 4
    assert stable["modes"] == 8 and stable["hq"] > 0.8 and stable["mode_kl"] < 0.05
