"""Feature networks and evaluation end to end: the shipped classifiers on real test images, the
eval command and the metrics during training."""

from __future__ import annotations

import json

import pytest
import torch
from shapes import blur, write_folder
from tiny import train

from gankit.cli import main
from gankit.config import load_preset, preset_names
from gankit.data import holdout_split, load_dataset, resize_images, to_unit_range
from gankit.data.idx import load_idx_images
from gankit.errors import GankitError
from gankit.metrics.classifier import load_classifier, to_classifier_input
from gankit.metrics.evaluate import Evaluator
from gankit.metrics.features import feature_net_for


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
    net = feature_net_for("mnist", 1, resolution=32)
    assert net.name == "classifier-mnist" and len(net.weights_sha256) == 64 and net.resize.startswith("32->28")
    f, z = net.embed(torch.zeros(3, 1, 32, 32))
    assert f.shape == (3, 128) and z.shape == (3, 10)
    monkeypatch.setenv("GANKIT_INCEPTION_WEIGHTS", str(tmp_path / "missing.pth"))
    with pytest.raises(GankitError, match="GANKIT_INCEPTION_WEIGHTS"):
        feature_net_for("folder", 3)


def read_metrics(run) -> list[dict]:
    return [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]


def test_eval_command_on_a_tiny_ring_run(tmp_path, capsys):
    run = tmp_path / "ring"
    # 20 steps stay inside the first epoch: one evaluation, at the end of training
    assert train("ring-2d", run, "train.steps=20", "eval.n=500", quiet=True) == 0
    during = read_metrics(run)
    assert {r["metric"] for r in during} == {"modes", "hq", "mode_kl"}
    assert all(r["source"] == "train" and r["step"] == 20 and r["n"] == 500 for r in during)
    assert (run / "checkpoints" / "best.pt").is_file()
    capsys.readouterr()
    assert main(["eval", str(run), "--n", "800", "--checkpoint", "best"]) == 0
    table = capsys.readouterr().out
    assert "mode_kl" in table and "true-distribution" in table
    after = [r for r in read_metrics(run) if r["source"] == "eval"]
    assert len(after) == 3 and all(
        r["n"] == 800 and r["checkpoint"] == "best" and r["step"] == 20 and r["feature_net"] == "true-distribution"
        for r in after
    )
    assert main(["eval", str(run), "--metrics", "fid"]) == 2
    assert "for image data" in capsys.readouterr().err
    assert main(["eval", str(run), "--metrics", "mdoes"]) == 2
    assert "did you mean 'modes'" in capsys.readouterr().err


def test_eval_scores_the_moving_average_or_with_no_ema_g_itself(tmp_path, capsys):
    run = tmp_path / "ring"
    assert train("ring-2d", run, "train.steps=60", "train.ema=0.9", "eval.every=0", quiet=True) == 0
    capsys.readouterr()
    for extra in ([], ["--no-ema"]):
        assert main(["eval", str(run), "--n", "800", "--metrics", "modes", *extra]) == 0
    out = capsys.readouterr().out
    assert "the EMA of G" in out and ", G;" in out
    ema, raw = ([r for r in read_metrics(run) if r["source"] == "eval" and r["weights"] == w] for w in ("g_ema", "g"))
    assert {r["metric"] for r in ema} == {r["metric"] for r in raw}
    assert [r["value"] for r in ema] != [r["value"] for r in raw]  # two different generators were scored


def test_eval_command_on_an_mnist_run(tmp_path, capsys, data_root):
    run = tmp_path / "mnist"
    assert (
        train("mlp-mnist", run, "train.steps=5", "eval.every=0", "model.hidden=16", data_root=data_root, quiet=True)
        == 0
    )
    assert not (run / "metrics.jsonl").exists()  # eval.every = 0: no metrics during training
    capsys.readouterr()
    assert (
        main(["eval", str(run), "--n", "300", "--metrics", "fid,kid,pr,dc,is,classes", "--data-root", str(data_root)])
        == 0
    )
    recs = read_metrics(run)
    values = {r["metric"]: r["value"] for r in recs}
    assert set(values) == {
        "fid",
        "kid",
        "kid_std",
        "precision",
        "recall",
        "density",
        "coverage",
        "is",
        "is_std",
        "classes",
        "class_kl",
    }
    assert all(
        r["feature_net"] == "classifier-mnist"
        and r["n"] == 300
        and r["reference"] == "test"
        and r["reference_n"] == 300
        and len(r["weights_sha256"]) == 64
        and "as training" in r["resize"]
        for r in recs
    )
    assert values["fid"] > 0 and 1 <= values["is"] <= 10


