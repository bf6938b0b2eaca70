"""The diagnosis rules added for what users see: partial mode collapse (toy modes, classifier
classes), critic-aware divergence and oscillation, the balance warm-up, overfitting D, errors
inside rules; and the statistics they read, on real samples and the shipped classifier."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from gankit.data.toy import ring_2d
from gankit.diagnosis import rules
from gankit.diagnosis.rules import (
    BALANCE_WARMUP_STEPS,
    CLASS_KL_LIMIT,
    WARMUP,
    Context,
    Diagnoser,
    diagnose,
)
from gankit.diagnosis.sample_stats import ClassHistogram, mode_counts

HEALTHY = {
    "d_loss": 1.2,
    "g_loss": 0.9,
    "d_real": 0.58,
    "d_fake": 0.42,
    "d_acc": 0.7,
    "d_grad_norm": 1.0,
    "g_grad_norm": 2.0,
    "diversity": 1.0,
}
RING = {"modes_covered": 8, "modes_total": 8, "modes_missing": [], "mode_quality": 0.9, "mode_samples": 256}
D_WINS = {"d_loss": 0.05, "g_loss": 5.0, "d_real": 0.98, "d_fake": 0.02, "d_acc": 0.99}


def records(*phases, every=10, base=HEALTHY):
    out, step = [], 0
    for count, changes in phases:
        for _ in range(count):
            step += every
            out.append({"step": step, **base, **changes})
    return out


def kinds(findings):
    return [f.kind for f in findings]


def missing(*modes, total=8, quality=0.9):
    return {
        "modes_covered": total - len(modes),
        "modes_total": total,
        "modes_missing": list(modes),
        "mode_quality": quality,
        "mode_samples": 256,
    }


# ---------------------------------------------------------------- partial collapse: toy modes


def test_some_modes_missing_is_partial_collapse_naming_them_and_since_when():
    recs = records((WARMUP + 2, RING), (3, missing(2, 5)), (4, missing(2, 5, 7)))
    (f,) = diagnose(recs, Context(data_name="ring-2d"))
    assert f.kind == "partial_mode_collapse" and f.active
    assert f.start_step == 10 * (WARMUP + 3)  # the first record of the streak
    assert f.evidence["modes_missing"] == ["2", "5", "7"]  # the latest record's
    assert f.evidence["missing_since_step"] == {"2": 80, "5": 80, "7": 110}
    assert "modes 2, 5 since step 80; mode 7 since step 110" in f.message
    assert any("loss.r1_gamma" in r for r in f.remedies) and any("train.ema" in r for r in f.remedies)


def test_all_modes_covered_is_healthy_and_a_g_off_the_data_is_not_collapse():
    assert kinds(diagnose(records((20, RING)))) == ["healthy"]
    # early training: G spread between the modes covers few of them precisely; not a collapse yet
    off = missing(0, 1, 3, 4, quality=0.2)  # below HQ_FLOOR: G is not on the data yet
    assert kinds(diagnose(records((WARMUP, RING), (6, off)))) == ["healthy"]


def test_most_modes_missing_is_mode_collapse_not_also_partial():
    recs = records((WARMUP, RING), (5, missing(0, 1, 2, 3, 4, 5, 6)))
    f = diagnose(recs)
    assert kinds(f) == ["mode_collapse"] and f[0].evidence["modes_covered"] == 1
    # recovering to a few missing modes: the collapse clears and the partial one is raised
    recs += records((6, missing(3)))[:6]
    for i, r in enumerate(recs[-6:]):
        r["step"] = recs[-7]["step"] + 10 * (i + 1)
    assert kinds(diagnose(recs)) == ["mode_collapse", "partial_mode_collapse"]


def test_mode_counts_names_the_missing_modes_by_the_metric_definition():
    from gankit.metrics.toy import mode_stats

    dist = ring_2d()
    x = dist.sample(2000, torch.Generator().manual_seed(0))
    means = torch.tensor(dist.means)
    keep = torch.cdist(x, means).argmin(1)
    x = x[(keep != 2) & (keep != 5)]
    got = mode_counts(x, means, dist.std)
    assert got["modes_missing"] == [2, 5] and got["modes_covered"] == 6
    assert got["modes_covered"] == mode_stats(x.double().numpy(), dist)["modes"]


# ---------------------------------------------------------------- partial collapse: classes


def classes(missing_=(), kl=0.02):
    return {
        "classes_covered": 10 - len(missing_),
        "classes_total": 10,
        "classes_missing": list(missing_),
        "class_kl": kl,
    }


def test_missing_classes_are_named_with_fashion_names():
    recs = records((WARMUP + 1, classes()), (4, classes((2, 5), kl=0.25)))
    (f,) = diagnose(recs, Context(data_name="fashion-mnist"))
    assert f.kind == "partial_mode_collapse" and f.evidence["classes_missing"] == ["pullover", "sandal"]
    assert "classes pullover, sandal since step 70" in f.message


def test_unequal_classes_without_a_missing_one_is_partial_collapse():
    recs = records((WARMUP + 1, classes()), (4, classes(kl=CLASS_KL_LIMIT + 0.1)))
    (f,) = diagnose(recs)
    assert f.kind == "partial_mode_collapse" and "unequally" in f.message
    assert kinds(diagnose(records((12, classes(kl=CLASS_KL_LIMIT - 0.1))))) == ["healthy"]


def test_one_class_left_is_mode_collapse():
    f = diagnose(records((WARMUP + 1, classes()), (4, classes(tuple(range(1, 10)), kl=2.3))), Context())
    assert kinds(f) == ["mode_collapse"] and "covers 1 of 10 classes" in f[0].message


def test_class_histogram_of_real_digits(data_root):
    from gankit.data.convert import to_unit_range
    from gankit.data.idx import load_idx_images

    images, labels = load_idx_images("mnist", data_root, "test", download=False)
    stats = ClassHistogram("mnist")
    real = stats(to_unit_range(images[:256]))
    assert real["classes_covered"] == 10 and real["classes_missing"] == [] and real["class_kl"] < 0.05
    zeros = stats(to_unit_range(images[labels == 0][:256]))
    # the classifier agrees with the labels (about 1 % of its verdicts are wrong: a stray 6 may appear)
    assert 0 not in zeros["classes_missing"] and len(zeros["classes_missing"]) >= 8 and zeros["class_kl"] > 2.0
    before = torch.get_rng_state()
    ClassHistogram("mnist")(to_unit_range(images[:8]))  # building the network draws no training randomness
    assert torch.equal(before, torch.get_rng_state())


# ---------------------------------------------------------------- critics

CRITIC = Context(loss_kind="wgan-gp")


def test_a_critic_offset_that_drifts_and_swings_is_no_alarm():
    # the critic's scores and G's loss move with a free offset; the gap D(x) - D(G(z)) stays 1
    offsets = [0, 40, 5, 60, -10, 80, 0, 120, -30, 500]
    recs = [
        {"step": 10 * (i + 1), **HEALTHY, "d_real": o + 1.0, "d_fake": o, "g_loss": -o, "d_loss": -1.0}
        for i, o in enumerate(offsets)
    ]
    assert kinds(diagnose(recs, CRITIC)) == ["healthy"]
    assert "oscillation" in kinds(diagnose(recs))  # read as a probability loss, the same numbers swing


def test_critic_gap_swinging_through_zero_is_oscillation_and_a_blown_gap_divergence():
    gaps = [1.5, -0.5, 1.8, -0.8, 1.6, -0.4, 1.7, -0.6]
    recs = [
        {"step": 10 * (i + 1), **HEALTHY, "d_real": 3.0 + g, "d_fake": 3.0, "g_loss": -3.0} for i, g in enumerate(gaps)
    ]
    (f,) = diagnose(recs, CRITIC)
    assert f.kind == "oscillation" and "critic gap" in f.message and "critic_gap_range" in f.evidence
    blown = records((3, {}), (1, {"d_real": 2e3, "d_fake": -5.0}))
    assert kinds(diagnose(blown, CRITIC))[0] == "divergence"
    assert diagnose(blown, CRITIC)[0].evidence["critic_gap"] == pytest.approx(2005.0)


# ---------------------------------------------------------------- balance warm-up

WARM = Context(balance_warmup_steps=BALANCE_WARMUP_STEPS)


def test_an_early_d_lead_that_fades_within_the_warmup_is_not_reported():
    n = BALANCE_WARMUP_STEPS // 10 - 5
    assert kinds(diagnose(records((n, D_WINS), (20, {})), WARM)) == ["healthy"]
    assert "d_overpowering" in kinds(diagnose(records((n, D_WINS), (20, {})), Context()))  # without warm-up


def test_a_lead_that_outlasts_the_warmup_is_reported_from_its_first_record():
    d = Diagnoser(WARM)
    starts = [
        (r["step"], f.kind, f.start_step)
        for r in records((2, {}), (40, D_WINS))
        for change, f in d.update(r)
        if change == "start"
    ]
    assert starts == [(BALANCE_WARMUP_STEPS, "d_overpowering", 30)]


def test_a_run_that_ends_inside_the_warmup_still_holding_is_reported():
    (f,) = diagnose(records((2, {}), (5, D_WINS)), WARM)
    assert f.kind == "d_overpowering" and f.start_step == 30 and f.active


def test_context_from_a_config_has_the_warmup():
    from gankit.config import load_preset

    ctx = Context.from_config(load_preset("ring-2d"))
    assert ctx.balance_warmup_steps == BALANCE_WARMUP_STEPS and ctx.data_name == "ring-2d"


# ---------------------------------------------------------------- overfitting D, errors


def test_overfitting_d_needs_both_the_ratio_and_the_significance():
    over = {"overfit_rv": 0.6, "overfit_z": 12.0, "r_t": 0.95, "d_train": 2.0, "d_heldout": -0.4, "d_generated": -2.0}
    (f,) = diagnose(records((3, {}), (4, over)))
    assert f.kind == "overfitting_d" and f.evidence["r_t"] == 0.95
    assert [r.split(" ")[0] for r in f.remedies] == ["augment", "more", "an", "a"]
    assert kinds(diagnose(records((8, dict(over, overfit_z=2.0))))) == ["healthy"]  # within sampling noise
    assert kinds(diagnose(records((8, dict(over, overfit_rv=0.1))))) == ["healthy"]


def test_a_rule_that_raises_is_an_error_not_no_finding(monkeypatch):
    def broken(rec, hist, ctx):
        return rec["no such key"]

    monkeypatch.setitem(rules.RULES, "oscillation", broken)
    with pytest.raises(RuntimeError, match="oscillation"):
        diagnose(records((2, {})))


# ---------------------------------------------------------------- the probe of D


class Memory(nn.Module):
    """A 'D' with batch norm and dropout whose output is the first input feature."""

    def __init__(self):
        super().__init__()
        self.bn, self.drop = nn.BatchNorm1d(3), nn.Dropout(0.5)

    def forward(self, x):
        return self.drop(self.bn(x))[:, :1] * 0 + x[:, :1]


def test_probe_reads_memorisation_and_leaves_d_as_it_was():
    from gankit.diagnosis.overfitting import OverfitProbe
    from gankit.losses import Objective

    gen = torch.Generator().manual_seed(0)
    train = torch.randn(256, 3, generator=gen) * 0.1 + torch.tensor([2.0, 0, 0])
    fake = torch.randn(256, 3, generator=gen) * 0.1 - torch.tensor([2.0, 0, 0])
    d = Memory()
    d.train()
    before = {k: v.clone() for k, v in d.state_dict().items()}
    remembered = OverfitProbe(train, fake.clone(), 64)(d, fake, Objective())  # held-out scored like fakes
    assert remembered["overfit_rv"] == pytest.approx(1.0, abs=0.05) and remembered["overfit_z"] > 50
    assert remembered["r_t"] == 1.0
    fair = OverfitProbe(train, train.flip(0) + 0.01, 64)(d, fake, Objective())
    assert abs(fair["overfit_rv"]) < 0.05
    assert d.training and d.drop.training  # modes restored
    assert all(torch.equal(before[k], v) for k, v in d.state_dict().items())  # running stats untouched


class PixelMemory(nn.Module):
    """A 'D' that has memorised its training images pixel for pixel: minus the distance to the
    nearest one."""

    def __init__(self, images):
        super().__init__()
        self.register_buffer("images", images.flatten(1))
        self.scale = nn.Parameter(torch.ones(()))

    def forward(self, x):
        return -self.scale * torch.cdist(x.flatten(1), self.images).min(dim=1).values


def test_the_probe_scores_d_through_the_runs_augmentation_and_leaves_the_rng_alone():
    from gankit.augment import Augment
    from gankit.diagnosis.overfitting import OverfitProbe
    from gankit.losses import Objective

    gen = torch.Generator().manual_seed(0)
    train, held = torch.rand(128, 3, 16, 16, generator=gen) * 2 - 1, torch.rand(128, 3, 16, 16, generator=gen) * 2 - 1
    fake = torch.randn(128, 3, 16, 16, generator=gen) * 1.2
    d, probe = PixelMemory(train), OverfitProbe(train, held, 32)
    raw = probe(d, fake, Objective())
    assert probe(d, fake, Objective(), Augment()) == raw  # augmentation off: the images as they are
    torch.manual_seed(1)
    state = torch.get_rng_state()
    shifted = Augment("translation", translation=0.25)
    seen = probe(d, fake, Objective(), shifted)
    assert torch.equal(torch.get_rng_state(), state)  # the run's own random numbers are untouched
    assert probe(d, fake, Objective(), shifted) == seen  # repeatable: the same draws at every call
    assert seen["overfit_rv_raw"] == raw["overfit_rv"] > 0.5  # memorised pixels, as they are
    assert seen["overfit_rv"] < raw["overfit_rv"] - 0.2  # shifted, they are no longer remembered


def test_a_narrow_fresh_g_that_widens_within_the_collapse_warmup_is_healthy():
    from gankit.diagnosis.rules import COLLAPSE_WARMUP_STEPS

    ctx = Context(collapse_warmup_steps=COLLAPSE_WARMUP_STEPS)
    narrow = {"diversity": 0.35}
    n = COLLAPSE_WARMUP_STEPS // 10 - 5
    assert kinds(diagnose(records((n, narrow), (20, {})), ctx)) == ["healthy"]
    (f,) = diagnose(records((n + 20, narrow)), ctx)  # a G that stays narrow: collapsed, from the first judged log
    assert f.kind == "mode_collapse" and f.start_step == 10 * (WARMUP + 1)
