"""LeCam regularisation (loss.lecam): the penalty is the paper's formula on D's outputs, its moving
averages start at the first batch and decay as asked, it changes how D trains, a resumed run
continues the averages exactly, and bad settings are refused."""

from __future__ import annotations

import pytest
import torch
from tiny import IMAGES, tiny_images

from gankit.api import make_trainer
from gankit.config import load_preset
from gankit.errors import GankitError
from gankit.training.lecam import LeCam


def _trainer(steps, extra=()):
    cfg = load_preset("mlp-mnist", [*IMAGES, f"train.steps={steps}", *extra])
    return make_trainer(cfg, None, progress=False, data=tiny_images())


def test_the_penalty_is_the_formula_on_the_moving_averages():
    lc = LeCam(weight=0.5, decay=0.9)
    r1, f1 = torch.tensor([2.0, 4.0]), torch.tensor([-1.0, -3.0])
    first = lc(r1, f1)  # the first batch sets the averages to its means: a_real 3, a_fake -2
    assert lc.anchors.tolist() == pytest.approx([3.0, -2.0])
    want = 0.5 * (((2 + 2) ** 2 + (4 + 2) ** 2) / 2 + ((3 + 1) ** 2 + (3 + 3) ** 2) / 2)
    assert first.item() == pytest.approx(want)
    r2, f2 = torch.tensor([0.0, 0.0]), torch.tensor([5.0, 5.0])
    second = lc(r2, f2)  # a = 0.9 a + 0.1 mean: a_real 2.7, a_fake -1.3
    assert lc.anchors.tolist() == pytest.approx([2.7, -1.3])
    # relu: reals below a_fake and fakes above a_real are not penalised
    assert second.item() == pytest.approx(0.5 * (1.3**2 + 0.0))


def test_the_penalty_has_gradients_on_d_outputs_only():
    lc = LeCam(weight=1.0, decay=0.99)
    real = torch.tensor([1.0, 2.0], requires_grad=True)
    fake = torch.tensor([-1.0, 0.5], requires_grad=True)
    lc(real, fake).backward()
    assert real.grad is not None and fake.grad is not None and not lc.anchors.requires_grad


def test_lecam_changes_how_d_trains(one_thread):
    plain, regularised = _trainer(4), _trainer(4, ["loss.lecam=10"])
    plain.fit()
    regularised.fit()
    assert plain.lecam is None and regularised.lecam is not None
    assert any(
        not torch.equal(a, b) for a, b in zip(plain.D.state_dict().values(), regularised.D.state_dict().values())
    )


def test_resume_continues_the_moving_averages_exactly(one_thread):
    extra = ["loss.lecam=1", "loss.lecam_decay=0.5"]
    whole = _trainer(8, extra)
    whole.fit()
    first = _trainer(5, extra)
    first.fit()
    state = first.state_dict()
    assert "lecam" in state and state["lecam"]["started"]
    second = _trainer(8, extra)
    second.load_state_dict(state)
    second.pos.finished = False
    second.fit()
    assert torch.equal(second.lecam.anchors, whole.lecam.anchors)
    for a, b in zip(whole.D.state_dict().values(), second.D.state_dict().values()):
        assert torch.equal(a, b)
    for a, b in zip(whole.G.state_dict().values(), second.G.state_dict().values()):
        assert torch.equal(a, b)


@pytest.mark.parametrize(
    ("setting", "said"),
    [("loss.lecam=-1", "loss.lecam must be 0 or a positive number"), ("loss.lecam_decay=1", "loss.lecam_decay")],
)
def test_bad_settings_are_refused(setting, said):
    with pytest.raises(GankitError, match=said):
        load_preset("mlp-mnist", [setting])
