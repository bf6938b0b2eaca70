"""Mode collapse on RGB images from the MS-SSIM of generated pairs against real pairs (the AC-GAN
criterion): the rule on records, and the statistic on real Fashion-MNIST images written as RGB."""

from __future__ import annotations

import pytest
import torch

from gankit.data import Dataset
from gankit.diagnosis.rules import (
    COLLAPSE_WARMUP_STEPS,
    MSSSIM_EXCESS,
    MSSSIM_TOTAL,
    WARMUP,
    Context,
    diagnose,
    similarity_excess,
)
from gankit.diagnosis.sample_stats import SampleStats

HEALTHY = {
    "d_loss": 1.0,
    "g_loss": 1.3,
    "d_real": 0.67,
    "d_fake": 0.32,
    "d_acc": 0.9,
    "d_grad_norm": 1.0,
    "g_grad_norm": 2.0,
    "diversity": 0.95,
}
REAL = 0.19  # pairs of 32 px Fashion-MNIST images as RGB (scripts/diagnosis_table.py's folders)


def records(*phases, every=40):
    out, step = [], 0
    for count, msssim in phases:
        for _ in range(count):
            step += every
            out.append({"step": step, **HEALTHY, "msssim": msssim, "msssim_real": REAL})
    return out


def kinds(findings):
    return [f.kind for f in findings]


def test_excess_is_the_share_of_the_way_to_identical_images():
    assert similarity_excess({"msssim": REAL, "msssim_real": REAL}) == 0.0
    assert similarity_excess({"msssim": 1.0, "msssim_real": REAL}) == 1.0
    assert similarity_excess({"msssim": 0.6}) is None  # an older run or another domain: no opinion


def test_samples_far_more_alike_than_real_pairs_are_partial_collapse_with_evidence():
    alike = REAL + (MSSSIM_EXCESS + 0.1) * (1 - REAL)  # the diversity stays normal: only MS-SSIM sees it
    (f,) = diagnose(records((WARMUP + 2, 0.25), (5, alike)))
    assert f.kind == "partial_mode_collapse" and f.active
    assert f.start_step == 40 * (WARMUP + 3)
    assert f.evidence["msssim_generated"] == pytest.approx(alike)
    assert f.evidence["msssim_real"] == REAL and f.evidence["too_alike_since_step"] == f.start_step
    assert f"since step {f.start_step}" in f.message and "MS-SSIM" in f.message
    assert any("loss.r1_gamma" in r for r in f.remedies)


def test_near_identical_pairs_are_mode_collapse_and_healthy_levels_raise_nothing():
    same = REAL + (MSSSIM_TOTAL + 0.1) * (1 - REAL)
    assert kinds(diagnose(records((WARMUP + 1, 0.25), (4, same)))) == ["mode_collapse"]
    # the healthy dcgan-rgb runs of scripts/diagnosis_table.py: 0.21-0.29 against 0.19
    assert kinds(diagnose(records((15, 0.29)))) == ["healthy"]


def test_a_fresh_g_that_repeats_one_template_within_the_warmup_is_healthy():
    ctx = Context(collapse_warmup_steps=COLLAPSE_WARMUP_STEPS)
    early = COLLAPSE_WARMUP_STEPS // 40 - 1  # a fresh DCGAN: pairs at MS-SSIM 0.6-0.9 until step ~100
    assert kinds(diagnose(records((early, 0.9), (10, 0.25)), ctx)) == ["healthy"]


@pytest.fixture(scope="module")
def fashion_rgb(data_root):
    from gankit.data.convert import resize_images
    from gankit.data.idx import load_idx_images

    images, _ = load_idx_images("fashion-mnist", data_root, "train", download=False)
    return resize_images(images[:768].expand(-1, 3, -1, -1).contiguous(), 32)  # as a folder of RGB PNGs loads


def test_msssim_statistic_on_real_images_and_on_three_repeated_ones(fashion_rgb):
    from gankit.data.convert import to_unit_range

    stats = SampleStats(Dataset("folder", fashion_rgb[:512]), seed=0)
    assert stats.classes is None and stats.similarity is not None
    real = stats(to_unit_range(fashion_rgb[512:]))  # other real images: as diverse as the data
    assert 0.1 < real["msssim_real"] < 0.35
    assert abs(similarity_excess(real)) < MSSSIM_EXCESS / 2
    # 3 templates: a third of the pairs identical. (8 would be 1/8: the mean of pairs sees a
    # collapse to a few outputs, not a G that keeps many of them)
    few = stats(to_unit_range(fashion_rgb[512:515].repeat(86, 1, 1, 1)[:256]))
    assert similarity_excess(few) >= MSSSIM_EXCESS
    assert few["diversity"] > 0.5  # the pixel spread alone calls this diverse


def test_images_with_a_classifier_or_too_small_get_no_msssim(fashion_rgb):
    grey = Dataset("fashion-mnist", fashion_rgb[:64, :1])
    assert SampleStats(grey, seed=0).similarity is None  # the class histogram sees collapse there
    tiny = Dataset("folder", fashion_rgb[:64, :, :8, :8])
    assert SampleStats(tiny, seed=0).similarity is None
    stats = SampleStats(Dataset("folder", fashion_rgb[:64]), seed=0)
    assert "msssim" not in stats(torch.full((64, 3, 32, 32), float("nan")))  # divergence speaks, not this


@pytest.fixture(scope="module")
def fashion_folder(data_root, tmp_path_factory):
    """6,000 Fashion-MNIST training images as RGB PNGs (scripts/diagnosis_table.py's large folder)."""
    from PIL import Image

    from gankit.data.idx import load_idx_images

    images, _ = load_idx_images("fashion-mnist", data_root, "train", download=False)
    folder = tmp_path_factory.mktemp("fashion-rgb")
    for i in range(6000):
        Image.fromarray(images[i, 0].numpy()).convert("RGB").save(folder / f"{i:04d}.png")
    return folder


def rgb_run(folder, data_root, overrides):
    from gankit.callbacks.diagnosis import train_and_diagnose
    from gankit.config import load_preset

    base = ["data.resolution=32", "data.flip=false", "train.epochs=1000", "train.steps=360", "train.log_every=40"]
    return train_and_diagnose(load_preset("dcgan-rgb", base + [f"data.root={folder}"] + overrides), data_root)


@pytest.mark.slow
@pytest.mark.usefixtures("one_thread")
def test_an_rgb_dcgan_that_repeats_one_template_is_found_and_the_preset_is_not(fashion_folder, data_root):
    # Adam beta1 0.9 at 10x the learning rate (scripts/diagnosis_table.py's rgb_collapse row)
    cb = rgb_run(
        fashion_folder, data_root, ["optim.g.beta1=0.9", "optim.d.beta1=0.9", "optim.g.lr=2e-3", "optim.d.lr=2e-3"]
    )
    found = [f for f in cb.findings() if f.kind in ("mode_collapse", "partial_mode_collapse")]
    assert found, [f.describe() for f in cb.findings()]
    ev = found[-1].evidence
    assert similarity_excess({"msssim": ev["msssim_generated"], "msssim_real": ev["msssim_real"]}) >= MSSSIM_EXCESS
    assert "since step" in found[-1].message
    healthy = rgb_run(fashion_folder, data_root, [])
    assert [f.kind for f in healthy.findings()] == ["healthy"], [f.describe() for f in healthy.findings()]
    assert "msssim" in healthy.diagnoser.last
