"""The diagnosis rules on hand-made statistics, and the sample statistics they read."""

from __future__ import annotations

import math

import pytest
import torch

from gankit.data.toy import ring_2d
from gankit.diagnosis.rules import PERSIST, WARMUP, Context, Diagnoser, diagnose
from gankit.diagnosis.sample_stats import mean_pairwise_distance, mode_counts

HEALTHY = dict(
    d_loss=1.2, g_loss=0.9, d_real=0.58, d_fake=0.42, d_acc=0.7, d_grad_norm=1.0, g_grad_norm=2.0, diversity=1.0
)
D_WINS = dict(d_loss=0.05, g_loss=5.0, d_real=0.98, d_fake=0.02, d_acc=0.99)


def records(*phases, every=10):
    """Records from (count, overrides) phases, steps every `every`."""
    out, step = [], 0
    for count, changes in phases:
        for _ in range(count):
            step += every
            out.append({"step": step, **HEALTHY, **changes})
    return out


def kinds(findings):
    return [f.kind for f in findings]


def test_healthy_run_gives_one_healthy_finding():
    recs = records((20, {}))
    findings = diagnose(recs)
    assert kinds(findings) == ["healthy"]
    assert (findings[0].start_step, findings[0].end_step) == (10, 200)


def test_d_overpowering_starts_at_the_first_record_of_the_streak():
    findings = diagnose(records((6, {}), (5, D_WINS)))
    f = findings[0]
    assert f.kind == "d_overpowering" and f.start_step == 70 and f.end_step == 110 and f.active
    assert f.evidence["d_acc"] == pytest.approx(0.99)
    # D already trains once per G step at G's rate: neither "fewer D steps" nor "D's rate down to G's"
    assert not any("train.d_steps" in r for r in f.remedies) and "--set loss.r1_gamma=" in f.remedies[0]


def test_fewer_than_persist_records_raise_nothing():
    assert kinds(diagnose(records((6, {}), (PERSIST - 1, D_WINS), (10, {})))) == ["healthy"]
    pending = diagnose(records((6, {}), (PERSIST - 1, D_WINS)))  # ... but the run ends on them
    assert kinds(pending) == ["healthy"] and pending[0].evidence["pending"] == "d_overpowering"
    assert "not yet" in pending[0].message


def test_a_finding_is_announced_once_and_cleared_once():
    d = Diagnoser()
    events = [e for r in records((6, {}), (8, D_WINS), (6, {})) for e in d.update(r)]
    assert [(change, f.kind) for change, f in events] == [("start", "d_overpowering"), ("clear", "d_overpowering")]
    f = d.result()[0]
    assert not f.active and (f.start_step, f.end_step) == (70, 140)


def test_g_overpowering():
    f = diagnose(records((3, {}), (4, dict(d_real=0.5, d_fake=0.9, d_acc=0.5, d_loss=3.0, g_loss=0.1))))
    assert kinds(f) == ["g_overpowering"]
    assert any("D capacity" in r for r in f[0].remedies)


def test_an_undecided_d_while_g_is_off_the_data_is_g_overpowering():
    stuck = dict(d_real=0.49, d_fake=0.5, d_acc=0.5, diversity=0.9, on_modes=0.0, modes_covered=0, modes_total=8)
    f = diagnose(records((WARMUP, {}), (4, stuck)))
    assert kinds(f) == ["g_overpowering"] and f[0].evidence["on_modes"] == 0.0
    converged = dict(stuck, on_modes=0.97, modes_covered=8)
    assert kinds(diagnose(records((WARMUP, {}), (6, converged)))) == ["healthy"]


def test_equilibrium_is_not_g_overpowering():
    assert kinds(diagnose(records((10, dict(d_real=0.5, d_fake=0.5, d_acc=0.5, d_loss=1.386, g_loss=0.693))))) == [
        "healthy"
    ]


def test_vanishing_gradients_and_the_minimax_remedy():
    vanished = dict(D_WINS, g_grad_norm=1e-5, g_loss=-1e-5)
    f = diagnose(records((4, {}), (4, vanished)), Context(g_form="minimax"))
    assert "vanishing_g_gradients" in kinds(f)
    v = next(x for x in f if x.kind == "vanishing_g_gradients")
    assert "non-saturating" in v.remedies[0]
    assert v.evidence["g_grad_norm_peak"] == pytest.approx(2.0)


