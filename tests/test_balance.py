"""train.balance = auto: the controller acts on the live diagnosis, within bounds, says why, and a
resumed run continues exactly; remedies a finding prints can be applied as written."""

from __future__ import annotations

import torch
from tiny import tiny_config

from gankit.api import make_trainer, resume
from gankit.config import load_preset
from gankit.diagnosis.remedies import remedy_list
from gankit.diagnosis.rules import Context
from gankit.run import RunDir

# D far faster than G (the diagnosis table's d_overpowering row): D wins from the first logs
D_WINS = ["optim.d.lr=5e-3", "optim.g.lr=1e-4", "train.d_steps=5", "train.log_every=5", "data.size=16384"]


def d_wins(steps: int, balance: str = "auto"):
    return tiny_config([*D_WINS, f"train.steps={steps}", f"train.balance={balance}", "train.epochs=1000"])


def balance_events(run: RunDir) -> list[dict]:
    return [r for r in run.read_stats() if r.get("event") == "balance"]


def test_the_controller_regularises_then_slows_down_an_overpowering_d(tmp_path):
    run = RunDir.create("x", tmp_path / "run")
    trainer = make_trainer(d_wins(100), run, progress=False)
    trainer.fit()
    events = balance_events(run)
    # first R1 on D (an MLP D: the penalty is right), then D down to G's speed: 1 D step at G's rate
    assert events[0]["set_r1_gamma"] == 0.1 and "R1" in events[0]["action"] and events[0]["reason"]
    assert trainer.objective.r1_gamma == 0.1
    slowed = next(e for e in events if "set_d_steps" in e)
    assert slowed["set_d_steps"] == 1
    assert trainer.schedule.d_steps == 1
    assert "0.005 -> 0.0001" in slowed["action"]
    assert 1e-4 / 4 - 1e-12 <= trainer.opt_d.param_groups[0]["lr"] <= 1e-4  # then halved, at most LR_RANGE-fold
    assert trainer.opt_g.param_groups[0]["lr"] == 1e-4  # G untouched
    from gankit.reports.page import build_report

    page = build_report(run.path)  # the report lists what the controller did, and why
    assert "What train.balance = auto did" in page and "R1 penalty on D on" in page and "D overpowers G" in page
    # ... and with the controller off nothing moves
    plain = make_trainer(d_wins(100, "off"), None, progress=False)
    plain.fit()
    assert plain.opt_d.param_groups[0]["lr"] == 5e-3 and plain.schedule.d_steps == 5
    assert plain.objective.r1_gamma == 0


def test_a_resumed_balanced_run_equals_one_that_never_stopped(tmp_path):
    straight = make_trainer(d_wins(130), RunDir.create("a", tmp_path / "a"), progress=False)
    straight.fit()
    first = RunDir.create("b", tmp_path / "b")
    make_trainer(d_wins(70), first, progress=False).fit()
    assert balance_events(first), "the controller must have acted before the stop"
    resumed = resume(first, overrides=["train.steps=130"], progress=False)
    assert resumed.objective.r1_gamma == 0.1  # the controller's R1 came back with the checkpoint
    resumed.fit()
    assert [e["action"] for e in balance_events(first)] == [e["action"] for e in balance_events(straight.run)]
    for a, b in zip(straight.G.state_dict().values(), resumed.G.state_dict().values()):
        assert torch.equal(a, b)
    for a, b in zip(straight.D.state_dict().values(), resumed.D.state_dict().values()):
        assert torch.equal(a, b)


