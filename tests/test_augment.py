"""Augmentation for D (gankit.augment): DiffAugment's ops are differentiable and do what they say,
the policy is checked, an empty policy changes nothing, ADA's p follows r_t, and a resumed run
continues p and its accumulators exactly."""

from __future__ import annotations

import pytest
import torch
from tiny import IMAGES, tiny_images

from gankit.api import make_trainer
from gankit.augment import Augment, ops
from gankit.config import load_preset
from gankit.errors import GankitError


@pytest.mark.parametrize(
    "op", [ops.brightness, ops.saturation, ops.contrast, ops.translation, ops.cutout, ops.geometric]
)
def test_each_op_is_differentiable_and_changes_the_images(op):
    torch.manual_seed(0)
    x = torch.rand(8, 3, 16, 16, requires_grad=True)
    y = op(x)
    assert y.shape == x.shape and not torch.equal(y, x)
    y.sum().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0


def test_translation_shifts_whole_pixels_and_fills_with_zeros():
    torch.manual_seed(1)
    x = torch.zeros(32, 1, 16, 16)
    x[:, :, 8, 8] = 1.0  # one lit pixel in the middle: after a shift of up to 2 px it is still inside
    y = ops.translation(x, ratio=0.125)
    assert torch.equal(y.sum((1, 2, 3)), torch.ones(32))  # moved, not blurred
    where = y[:, 0].flatten(1).argmax(1)
    rows, cols = where // 16, where % 16
    assert (rows - 8).abs().max() <= 2 and (cols - 8).abs().max() <= 2
    assert ((rows != 8) | (cols != 8)).any()
    edge = ops.translation(torch.ones(64, 1, 16, 16), ratio=0.125)
    assert (edge == 0).any()  # what comes in from outside is zero


def test_cutout_zeroes_a_square_of_the_given_side():
    torch.manual_seed(2)
    y = ops.cutout(torch.ones(64, 1, 16, 16), ratio=0.5)
    holes = (y == 0).sum((1, 2, 3))
    assert holes.max() == 64  # 8 x 8 when the square lies inside the image
    assert (holes > 0).all() and (holes <= 64).all()


def test_geometric_rotates_and_zooms_within_its_ranges_and_reflects_the_border():
    torch.manual_seed(3)
    x = torch.rand(16, 3, 16, 16)
    assert torch.allclose(ops.geometric(x, rotation=0.0, scale=0.0), x, atol=1e-5)  # no angle, no zoom: x itself
    bar = torch.zeros(64, 1, 33, 33)
    bar[:, :, 16, 4:29] = 1.0  # a horizontal bar through the centre
    turned = ops.geometric(bar, rotation=30.0, scale=0.0)
    rows = (turned[:, 0] > 0.25).nonzero()[:, 1]
    assert rows.min() >= 16 - 7 and rows.max() <= 16 + 7  # tan(30 deg) * 12 px = 6.9 px off the row at most
    assert (rows != 16).any()  # and it did turn
    reflected = ops.geometric(torch.ones(64, 1, 16, 16), rotation=45.0)
    assert torch.allclose(reflected, torch.ones(()), atol=1e-5)  # reflected: no black corners
    zoomed = ops.geometric(bar, rotation=0.0, scale=0.5)
    widths = (zoomed[:, 0, 16] > 0.5).sum(1).float()
    assert widths.min() < 25 < widths.max()  # zoomed out on some images, in on others


def test_probability_zero_leaves_the_images_alone():
    x = torch.rand(8, 3, 16, 16)
    aug = Augment("geometric,color,translation,cutout", p=0.0)
    assert torch.equal(aug(x), x)
    assert not torch.equal(Augment("color,translation,cutout", p=1.0)(x), x)


