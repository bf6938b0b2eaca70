"""Stacked MNIST: the data (three independent MNIST digits in the channels, deterministic from the
seed), its mode metric (the MNIST classifier per channel, KL of the 1,000-mode histogram from
uniform) against an independent reference and its floor, and its presets."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from scipy.stats import entropy

from gankit.api import make_trainer
from gankit.callbacks import EvalCallback
from gankit.config import load_preset
from gankit.data import load_dataset, sample_shape
from gankit.data.stacked import stack_digits
from gankit.errors import GankitError
from gankit.metrics import parse_metrics
from gankit.metrics.evaluate import Evaluator, read_records
from gankit.metrics.stacked import expected_modes, mode_ids, stacked_modes
from gankit.run import RunDir

torch.set_num_threads(1)


def test_stacking_draws_three_digits_per_sample_and_names_their_mode():
    # digit k is an image filled with k, labelled k % 10: the channels say which digits were drawn
    images = torch.arange(50, dtype=torch.uint8)[:, None, None, None].expand(50, 1, 4, 4).contiguous()
    labels = torch.arange(50) % 10
    stacked, modes = stack_digits(images, labels, 2000, seed=3)
    assert stacked.shape == (2000, 3, 4, 4) and stacked.dtype == torch.uint8
    drawn = stacked[:, :, 0, 0].long()  # (n, 3) indices of the digits
    assert torch.equal(stacked, drawn[:, :, None, None].expand(-1, -1, 4, 4).to(torch.uint8))
    d = drawn % 10
    assert torch.equal(modes, 100 * d[:, 0] + 10 * d[:, 1] + d[:, 2])
    # the channels are drawn independently: every channel uses every digit, and pairs differ
    assert all(len(drawn[:, c].unique()) == 50 for c in range(3))
    assert (drawn[:, 0] != drawn[:, 1]).float().mean() > 0.9
    again, _ = stack_digits(images, labels, 2000, seed=3)
    other, _ = stack_digits(images, labels, 2000, seed=4)
    assert torch.equal(stacked, again) and not torch.equal(stacked, other)


def test_stacked_mnist_is_built_from_the_real_digits(data_root):
    cfg = load_preset("stacked-mnist", ["data.size=3000"])
    ds = load_dataset(cfg.data, data_root, seed=0)
    assert ds.data.shape == (3000, 3, 32, 32) == (3000, *sample_shape(cfg.data))
    assert ds.data.dtype == torch.uint8
    assert torch.equal(ds.data, load_dataset(cfg.data, data_root, seed=0).data)
    assert not torch.equal(ds.data, load_dataset(cfg.data, data_root, seed=1).data)
    mnist = load_dataset(load_preset("dcgan-mnist32").data, data_root)
    # every channel is one MNIST training digit, and the mode id names its label
    first = ds.data[0]
    for c, digit in enumerate((int(ds.labels[0]) // 100, int(ds.labels[0]) // 10 % 10, int(ds.labels[0]) % 10)):
        same = (mnist.data[:, 0] == first[c]).flatten(1).all(1)
        assert same.any() and int(mnist.labels[same][0]) == digit
    assert 0 <= int(ds.labels.min()) and int(ds.labels.max()) < 1000


def test_mode_metric_matches_an_independent_kl_and_scores_collapse():
    rng = np.random.default_rng(0)
    digits = rng.integers(0, 10, size=(5000, 3))
    digits[:1000] = (7, 7, 7)  # one mode over-represented
    logits = np.full((5000, 30), -5.0)
    for c in range(3):
        logits[np.arange(5000), 10 * c + digits[:, c]] = 5.0
    ids = mode_ids(logits)
    assert np.array_equal(ids, digits @ [100, 10, 1])
    counts = np.bincount(ids, minlength=1000)
    got = stacked_modes(logits)
    assert got["modes"] == int((counts > 0).sum())
    assert got["mode_kl"] == pytest.approx(entropy(counts, np.full(1000, 1 / 1000)), rel=1e-9)
    collapsed = np.tile(logits[:1], (300, 1))
    assert stacked_modes(collapsed) == {"modes": 1, "mode_kl": pytest.approx(math.log(1000))}
    with pytest.raises(GankitError, match="30 logits"):
        stacked_modes(np.zeros((4, 10)))


@pytest.mark.slow
def test_real_stacked_mnist_scored_as_generated_is_on_the_floor(data_root):
    cfg = load_preset("stacked-mnist")
    ev = Evaluator(cfg, data_root, n=10_000)
    real = load_dataset(cfg.data, data_root, seed=5).data[:10_000]  # training split, another draw
    got = ev.evaluate(real, ["stacked"])
    # a perfect generator covers 1000 (1 - e^-10) modes of 1,000 on 10,000 samples; the classifier
    # misreads about 1 % of the digits, which costs nothing in modes and a little KL
    assert expected_modes(10_000) > 999.9 and got["modes"] >= 995
    assert got["mode_kl"] < 0.1
    constant = real[:1].repeat(500, 1, 1, 1)  # a collapsed generator: one image
    assert ev.evaluate(constant, ["stacked"]) == {"modes": 1, "mode_kl": pytest.approx(math.log(1000))}


def test_stacked_metrics_are_checked_against_the_data():
    assert parse_metrics("", "image", "stacked-mnist") == ["stacked", "fid"]
    assert "stacked" not in parse_metrics("", "image", "mnist")
    with pytest.raises(GankitError, match="stacked-mnist takes"):
        parse_metrics("is", "image", "stacked-mnist")
    with pytest.raises(GankitError, match="Stacked MNIST"):
        parse_metrics("stacked", "image", "mnist")


@pytest.mark.parametrize(
    "preset,pack", [("stacked-mnist", 1), ("stacked-mnist-pacgan", 2), ("stacked-mnist-modern", 1)]
)
def test_stacked_presets_train_and_report_modes(preset, pack, data_root, tmp_path):
    cfg = load_preset(preset, ["train.steps=2", "train.log_every=1", "device=cpu", "eval.n=200", "data.size=640"])
    assert cfg.model.d_pack == pack
    run = RunDir.create(preset, tmp_path / "run")
    trainer = make_trainer(cfg, run, data_root=data_root, progress=False, callbacks=[EvalCallback(cfg, data_root)])
    trainer.fit()
    assert trainer.generate(trainer.fixed_noise[:4]).shape == (4, 3, 32, 32)
    final = {r["metric"]: r for r in read_records(run.path)}
    assert 1 <= final["modes"]["value"] <= 200 and final["modes"]["feature_net"] == "mnist-classifier-per-channel"
    assert 0 <= final["mode_kl"]["value"] <= math.log(1000) + 1e-9
    assert "fid" in final
