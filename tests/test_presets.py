"""Every preset builds the seed's networks (parameter counts from the issue) and trains a few
real steps on CPU."""

from __future__ import annotations

import pytest
import torch

from gankit.api import make_trainer
from gankit.config import load_preset, preset_names
from gankit.data import sample_shape
from gankit.nets import build_networks, count_parameters
from gankit.run import RunDir

COUNTS = {
    ("mlp-mnist", ()): (1_506_000, 1_492_993),
    ("dcgan-mnist", ()): (1_719_617, 79_361),
    ("dcgan-mnist32", ()): (1_049_985, 98_113),
    ("dcgan-rgb", ()): (12_786_560, None),
    ("dcgan-rgb", ("data.resolution=64",)): (3_576_704, None),
}


@pytest.mark.parametrize("preset,overrides", list(COUNTS))
def test_parameter_counts_match_the_seeds(preset, overrides):
    cfg = load_preset(preset, list(overrides))
    g, d = build_networks(cfg.model, sample_shape(cfg.data))
    want_g, want_d = COUNTS[(preset, overrides)]
    assert count_parameters(g) == want_g
    if want_d is not None:
        assert count_parameters(d) == want_d


@pytest.mark.parametrize("preset", ["mlp-mnist", "dcgan-mnist", "dcgan-mnist32"])
def test_image_presets_train_a_few_steps(preset, data_root, tmp_path):
    cfg = load_preset(preset, ["train.steps=3", "train.log_every=1", "device=cpu"])
    run = RunDir.create(preset, tmp_path / "run")
    trainer = make_trainer(cfg, run, data_root=data_root, progress=False)
    before = [p.detach().clone() for p in trainer.G.parameters()]
    trainer.fit()
    stats = run.read_stats()
    assert [s["step"] for s in stats] == [1, 2, 3]
    assert all(torch.isfinite(torch.tensor([s["d_loss"], s["g_loss"]])).all() for s in stats)
    assert any(not torch.equal(a, b) for a, b in zip(before, trainer.G.parameters()))
    side = 32 if preset == "dcgan-mnist32" else 28
    assert trainer.generate(trainer.fixed_noise).shape[1:] == (1, side, side)
    assert (run.path / "samples" / "epoch-0001.png").is_file()
    assert run.checkpoint_path().is_file()


@pytest.mark.parametrize("resolution", [64, 128])
def test_rgb_preset_trains_on_an_image_folder(image_folder, tmp_path, resolution):
    cfg = load_preset(
        "dcgan-rgb",
        [
            f"data.root={image_folder}",
            f"data.resolution={resolution}",
            "train.batch_size=4",
            "train.steps=2",
            "train.log_every=1",
            "device=cpu",
        ],
    )
    run = RunDir.create("dcgan-rgb", tmp_path / "run")
    trainer = make_trainer(cfg, run, progress=False)
    assert len(trainer.dataset) == 24  # the broken file is skipped
    trainer.fit()
    assert trainer.generate(trainer.fixed_noise[:2]).shape == (2, 3, resolution, resolution)
    assert len(run.read_stats()) == 2


@pytest.mark.parametrize("preset", ["ring-2d", "gaussian-1d"])
def test_toy_presets_train_a_few_steps(preset, tmp_path):
    cfg = load_preset(preset, ["train.steps=5", "train.log_every=5"])
    run = RunDir.create(preset, tmp_path / "run")
    make_trainer(cfg, run, progress=False).fit()
    assert (run.path / "samples" / "epoch-0001.png").is_file()
    assert (run.path / "losses.png").is_file()


def test_every_preset_is_listed_and_valid():
    names = preset_names()
    for want in ("gaussian-1d", "mlp-mnist", "dcgan-mnist", "dcgan-mnist32", "dcgan-rgb", "ring-2d"):
        assert want in names
    for name in names:
        assert load_preset(name).description