def test_remedies_can_be_applied_as_written():
    base = Context.from_config(load_preset("ring-2d"))  # D once per G step, at G's rate
    texts = [str(r) for r in remedy_list("d_overpowering", base)]
    assert texts[0].endswith("(--set loss.r1_gamma=0.1)")
    assert not any("train.d_steps" in t or "down to G's" in t for t in texts)
    fast = Context.from_config(load_preset("ring-2d", ["optim.d.lr=5e-3", "train.d_steps=5"]))
    overrides = [r.overrides for r in remedy_list("d_overpowering", fast)]
    assert {"train.d_steps": 1} in overrides and {"optim.d.lr": fast.g_lr} in overrides
    g_fast = Context.from_config(load_preset("ring-2d", ["optim.g.lr=1e-2", "optim.d.lr=1e-5"]))
    # G far faster: both at the geometric mean of their speeds, typed as a user would
    assert {"optim.g.lr": 0.000316, "optim.d.lr": 0.000316} in [
        r.overrides for r in remedy_list("g_overpowering", g_fast)
    ]
    assert remedy_list("oscillation", g_fast)[0].overrides["optim.d.lr"] == 1e-6  # not 1.0000000000000002e-06
    bn = Context.from_config(load_preset("dcgan-mnist32"))  # batch norm in D: R1 would be wrong
    assert not any("loss.r1_gamma" in r.overrides for r in remedy_list("partial_mode_collapse", bn))
    s2 = Context.from_config(load_preset("mlp-mnist"))  # seed S2's G at PyTorch's init starts as one image
    assert remedy_list("mode_collapse", s2)[0].overrides["model.init"] == "kaiming"
    # every override names a real config key and a valid value
    for kind in ("d_overpowering", "g_overpowering", "mode_collapse", "overfitting_d", "oscillation", "divergence"):
        for ctx, preset in ((fast, "ring-2d"), (bn, "dcgan-mnist32"), (s2, "mlp-mnist")):
            if kind == "overfitting_d" and not ctx.image:
                continue  # held-out images exist only for image data
            for r in remedy_list(kind, ctx):
                if r.overrides:
                    load_preset(preset, [f"{k}={v}" for k, v in r.overrides.items()])


def test_an_overfitting_remedy_never_repeats_the_augmentation_d_already_sees():
    def first(*sets):
        return remedy_list("overfitting_d", Context.from_config(load_preset("dcgan-rgb", list(sets))))[0]

    assert first().overrides["augment.ada_target"] == 0.6  # no augmentation yet: ADA from p = 0
    diffaugment = first("augment.policy=color,translation,cutout", "augment.p=1", "augment.ada_target=0")
    assert diffaugment.overrides == {"augment.policy": "geometric,color,translation,cutout"}
    assert first("augment.policy=translation", "augment.p=0.5", "augment.ada_target=0").overrides == {"augment.p": 1.0}
    ada = first("augment.policy=translation,cutout", "augment.p=0", "augment.ada_target=0.6")
    assert ada.overrides == {"augment.ada_images": 125_000}
    everything = "augment.policy=geometric,color,translation,cutout"
    rest = remedy_list("overfitting_d", Context.from_config(load_preset("dcgan-rgb", [everything, "augment.p=1"])))
    assert not any(k.startswith("augment.") for r in rest for k in r.overrides)  # nothing more to augment
    for r in rest:
        load_preset("dcgan-rgb", [f"{k}={v}" for k, v in r.overrides.items()])


def test_the_controller_sees_what_the_warmup_holds_back_from_the_user():
    from gankit.diagnosis.rules import BALANCE_WARMUP_STEPS, Diagnoser

    d = Diagnoser(Context.from_config(load_preset("ring-2d")))
    wins = dict(d_loss=0.05, g_loss=5.0, d_real=0.97, d_fake=0.03, d_acc=0.99)
    for step in (10, 20, 30):
        assert d.update({"step": step, **wins}) == []  # inside the warm-up: nothing announced
    assert step < BALANCE_WARMUP_STEPS and d.holding() == []
    assert "d_overpowering" in d.holding(during_warmup=True)


def test_controls_reach_the_optimisers_and_the_loss():
    trainer = make_trainer(
        tiny_config(["optim.g.beta1=0.9", "optim.d.beta1=0.9", "train.balance=auto"]), None, progress=False
    )
    trainer.set_controls(beta1=0.5, r1_gamma=0.2, d_steps=3)
    assert all(g["betas"][0] == 0.5 for o in (trainer.opt_g, trainer.opt_d) for g in o.param_groups)
    assert trainer.objective.r1_gamma == 0.2 and trainer.schedule.d_steps_at(10) == 3
    assert trainer.state_dict()["controls"]["beta1"] == 0.5  # checkpointed


class _Holding:
    """A diagnosis stand-in whose findings are set by the test (the controller reads only these)."""

    def __init__(self, *kinds: str):
        self.kinds = list(kinds)
        self.diagnoser = self

    def holding(self, during_warmup: bool = False) -> list[str]:
        return self.kinds


