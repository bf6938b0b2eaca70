"""The basic losses on hand-picked logits."""

import math

import pytest
import torch

from gankit.config import LossConfig
from gankit.losses import make_objective


def test_bce_losses_match_the_value_function():
    obj = make_objective(LossConfig(kind="bce"))
    real, fake = torch.tensor([[2.0]]), torch.tensor([[-1.0]])
    d_real, d_fake = torch.sigmoid(real).item(), torch.sigmoid(fake).item()
    # D descends -(log D(x) + log(1 - D(G(z))))
    assert obj.d_loss(real, fake).item() == pytest.approx(-(math.log(d_real) + math.log(1 - d_fake)), rel=1e-6)
    # non-saturating G descends -log D(G(z))
    assert obj.g_loss(fake).item() == pytest.approx(-math.log(d_fake), rel=1e-6)


def test_minimax_generator_descends_log_one_minus_d():
    obj = make_objective(LossConfig(kind="bce", g_form="minimax"))
    fake = torch.tensor([[0.5]])
    assert obj.g_loss(fake).item() == pytest.approx(math.log(1 - torch.sigmoid(fake).item()), rel=1e-6)


def test_label_smoothing_and_mean_reduction():
    obj = make_objective(LossConfig(kind="bce", real_target=0.9, fake_target=0.1, d_reduction="mean"))
    real, fake = torch.tensor([[1.0]]), torch.tensor([[-1.0]])
    p, q = torch.sigmoid(real).item(), torch.sigmoid(fake).item()
    lr = -(0.9 * math.log(p) + 0.1 * math.log(1 - p))
    lf = -(0.1 * math.log(q) + 0.9 * math.log(1 - q))
    assert obj.d_loss(real, fake).item() == pytest.approx((lr + lf) / 2, rel=1e-6)


def test_least_squares():
    obj = make_objective(LossConfig(kind="lsgan"))
    real, fake = torch.tensor([[0.5], [1.5]]), torch.tensor([[0.25]])
    assert obj.d_loss(real, fake).item() == pytest.approx((0.25 + 0.25) / 2 + 0.0625)
    assert obj.g_loss(fake).item() == pytest.approx(0.5625)
    assert obj.score(real).tolist() == real.tolist()  # raw outputs are reported for least squares
