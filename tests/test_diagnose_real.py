"""The new findings on real short runs (scripts/diagnosis_table.py runs them longer, over seeds):
partial collapse on the ring and class collapse on MNIST are found, a critic's divergence is
found on its gap, an overfitting D on a small folder; measuring D's outputs changes nothing
that is trained; a penalty on a batch-norm D is refused."""

from __future__ import annotations

import pytest
import torch

from gankit.callbacks.diagnosis import DiagnosisCallback, train_and_diagnose
from gankit.config import load_preset
from gankit.diagnosis.rules import Context
from gankit.errors import GankitError

pytestmark = pytest.mark.usefixtures("one_thread")
COVERAGE = {"mode_collapse", "partial_mode_collapse"}


def test_ring_missing_modes_are_found_with_their_names():
    # plain ring-2d, seed 3: G hops between 3-6 of the 8 modes from step ~800 on (scripts/diagnosis_table.py)
    cb = train_and_diagnose(load_preset("ring-2d", ["seed=3", "train.steps=1300"]))
    found = [f for f in cb.findings() if f.kind in COVERAGE]
    assert found, [f.describe() for f in cb.findings()]
    assert found[-1].evidence["modes_missing"] and "since step" in found[-1].message


def test_mlp_mnist_collapse_is_found_by_the_classifier(data_root):
    cfg = load_preset("mlp-mnist", ["train.steps=400", "train.log_every=40"])
    cb = train_and_diagnose(cfg, data_root)
    f = next(f for f in cb.findings() if f.kind in COVERAGE)
    assert f.evidence["classes_total"] == 10 and len(f.evidence["classes_missing"]) >= 5
    assert "classes_covered" in cb.diagnoser.last and "overfit_rv" in cb.diagnoser.last


def test_critic_divergence_is_found_on_its_gap_and_gradients():
    cfg = load_preset(
        "ring-2d",
        [
            "loss.kind=wgan-gp",
            "optim.g.lr=0.5",
            "optim.d.lr=0.5",
            "train.steps=200",
            "train.log_every=10",
            "data.size=8192",
        ],
    )
    assert "divergence" in train_and_diagnose(cfg).detected


def test_measuring_d_changes_nothing_that_is_trained(data_root):
    """A batch-norm D with dropout, measured at every step: weights and buffers bitwise as without."""
    from gankit.training.experiment import build
    from gankit.training.loop import Trainer

    cfg = load_preset("dcgan-mnist32", ["train.steps=3", "train.log_every=1", "train.batch_size=16"])

    def train(callbacks):
        t = Trainer(build(cfg, data_root), None, callbacks, progress=False)
        t.fit()
        return t

    measured = DiagnosisCallback(Context.from_config(cfg), verbose=False, data_root=data_root)
    a, b = train([measured]), train([DiagnosisCallback(Context.from_config(cfg), verbose=False, measure_d=False)])
    assert "overfit_rv" in measured.diagnoser.last
    for net_a, net_b in ((a.G, b.G), (a.D, b.D)):
        sa, sb = net_a.state_dict(), net_b.state_dict()
        assert all(torch.equal(sa[k], sb[k]) for k in sa)


def test_a_penalty_on_a_batch_norm_d_is_refused_naming_the_fix():
    for overrides in (["loss.kind=wgan-gp"], ["loss.r1_gamma=1"]):
        with pytest.raises(GankitError, match="--set model.d_norm=layer"):
            load_preset("dcgan-mnist32", overrides)
    load_preset("dcgan-mnist32", ["loss.kind=wgan-gp", "model.d_norm=layer"])
    load_preset("dcgan-mnist32", ["loss.kind=hinge"])  # no penalty: batch norm is fine


def test_the_penalty_presets_have_no_batch_norm_in_d():
    from gankit.data import sample_shape
    from gankit.nets import build_networks

    for name in ("dcgan-mnist32-wgangp", "ring-2d-stable"):
        cfg = load_preset(name)
        with torch.random.fork_rng():
            _, d = build_networks(cfg.model, sample_shape(cfg.data))
        assert not any(
            isinstance(m, (torch.nn.BatchNorm1d, torch.nn.BatchNorm2d, torch.nn.SyncBatchNorm)) for m in d.modules()
        ), name


@pytest.mark.slow
def test_d_overfitting_a_small_folder_is_found(data_root, tmp_path):
    from PIL import Image

    from gankit.data.idx import load_idx_images

    for split, name in (("train", "small"), ("test", "held")):
        images, _ = load_idx_images("fashion-mnist", data_root, split, download=False)
        (tmp_path / name).mkdir()
        for i in range(300):
            Image.fromarray(images[i, 0].numpy()).convert("RGB").save(tmp_path / name / f"{i}.png")
    cfg = load_preset(
        "dcgan-rgb",
        [
            "data.resolution=32",
            "data.flip=false",
            "train.epochs=100000",
            "train.steps=560",
            "train.log_every=40",
            f"data.root={tmp_path / 'small'}",
            f"diagnosis.holdout={tmp_path / 'held'}",
        ],
    )
    cb = train_and_diagnose(cfg, data_root)
    assert "overfitting_d" in cb.detected, [f.describe() for f in cb.findings()]
    f = next(f for f in cb.findings() if f.kind == "overfitting_d")
    assert any("augment" in r for r in f.remedies)
