"""Scoring conditional runs (issue 15): per-class FID against an independent reference, best.pt by
conditional accuracy, and `gankit eval`'s defaults for a conditional run."""

from __future__ import annotations

import json

import numpy as np
import pytest
import scipy.linalg

from gankit.cli import main
from gankit.config import load_preset
from gankit.errors import GankitError
from gankit.metrics import check_primary, parse_metrics
from gankit.metrics.conditional import class_fid

QUIET = ["device=cpu", "log.tensorboard=off", "log.progress=off", "speed.amp=off", "speed.channels_last=off"]
TINY_CGAN = ["model.g=mlp", "model.d=mlp", "model.hidden=16", "train.batch_size=8", *QUIET]


def _scipy_fid(a: np.ndarray, b: np.ndarray) -> float:
    """FID as the TTUR reference code writes it: |mu1 - mu2|^2 + tr(S1 + S2 - 2 sqrtm(S1 S2))."""
    s1, s2 = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    d = a.mean(0) - b.mean(0)
    return float(d @ d + np.trace(s1 + s2 - 2 * scipy.linalg.sqrtm(s1 @ s2).real))


def test_class_fid_is_the_mean_and_worst_of_scipys_fid_per_class():
    rng = np.random.default_rng(0)
    real_y, fake_y = rng.integers(0, 3, 600), np.arange(450) % 3
    real = rng.normal(size=(600, 5)) + real_y[:, None]
    fake = rng.normal(size=(450, 5)) * (1 + 0.3 * fake_y[:, None]) + fake_y[:, None] + 0.2
    want = [_scipy_fid(real[real_y == c], fake[fake_y == c]) for c in range(3)]
    got = class_fid(real, real_y, fake, fake_y)
    assert got["fid_class"] == pytest.approx(np.mean(want), rel=1e-6)
    assert got["fid_class_max"] == pytest.approx(max(want), rel=1e-6)


def test_class_fid_sees_wrong_labels_that_the_overall_fid_cannot(data_root):
    """Real test digits scored as samples: with their own labels per-class FID is at the floor; asked
    for the next digit it is far off, though the pooled images (and so the overall FID) are the same."""
    from gankit.metrics.evaluate import Evaluator

    cfg = load_preset("cgan-mnist", ["device=cpu"])
    ev = Evaluator(cfg, data_root, n=1000)
    real_images, real_labels = ev.reference_images(), ev.reference_labels()
    assert len(real_labels) == len(real_images) == 1000 and set(real_labels.tolist()) == set(range(10))
    from gankit.data.idx import load_idx_images

    images, labels = load_idx_images("mnist", data_root, "train")  # another split than the reference
    right = ev.evaluate(images[:2000], ["fid", "class_fid"], labels[:2000])
    wrong = ev.evaluate(images[:2000], ["fid", "class_fid"], (labels[:2000] + 1) % 10)
    assert right["fid"] == pytest.approx(wrong["fid"])
    assert wrong["fid_class"] > 10 * right["fid_class"]
    with pytest.raises(GankitError, match="needs the labels"):
        ev.evaluate(images[:200], ["class_fid"])


def test_class_fid_with_a_class_of_one_sample_is_a_clear_error():
    real, y = np.random.default_rng(0).normal(size=(20, 3)), np.arange(20) % 2
    with pytest.raises(GankitError, match="class 1 has"):
        class_fid(real, y, real[:3], np.array([0, 0, 1]))


def test_a_conditional_run_is_scored_per_class_and_keeps_best_by_conditional_accuracy():
    names = parse_metrics("", "image", "mnist", training=True, conditional=True)
    assert {"cond", "class_fid", "fid"} <= set(names)
    assert check_primary("", names, "image") == "cond_acc"
    assert check_primary("fid", names, "image") == "fid"  # an explicit eval.primary still wins
    plain = parse_metrics("", "image", "mnist", training=True)
    assert "class_fid" not in plain and check_primary("", plain, "image") == "fid"
    with pytest.raises(GankitError, match="unconditional"):
        parse_metrics("class_fid", "image", "mnist")
    from gankit.callbacks.evaluation import EvalCallback

    assert EvalCallback(load_preset("cgan-mnist", ["device=cpu"])).primary == "cond_acc"
    assert EvalCallback(load_preset("mlp-mnist", ["device=cpu"])).primary == "fid"


def test_training_writes_best_by_cond_acc_and_eval_reports_class_fid(tmp_path, data_root, capsys, one_thread):
    run = tmp_path / "cgan"
    sets = [*TINY_CGAN, "train.steps=6", "train.epochs=1", "eval.every=1", "eval.n=200"]
    assert (
        main(
            ["train", "cgan-mnist", "--data-root", str(data_root), "--out", str(run)]
            + sum((["--set", s] for s in sets), [])
        )
        == 0
    )
    records = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert {"cond_acc", "fid_class"} <= {r["metric"] for r in records}
    assert (run / "checkpoints" / "best.pt").is_file()
    capsys.readouterr()
    assert main(["eval", str(run), "--n", "300", "--data-root", str(data_root), "--metrics", "fid,class_fid,cond"]) == 0
    out = capsys.readouterr().out
    assert "fid_class" in out and "cond_classes" in out