def test_resume_keeps_the_best_checkpoint_logic(tmp_path):
    from gankit.api import make_trainer
    from gankit.callbacks.evaluation import EvalCallback
    from gankit.config import load_preset
    from gankit.run import RunDir

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


def test_training_on_a_folder_without_inception_scores_with_swd_and_msssim(tmp_path, monkeypatch, image_folder):
    """No Inception weights and no download allowed: training still gets metrics (the ones that need no
    weights), they pick best.pt, and every record says what produced it."""
    monkeypatch.setenv("GANKIT_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    monkeypatch.setenv("GANKIT_OFFLINE", "1")  # no download allowed, whatever the shell running the tests says
    run = tmp_path / "rgb"
    assert (
        main(
            [
                "train",
                "dcgan-rgb",
                "--out",
                str(run),
                "--quiet",
                "--set",
                f"data.root={image_folder}",
                "--set",
                "data.resolution=32",
                "--set",
                "train.steps=2",
                "--set",
                "train.batch_size=8",
                "--set",
                "eval.n=16",
                "--set",
                "speed.compile=off",
            ]
        )
        == 0
    )
    recs = read_metrics(run)
    assert {r["metric"] for r in recs} == {"swd", "swd_fine", "swd_coarse", "msssim", "msssim_real", "msssim_gap"}
    assert all(
        r["feature_net"] in ("pixels (swd)", "pixels (msssim)")
        and r["reference"] == "train"
        and r["reference_n"] > 0
        and "Resize+CenterCrop 32" in r["resize"]
        and "half flipped" in r["resize"]
        for r in recs
    )
    assert (run / "checkpoints" / "best.pt").is_file()  # picked by swd, the default primary here
    from gankit.reports.page import build_report

    page = build_report(run)
    assert "swd_coarse" in page and "msssim_gap" in page  # the report's metrics panel shows them
    cfg = load_preset("dcgan-rgb", [f"data.root={image_folder}", "data.resolution=32", "eval.metrics=fid"])
    with pytest.raises(GankitError, match="GANKIT_OFFLINE=1"):  # asked for explicitly: an error, no fallback
        Evaluator(cfg, n=16).metrics("fid")


def test_real_training_images_score_at_the_reference_floor_for_every_image_preset(data_root, image_folder, tmp_path):
    """Matched references: real images the generator is trained on, scored as if generated, land on
    the floor (FID within 2x of the 28 px floor, recall >= 0.8) whatever the preset's resolution."""
    n = 1000
    image_presets = [p for p in preset_names() if load_preset(p).data.name in ("mnist", "fashion-mnist", "folder")]
    assert {"mlp-mnist", "dcgan-mnist32", "dcgan-rgb"} <= set(image_presets)
    floor = None
    for preset in sorted(image_presets, key=lambda p: p != "mlp-mnist"):  # the 28 px floor first
        if load_preset(preset).data.name == "folder":
            continue  # RGB: below, without pretrained weights
        cfg = load_preset(preset)
        ev = Evaluator(cfg, data_root, n)
        train = load_dataset(cfg.data, data_root)
        real = to_unit_range(train.take(torch.randperm(len(train), generator=torch.Generator().manual_seed(1))[:n]))
        v = ev.evaluate(real, ["fid", "pr"])
        if floor is None:
            assert cfg.data.resolution in (0, 28)
            floor = v["fid"]
        assert v["fid"] < 2 * floor and v["recall"] >= 0.8, (preset, v, floor)
    # RGB: a folder of 40 px synthetic images, Resize + CenterCrop to 32, half held out
    folder = write_folder(tmp_path / "shapes", 600, 40)
    for preset in [p for p in image_presets if load_preset(p).data.name == "folder"]:
        cfg = load_preset(preset, [f"data.root={folder}", "data.resolution=32", "data.holdout=0.5"])
        ev = Evaluator(cfg, n=n)
        assert ev.reference_split == "holdout" and len(ev.reference_images()) == 300
        train = load_dataset(cfg.data, seed=cfg.seed)
        assert len(train) == 300
        real = ev.evaluate(to_unit_range(train.data), ["swd", "msssim"])
        blurred = ev.evaluate(to_unit_range(blur(train.data, 1.0)), ["swd"])  # what a blurry generator shows
        assert real["swd_fine"] < 0.5 * blurred["swd_fine"] and real["swd"] < blurred["swd"], (real, blurred)
        assert real["msssim_gap"] < 0.03, real


def test_the_reference_is_prepared_like_the_training_data(data_root, tmp_path):
    cfg = load_preset("dcgan-mnist32")
    ev = Evaluator(cfg, data_root, 50)
    ref = ev.reference_images()
    test, _ = load_idx_images("mnist", data_root, "test", download=False)
    assert ref.shape == (50, 1, 32, 32) and ref.dtype == torch.uint8
    assert ev.reference_split == "test"
    assert any(torch.equal(ref[0], x) for x in resize_images(test, 32))  # the loader's resize, bit for bit
    ev = Evaluator(load_preset("dcgan-mnist32", ["data.split=test"]), data_root, 50)
    assert ev.reference_split == "train"  # trained on the test split: the reference is the other one
    assert Evaluator(load_preset("dcgan-mnist32", ["eval.reference=train"]), data_root, 50).reference_split == "train"


def test_folder_holdout_is_fixed_by_the_seed_and_kept_out_of_training(tmp_path):
    folder = write_folder(tmp_path / "shapes", 40, 32)
    cfg = load_preset(
        "dcgan-rgb", [f"data.root={folder}", "data.resolution=32", "data.holdout=0.25", "data.flip=false"]
    )
    train = load_dataset(cfg.data, seed=cfg.seed)
    ev = Evaluator(cfg, n=100)
    held = ev.reference_images()
    assert len(train) == 30 and len(held) == 10
    rows = {bytes(x.numpy()) for x in train.data}
    assert not any(bytes(x.numpy()) in rows for x in held)  # disjoint
    assert torch.equal(load_dataset(cfg.data, seed=cfg.seed, part="holdout").data.sort(0).values, held.sort(0).values)
    other = load_dataset(cfg.data, seed=cfg.seed + 1, part="holdout").data
    assert not torch.equal(other.sort(0).values, held.sort(0).values)  # another seed, another split
    kept, out = holdout_split(40, 0.25, 0)
    assert torch.equal(torch.cat([kept, out]).sort().values, torch.arange(40))
    with pytest.raises(GankitError, match="data.holdout"):
        load_preset("dcgan-rgb", [f"data.root={folder}", "eval.reference=holdout"])
    with pytest.raises(GankitError, match="data.holdout must be in"):
        load_preset("dcgan-rgb", [f"data.root={folder}", "data.holdout=1.5"])


def test_eval_device_auto_and_a_clear_error_for_a_missing_gpu(tmp_path, capsys, data_root):
    run = tmp_path / "mnist"
    assert (
        train("mlp-mnist", run, "train.steps=3", "eval.every=0", "model.hidden=16", data_root=data_root, quiet=True)
        == 0
    )
    assert (
        main(["eval", str(run), "--n", "200", "--metrics", "fid", "--device", "auto", "--data-root", str(data_root)])
        == 0
    )
    assert (
        main(
            ["eval", str(run), "--n", "200", "--metrics", "fid", "--reference", "train", "--data-root", str(data_root)]
        )
        == 0
    )
    assert [r["reference"] for r in read_metrics(run)] == ["test", "train"]
    if not torch.cuda.is_available():
        assert main(["eval", str(run), "--n", "200", "--device", "cuda", "--data-root", str(data_root)]) == 2
        assert "no CUDA GPU" in capsys.readouterr().err
