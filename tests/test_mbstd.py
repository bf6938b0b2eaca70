"""model.d_mbstd: D's minibatch standard deviation channel. It is the spread of the features over
each group of samples, so D can tell a batch of copies from a varied one; it is built into the
DCGAN discriminators only when asked, and bad settings are refused."""

from __future__ import annotations

import pytest
import torch

from gankit.config import load_preset
from gankit.errors import GankitError
from gankit.nets import build_networks, count_parameters
from gankit.nets.layers import MinibatchStd


def test_the_channel_is_the_groups_standard_deviation():
    x = torch.randn(8, 3, 2, 2)
    out = MinibatchStd(4)(x)
    assert out.shape == (8, 4, 2, 2) and torch.equal(out[:, :3], x)
    members = x[[1, 3, 5, 7]]  # sample 1's group: every second sample (StyleGAN's grouping)
    want = (members.var(dim=0, unbiased=False) + 1e-8).sqrt().mean()
    assert out[1, 3].flatten().tolist() == pytest.approx([want.item()] * 4, rel=1e-5)
    assert out[3, 3, 0, 0].item() == pytest.approx(want.item(), rel=1e-5)


def test_copies_give_zero_and_odd_batches_are_grouped_by_a_divisor():
    copies = torch.randn(1, 2, 3, 3).expand(6, 2, 3, 3)
    assert MinibatchStd(4)(copies)[:, 2].abs().max() < 1e-3  # 6 samples: groups of 3
    assert MinibatchStd(4)(torch.randn(7, 2, 3, 3)).shape == (7, 3, 3, 3)  # prime: groups of 1


@pytest.mark.parametrize(("preset", "extra"), [("dcgan-mnist32-modern", []), ("dcgan-rgb", ["data.resolution=64"])])
def test_d_gets_the_channel_only_when_asked(preset, extra):
    plain = load_preset(preset, extra)
    asked = load_preset(preset, [*extra, "model.d_mbstd=4"])
    c, r = (1, 32) if preset.startswith("dcgan-mnist") else (3, 64)
    _, d_plain = build_networks(plain.model, (c, r, r))
    _, d_asked = build_networks(asked.model, (c, r, r))
    assert not any(isinstance(m, MinibatchStd) for m in d_plain.modules())
    assert sum(isinstance(m, MinibatchStd) for m in d_asked.modules()) == 1
    assert count_parameters(d_asked) > count_parameters(d_plain)  # the last layer reads one more channel
    x = torch.randn(8, c, r, r)
    assert d_asked(x).shape == (8, 1)
    # D's verdict on a sample now depends on the others in its group
    y = x.clone()
    y[4:] = x[0]
    assert not torch.allclose(d_asked(x)[0], d_asked(y)[0])


@pytest.mark.parametrize(
    ("preset", "setting", "said"),
    [
        ("dcgan-mnist32", "model.d_mbstd=1", "0 \\(off\\) or at least 2"),
        ("mlp-mnist", "model.d_mbstd=4", "applies to the dcgan-upsample and dcgan discriminators"),
    ],
)
def test_bad_settings_are_refused(preset, setting, said):
    with pytest.raises(GankitError, match=said):
        load_preset(preset, [setting])
