"""Feature networks and evaluation end to end: the shipped classifiers on real test images, the
eval command and the metrics during training."""

from __future__ import annotations

import json

import pytest
import torch

from gankit.cli import main
from gankit.data import to_unit_range
from gankit.data.idx import load_idx_images
from gankit.errors import GankitError
from gankit.metrics.classifier import load_classifier, to_classifier_input
from gankit.metrics.features import feature_net_for, inception_weights_path, load_inception


def accuracy(name: str, root, n: int | None) -> float:
    images, labels = load_idx_images(name, root, "test", download=False)
    if n:
        images, labels = images[:n], labels[:n]
    net = load_classifier(name)
    with torch.no_grad():
        pred = torch.cat([net(to_classifier_input(chunk)).argmax(1) for chunk in images.split(1000)])
    return (pred == labels).float().mean().item()


@pytest.mark.parametrize("name,floor", [("mnist", 0.97), ("fashion-mnist", 0.85)])
def test_shipped_classifier_classifies_real_test_images(data_root, name, floor):
    assert accuracy(name, data_root, 300) >= floor


@pytest.mark.slow
@pytest.mark.parametrize("name,floor", [("mnist", 0.993), ("fashion-mnist", 0.91)])
def test_shipped_classifier_full_test_accuracy(data_root, name, floor):
    assert accuracy(name, data_root, None) >= floor


def test_32px_images_are_resized_to_28_for_the_classifier(data_root):
    images, labels = load_idx_images("mnist", data_root, "test", download=False)
    x = to_unit_range(images[:200])
    up = torch.nn.functional.interpolate(x, size=(32, 32), mode="bilinear", antialias=True, align_corners=False)
    assert to_classifier_input(up).shape == (200, 1, 28, 28)
    net = load_classifier("mnist")
    with torch.no_grad():
        agree = (net(to_classifier_input(up)).argmax(1) == net(to_classifier_input(x)).argmax(1)).float().mean()
    assert agree > 0.95


def test_feature_nets_are_named_and_never_substituted(tmp_path, monkeypatch):
    net = feature_net_for("mnist", 1)
    assert net.name == "classifier-mnist"
    f, z = net.embed(torch.zeros(3, 1, 32, 32))
    assert f.shape == (3, 128) and z.shape == (3, 10)
    monkeypatch.setenv("GANKIT_INCEPTION_WEIGHTS", str(tmp_path / "missing.pth"))
    assert inception_weights_path() == tmp_path / "missing.pth"
    with pytest.raises(GankitError, match="GANKIT_INCEPTION_WEIGHTS"):
        load_inception()
    with pytest.raises(GankitError, match="GANKIT_INCEPTION_WEIGHTS"):
        feature_net_for("folder", 3)


def read_metrics(run) -> list[dict]:
    return [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]


def test_eval_command_on_a_tiny_ring_run(tmp_path, capsys):
    run = tmp_path / "ring"
    # 20 steps stay inside the first epoch: one evaluation, at the end of training
    assert main(["train", "ring-2d", "--out", str(run), "--quiet", "--set", "train.steps=20",
                 "--set", "eval.n=500"]) == 0
    during = read_metrics(run)
    assert {r["metric"] for r in during} == {"modes", "hq", "mode_kl"}
    assert all(r["source"] == "train" and r["step"] == 20 and r["n"] == 500 for r in during)
    assert (run / "checkpoints" / "best.pt").is_file()
    capsys.readouterr()
    assert main(["eval", str(run), "--n", "800", "--checkpoint", "best"]) == 0
    table = capsys.readouterr().out
    assert "mode_kl" in table and "true-distribution" in table
    after = [r for r in read_metrics(run) if r["source"] == "eval"]
    assert len(after) == 3 and all(r["n"] == 800 and r["checkpoint"] == "best" and r["step"] == 20
                                   and r["feature_net"] == "true-distribution" for r in after)
    assert main(["eval", str(run), "--metrics", "fid"]) == 2
    assert "for image data" in capsys.readouterr().err
    assert main(["eval", str(run), "--metrics", "mdoes"]) == 2
    assert "did you mean 'modes'" in capsys.readouterr().err