def test_an_empty_policy_is_the_identity_and_draws_nothing():
    x = torch.rand(4, 1, 8, 8)
    before = torch.get_rng_state()
    aug = Augment("")
    assert aug(x) is x and not aug.enabled
    aug.observe(torch.ones(4))
    assert torch.equal(torch.get_rng_state(), before)


def test_policy_and_settings_are_checked():
    with pytest.raises(GankitError, match="did you mean 'cutout'"):
        load_preset("mlp-mnist", ["augment.policy=color,cutot"])
    with pytest.raises(GankitError, match="toy set"):
        load_preset("ring-2d", ["augment.policy=color"])
    with pytest.raises(GankitError, match="augment.policy is empty"):
        load_preset("mlp-mnist", ["augment.ada_target=0.6"])
    with pytest.raises(GankitError, match="augment.p"):
        load_preset("mlp-mnist", ["augment.policy=color", "augment.p=1.5"])
    with pytest.raises(GankitError, match="augment.rotation"):
        load_preset("mlp-mnist", ["augment.policy=geometric", "augment.rotation=270"])


def test_ada_raises_p_while_d_is_sure_of_the_reals_and_lowers_it_otherwise():
    aug = Augment("translation", p=0.0, target=0.6, interval=4, images=640)
    for _ in range(4):
        aug.observe(torch.ones(16))  # r_t = 1 > 0.6: D overfits, more augmentation
    assert aug.p.item() == pytest.approx(64 / 640)  # moved by the interval's images / ada_images
    for _ in range(8):
        aug.observe(-torch.ones(16))  # r_t = -1: less
    assert aug.p.item() == 0.0  # clamped at 0
    for _ in range(3):
        aug.observe(torch.ones(16))
    assert aug.p.item() == 0.0  # not before the interval is complete


def _trainer(steps, extra=(), run=None):
    cfg = load_preset(
        "mlp-mnist",
        [
            *IMAGES,
            f"train.steps={steps}",
            "augment.policy=color,translation,cutout",
            "augment.p=0.0",
            "augment.ada_target=0.6",
            "augment.ada_interval=2",
            "augment.ada_images=256",
            "optim.d.lr=3e-2",
            *extra,
        ],
    )
    return make_trainer(cfg, run, progress=False, data=tiny_images())


def test_d_sees_augmented_images_in_training(one_thread):
    torch.manual_seed(0)
    plain = make_trainer(load_preset("mlp-mnist", [*IMAGES, "train.steps=3"]), None, progress=False, data=tiny_images())
    plain.fit()
    fixed = make_trainer(
        load_preset("mlp-mnist", [*IMAGES, "train.steps=3", "augment.policy=translation,cutout"]),
        None,
        progress=False,
        data=tiny_images(),
    )
    fixed.fit()
    assert not torch.equal(plain.D.net[1].weight, fixed.D.net[1].weight)


def test_resume_continues_ada_exactly(one_thread):
    whole = _trainer(8)
    whole.fit()
    assert whole.exp.augment.p.item() > 0  # p moved: the test would not notice a lost state otherwise
    first = _trainer(5)
    first.fit()
    state = first.state_dict()
    assert "augment" in state and state["augment"]["steps"] == 1  # mid-interval: accumulators matter
    second = _trainer(8)
    second.load_state_dict(state)
    second.pos.finished = False
    second.fit()
    assert second.exp.augment.p.item() == whole.exp.augment.p.item()
    for a, b in zip(whole.G.state_dict().values(), second.G.state_dict().values()):
        assert torch.equal(a, b)
    for a, b in zip(whole.D.state_dict().values(), second.D.state_dict().values()):
        assert torch.equal(a, b)


def test_augment_p_is_logged(one_thread, tmp_path):
    from gankit.run import RunDir

    run = RunDir.create("ada", tmp_path / "run")
    _trainer(8, run=run).fit()
    ps = [r["augment_p"] for r in run.read_stats()]
    assert len(ps) == 4 and all(0.0 <= p <= 1.0 for p in ps) and ps[-1] > 0
