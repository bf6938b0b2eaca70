"""Seeds trained at once (gankit.sweep.batched) against the same seeds trained one by one.

The stated tolerance: after 5 steps every weight, EMA weight and Adam moment agrees with the
separate run to 1e-5 (a stacked matrix product rounds differently from a single one; measured
differences are about 1e-7), the noise generator is in the same state, and the position is the same.
"""

from __future__ import annotations

import pytest
import torch

from gankit.api import make_trainer, resume
from gankit.config import load_preset
from gankit.run import RunDir
from gankit.sweep.batched import BatchedSeeds, unsupported

TOL = 1e-5
STEPS = ["train.steps=5", "train.log_every=1", "data.size=1024", "eval.every=0", "log.tensorboard=off"]


def _max_diff(a: dict, b: dict) -> float:
    assert a.keys() == b.keys()
    return max(float((a[k].float() - b[k].float()).abs().max()) for k in a)


@pytest.mark.parametrize(
    "preset,extra",
    [
        ("ring-2d", []),
        ("ring-2d-stable", []),  # R1 penalty and the EMA of G
        ("ring-pacgan2", []),  # PacGAN packing
        ("gaussian-1d", []),  # uniform noise, ELU, cosine schedule, other learning rates
        ("grid-25", ["train.order=g-first", "loss.kind=lsgan", "loss.d_reduction=mean"]),
        # R3GAN's relativistic loss (G reads D(x)) with R1 and R2, EMA, cosine; and in g-first order
        ("ring-pacgan-modern", []),
        ("grid-25-modern", ["train.order=g-first"]),
    ],
)
def test_each_seed_equals_its_separate_run(preset, extra, one_thread):
    cfg = load_preset(preset, STEPS + extra)
    group = BatchedSeeds(cfg, [0, 3])
    group.fit()
    for i, seed in enumerate([0, 3]):
        trainer = make_trainer(cfg.replace(seed=seed), progress=False)
        trainer.fit()
        state = group.state_dict(i)
        assert _max_diff(state["g"], trainer.G.state_dict()) < TOL
        assert _max_diff(state["d"], trainer.D.state_dict()) < TOL
        if trainer.g_ema is not None:
            assert _max_diff(state["g_ema"], trainer.g_ema.state_dict()) < TOL
        for name, opt in (("opt_g", trainer.opt_g), ("opt_d", trainer.opt_d)):
            want = opt.state_dict()
            assert want["param_groups"][0]["lr"] == state[name]["param_groups"][0]["lr"]
            for k, st in want["state"].items():
                assert (
                    _max_diff(
                        {m: state[name]["state"][k][m] for m in ("exp_avg", "exp_avg_sq")},
                        {m: st[m] for m in ("exp_avg", "exp_avg_sq")},
                    )
                    < TOL
                )
        assert state["position"] == vars(trainer.pos)
        assert torch.equal(state["rng"]["torch"], torch.get_rng_state())  # the same noise was drawn
        assert [r["step"] for r in group.records[seed]] == [1, 2, 3, 4, 5]


def test_a_batched_checkpoint_resumes_as_a_normal_run(tmp_path, one_thread):
    cfg = load_preset("ring-2d", STEPS)
    group = BatchedSeeds(cfg, [0, 1])
    group.fit()
    runs = {s: RunDir.create("ring-2d", tmp_path / f"seed-{s}") for s in (0, 1)}
    assert group.write_runs(runs, report=False) == [0, 1]
    trainer = resume(RunDir.open(tmp_path / "seed-1"), overrides=["train.steps=8"], progress=False)
    trainer.fit()
    straight = make_trainer(load_preset("ring-2d", STEPS + ["train.steps=8", "seed=1"]), progress=False)
    straight.fit()
    assert _max_diff(trainer.G.state_dict(), straight.G.state_dict()) < TOL


@pytest.mark.parametrize(
    "override,why",
    [
        ("loss.kind=wgan-gp", "interpolation weights"),
        ("model.dropout=0.2", "dropout"),
        ("train.d_steps=2", "d_steps"),
        ("train.on_nan=rollback", "rollback"),
        ("loss.feature_matching=1", "feature_matching"),
        ("train.g_pause_below=0.3", "g_pause_below"),
    ],
)
def test_what_cannot_be_batched_says_why(override, why):
    assert why in unsupported(load_preset("ring-2d", [override]))
    assert unsupported(load_preset("ring-2d")) == ""
    assert "toy" in unsupported(load_preset("dcgan-mnist32"))