def test_eval_command_on_an_mnist_run(tmp_path, capsys, data_root):
    run = tmp_path / "mnist"
    assert main(["train", "mlp-mnist", "--out", str(run), "--quiet", "--data-root", str(data_root),
                 "--set", "train.steps=5", "--set", "eval.every=0", "--set", "model.hidden=16"]) == 0
    assert not (run / "metrics.jsonl").exists()  # eval.every = 0: no metrics during training
    capsys.readouterr()
    assert main(["eval", str(run), "--n", "300", "--metrics", "fid,kid,pr,dc,is,classes",
                 "--data-root", str(data_root)]) == 0
    recs = read_metrics(run)
    values = {r["metric"]: r["value"] for r in recs}
    assert set(values) == {"fid", "kid", "kid_std", "precision", "recall", "density", "coverage", "is", "is_std",
                           "classes", "class_kl"}
    assert all(r["feature_net"] == "classifier-mnist" and r["n"] == 300 for r in recs)
    assert values["fid"] > 0 and 1 <= values["is"] <= 10


def test_resume_keeps_the_best_checkpoint_logic(tmp_path):
    from gankit.config import load_preset
    from gankit.callbacks.evaluation import EvalCallback
    from gankit.run import RunDir
    from gankit.api import make_trainer

    cfg = load_preset("gaussian-1d", ["train.steps=12", "data.size=4000", "train.batch_size=1000", "eval.n=300"])
    run = RunDir.create("g", tmp_path / "g")
    cb = EvalCallback(cfg, verbose=False)
    make_trainer(cfg, run, progress=False, callbacks=[cb]).fit()
    recs = read_metrics(run.path)
    assert {r["metric"] for r in recs} == {"mean", "std", "ks", "jsd"}
    ks = [(r["value"], r["step"]) for r in recs if r["metric"] == "ks"]
    assert len(ks) == 3  # 4 steps of 1000 points per epoch: after each of the 3 epochs
    assert cb.primary == "ks" and cb.best == min(ks)[0]
    best = run.load_checkpoint("best")
    assert best["position"]["step"] == min(ks)[1]  # best.pt holds the generator that scored best
    # a resumed run reads its best value back from metrics.jsonl
    again = EvalCallback(cfg, verbose=False)
    again._load_best(run)
    assert again.best == cb.best


@pytest.mark.slow
def test_inception_features_load_from_a_provided_file(tmp_path, monkeypatch):
    """A weight file in torchvision's layout (random values here) is found via the environment variable."""
    from torchvision.models import inception_v3

    path = tmp_path / "inception.pth"
    torch.save(inception_v3(weights=None, aux_logits=True, init_weights=False).state_dict(), path)
    monkeypatch.setenv("GANKIT_INCEPTION_WEIGHTS", str(path))
    net = feature_net_for("folder", 3)
    assert net.name == "inception-v3-torchvision"
    f, z = net.embed(torch.rand(2, 3, 64, 64) * 2 - 1)
    assert f.shape == (2, 2048) and z.shape == (2, 1000)


def test_training_goes_on_without_metrics_when_inception_weights_are_missing(tmp_path, monkeypatch, caplog,
                                                                             image_folder):
    from types import SimpleNamespace

    from gankit.config import load_preset
    from gankit.callbacks.evaluation import EvalCallback

    monkeypatch.setenv("GANKIT_INCEPTION_WEIGHTS", str(tmp_path / "missing.pth"))
    cfg = load_preset("dcgan-rgb", [f"data.root={image_folder}", "data.resolution=32"])
    cb = EvalCallback(cfg)
    assert "classes" not in cb.names and cb.primary == "fid"
    with caplog.at_level("WARNING", logger="gankit"):
        assert cb.evaluate(SimpleNamespace(device="cpu")) == {}
    assert cb.every == 0 and "GANKIT_INCEPTION_WEIGHTS" in caplog.text and "eval.every=0" in caplog.text
