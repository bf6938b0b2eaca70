"""Balanced consistency regularisation (loss.bcr_real / loss.bcr_fake): the penalty is the paper's
formula on D's outputs before and after the transform, each side counts with its own weight, it
changes how D trains (and leaves G's step alone), and bad settings are refused."""

from __future__ import annotations

import pytest
import torch
from tiny import IMAGES, tiny_images
from torch import nn

from gankit.api import make_trainer
from gankit.augment import Augment
from gankit.config import load_preset
from gankit.errors import GankitError
from gankit.training.consistency import ConsistencyRegularization


def _trainer(steps, extra=()):
    cfg = load_preset("mlp-mnist", [*IMAGES, f"train.steps={steps}", *extra])
    return make_trainer(cfg, None, progress=False, data=tiny_images())


class _Shift:
    """A known transform in place of the random one: every image one pixel to the right, zeros in."""

    def __call__(self, x):
        return torch.cat([torch.zeros_like(x[..., :1]), x[..., :-1]], dim=-1)


def test_the_penalty_is_the_formula_on_d_before_and_after_the_transform():
    torch.manual_seed(0)
    D = nn.Sequential(nn.Flatten(), nn.Linear(16, 1))
    real, fake = torch.randn(3, 1, 4, 4), torch.randn(3, 1, 4, 4)
    bcr = ConsistencyRegularization(2.0, 5.0, _Shift())
    real_out, fake_out = D(real), D(fake)
    got = bcr(D, D, real, fake, real_out, fake_out)
    shift = _Shift()
    want = 2.0 * (real_out - D(shift(real))).pow(2).mean() + 5.0 * (fake_out - D(shift(fake))).pow(2).mean()
    assert got.item() == pytest.approx(want.item())
    only_real = ConsistencyRegularization(2.0, 0.0, _Shift())(D, D, real, fake, real_out, fake_out)
    assert only_real.item() == pytest.approx(2.0 * (real_out - D(shift(real))).pow(2).mean().item())


def test_a_d_blind_to_shifts_pays_nothing_and_gradients_reach_d_only():
    D = nn.Sequential(nn.Flatten(), nn.Linear(16, 1))
    nn.init.constant_(D[1].weight, 0.5)  # the sum of the pixels: a shift that moves no mass keeps it
    x = torch.zeros(2, 1, 4, 4)
    x[:, :, 1:3, 1:3] = 1.0  # a square well inside: a one-pixel shift keeps every pixel
    bcr = ConsistencyRegularization(10.0, 10.0, _Shift())
    assert bcr(D, D, x, x, D(x), D(x)).item() == 0.0
    fake = torch.randn(2, 1, 4, 4, requires_grad=True)
    bcr(D, D, x, fake, D(x), D(fake)).backward()
    assert D[1].weight.grad is not None and D[1].weight.grad.abs().sum() > 0


def test_the_default_transform_is_the_runs_translation():
    torch.manual_seed(1)
    x = torch.rand(8, 1, 16, 16)
    moved = Augment("translation", 1.0, translation=0.125)(x)
    assert moved.shape == x.shape and not torch.equal(moved, x)


def test_bcr_changes_how_d_trains(one_thread):
    plain, regularised = _trainer(4), _trainer(4, ["loss.bcr_real=10", "loss.bcr_fake=10"])
    plain.fit()
    regularised.fit()
    assert plain.bcr is None and regularised.bcr is not None
    assert any(
        not torch.equal(a, b) for a, b in zip(plain.D.state_dict().values(), regularised.D.state_dict().values())
    )


def test_each_weight_counts_on_its_own(one_thread):
    real_only, fake_only = _trainer(3, ["loss.bcr_real=10"]), _trainer(3, ["loss.bcr_fake=10"])
    real_only.fit()
    fake_only.fit()
    assert real_only.bcr.fake_weight == 0 and fake_only.bcr.real_weight == 0
    assert any(
        not torch.equal(a, b) for a, b in zip(real_only.D.state_dict().values(), fake_only.D.state_dict().values())
    )


@pytest.mark.parametrize(
    ("setting", "said"),
    [
        (["loss.bcr_real=-1"], "loss.bcr_real must be 0 or a positive number"),
        (["loss.bcr_fake=10", "loss.bcr_policy=transaltion"], "did you mean 'translation'"),
        (["loss.bcr_fake=10", "loss.bcr_policy="], "need image data and a transform"),
    ],
)
def test_bad_settings_are_refused(setting, said):
    with pytest.raises(GankitError, match=said):
        load_preset("mlp-mnist", setting)


def test_toy_sets_are_refused():
    with pytest.raises(GankitError, match="need image data"):
        load_preset("ring-2d", ["loss.bcr_real=1"])