def test_strong_d_with_healthy_gradients_is_not_vanishing():
    assert "vanishing_g_gradients" not in kinds(diagnose(records((4, {}), (6, dict(D_WINS, g_grad_norm=5.0)))))


def test_mode_collapse_after_warmup_only():
    low = dict(diversity=0.1, modes_covered=1, modes_total=8)
    assert kinds(diagnose(records((WARMUP, low)))) == ["healthy"]  # a fresh G is narrow, not collapsed
    f = diagnose(records((WARMUP, {}), (4, low)))
    assert kinds(f) == ["mode_collapse"] and f[0].evidence["modes_covered"] == 1


def test_low_spread_that_covers_the_modes_is_not_collapse():
    assert kinds(diagnose(records((12, dict(diversity=0.45, modes_covered=8, modes_total=8))))) == ["healthy"]


@pytest.mark.parametrize("bad", [dict(d_loss=math.nan), dict(g_loss=math.inf), dict(g_loss=1e4), dict(d_grad_norm=1e7)])
def test_divergence_is_raised_at_once(bad):
    f = diagnose(records((5, {}), (1, bad)))
    assert kinds(f)[0] == "divergence" and f[0].start_step == 60


def test_oscillation_versus_drift():
    swings = [1.0, 4.0, 1.5, 5.0, 1.0, 4.5, 1.2, 5.2, 0.8, 4.0]
    recs = [{"step": 10 * (i + 1), **HEALTHY, "g_loss": g} for i, g in enumerate(swings)]
    assert "oscillation" in kinds(diagnose(recs))
    drift = [{"step": 10 * (i + 1), **HEALTHY, "g_loss": 0.8 + 0.05 * i + 0.02 * (-1) ** i} for i in range(20)]
    assert kinds(diagnose(drift)) == ["healthy"]


def test_event_lines_and_old_records_are_tolerated():
    recs = records((10, {}))
    recs.insert(3, {"event": "diagnosis", "change": "start", "kind": "d_overpowering", "step": 30})
    for r in recs:
        r.pop("diversity", None)
    assert kinds(diagnose(recs)) == ["healthy"]


def test_scores_are_read_on_the_label_scale():
    # least squares with smoothed labels 0.9 / 0.1: D(x) = 0.88, D(G(z)) = 0.12 is D winning outright
    ctx = Context(loss_kind="lsgan", real_target=0.9, fake_target=0.1)
    assert "d_overpowering" in kinds(diagnose(records((5, dict(D_WINS, d_real=0.88, d_fake=0.12))), ctx))


def test_balance_rules_do_not_apply_to_critic_losses():
    ctx = Context(loss_kind="wgan-gp")
    assert kinds(diagnose(records((8, dict(D_WINS, d_real=40.0, d_fake=-40.0))), ctx)) == ["healthy"]


def test_context_from_a_preset_and_the_finding_text():
    from gankit.config import load_preset

    ctx = Context.from_config(load_preset("ring-2d", ["optim.d.lr=5e-3", "train.d_steps=5"]))
    assert ctx.d_lr == 5e-3 and ctx.d_steps == 5
    text = diagnose(records((4, D_WINS)), ctx)[0].describe()
    assert "steps 10 - end of run (still active)" in text and "(0.005 now) (--set optim.d.lr=0.001)" in text
    assert "--set train.d_steps=1" in text


# ---------------------------------------------------------------- sample statistics


def test_pairwise_distance_of_known_points():
    x = torch.tensor([[0.0, 0.0], [3.0, 4.0], [0.0, 0.0]])
    assert mean_pairwise_distance(x) == pytest.approx((5 + 0 + 5) / 3)
    assert mean_pairwise_distance(torch.ones(50, 3)) == 0.0


def test_mode_counts_on_the_ring():
    dist = ring_2d()
    gen = torch.Generator().manual_seed(0)
    means = torch.tensor(dist.means)
    full = mode_counts(dist.sample(800, gen), means, dist.std)
    assert full["modes_covered"] == 8 and full["on_modes"] == 1.0 and full["mode_quality"] > 0.99
    one = mode_counts(means[2] + 0.02 * torch.randn(400, 2, generator=gen), means, dist.std)
    assert one["modes_covered"] == 1
    centre = mode_counts(0.05 * torch.randn(400, 2, generator=gen), means, dist.std)  # a blob between modes
    assert centre["modes_covered"] == 0 and centre["on_modes"] == 0.0