def test_a_faster_g_and_a_crawling_d_meet_at_the_geometric_mean_one_remedy_at_a_time():
    from gankit.callbacks.balance import SETTLE_LOGS, BalanceCallback

    cfg = tiny_config(["optim.g.lr=1e-2", "optim.d.lr=1e-5", "train.balance=auto"])
    trainer = make_trainer(cfg, None, progress=False)
    found = _Holding("g_overpowering")
    balance = BalanceCallback(found, verbose=False)
    balance.on_log(trainer, {"step": 10})
    g, d = 1e-2 * trainer.controls.g_lr, 1e-5 * trainer.controls.d_lr  # the rates the next step uses
    # both at sqrt(1e-2 * 1e-5): D rises (never past G's configured rate), G comes down
    assert abs(g - 10**-3.5) < 1e-9 and abs(d - 10**-3.5) < 1e-9
    assert "geometric mean" in balance.actions[0]["action"]
    # a new finding right after: nothing until the last action has had SETTLE_LOGS logs to work
    found.kinds = ["oscillation"]
    balance.on_log(trainer, {"step": 10 + cfg.train.log_every})
    assert len(balance.actions) == 1
    balance.on_log(trainer, {"step": 10 + SETTLE_LOGS * cfg.train.log_every})
    assert len(balance.actions) == 2 and balance.actions[1]["finding"] == "oscillation"


def test_rates_far_too_high_on_both_sides_come_down_together_before_any_other_remedy():
    from gankit.callbacks.balance import RATE_SAFE, BalanceCallback

    cfg = tiny_config(["optim.g.lr=0.5", "optim.d.lr=0.25", "train.balance=auto"])
    trainer = make_trainer(cfg, None, progress=False)
    balance = BalanceCallback(_Holding("divergence"), verbose=False)
    balance.on_log(trainer, {"step": 10})
    g, d = 0.5 * trainer.controls.g_lr, 0.25 * trainer.controls.d_lr
    # the faster at RATE_SAFE, their ratio kept; halving 0.5 twice would leave it diverging
    assert abs(g - RATE_SAFE) < 1e-12 and abs(d - RATE_SAFE / 2) < 1e-12
    assert "above" in balance.actions[0]["reason"]
    # at sane rates the chain is the finding's own: a divergence at 1e-3 halves both
    calm = make_trainer(tiny_config(["optim.g.lr=1e-3", "optim.d.lr=1e-3", "train.balance=auto"]), None, progress=False)
    halved = BalanceCallback(_Holding("divergence"), verbose=False)
    halved.on_log(calm, {"step": 10})
    assert calm.controls.g_lr == 0.5 and calm.controls.d_lr == 0.5
    # the printed remedy: 10x lower, and no higher than RATE_SAFE
    wild = Context.from_config(load_preset("ring-2d", ["optim.g.lr=0.5", "optim.d.lr=0.5"]))
    assert remedy_list("divergence", wild)[0].overrides == {"optim.g.lr": 1e-3, "optim.d.lr": 1e-3}
    tame = Context.from_config(load_preset("ring-2d"))
    assert remedy_list("divergence", tame)[0].overrides == {"optim.g.lr": 1e-4, "optim.d.lr": 1e-4}


def test_a_new_run_at_rates_far_too_high_is_slowed_before_its_first_step(tmp_path):
    from gankit.callbacks.balance import PREFLIGHT, RATE_SAFE

    run = RunDir.create("x", tmp_path / "run")
    cfg = tiny_config(["optim.g.lr=0.5", "optim.d.lr=0.25", "train.balance=auto", "train.steps=2", "train.epochs=10"])
    trainer = make_trainer(cfg, run, progress=False)
    trainer.fit()
    first = balance_events(run)[0]
    assert first["step"] == 0 and first["finding"] == PREFLIGHT and "configured rates" in first["reason"]
    # the very first step already ran at the lower rates: the optimisers' rates equal the scaled ones
    assert abs(trainer.opt_g.param_groups[0]["lr"] - RATE_SAFE) < 1e-12
    assert abs(trainer.opt_d.param_groups[0]["lr"] - RATE_SAFE / 2) < 1e-12
    # a resumed run is not scaled a second time (the event is in its history), and sane rates are left alone
    more = resume(run, overrides=["train.steps=4"], progress=False)
    more.fit()
    assert [e["step"] for e in balance_events(run)].count(0) == 1
    assert abs(more.opt_g.param_groups[0]["lr"] - RATE_SAFE) < 1e-12
    calm = make_trainer(tiny_config(["train.balance=auto", "train.steps=2", "train.epochs=10"]), None, progress=False)
    calm.fit()
    assert calm.opt_g.param_groups[0]["lr"] == calm.cfg.optim.g.lr
