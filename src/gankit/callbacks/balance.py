"""train.balance = auto: a bounded controller that acts on the live diagnosis.

After each log it reads the findings the diagnosis holds, including those its warm-up still holds
back from the user (a mild remedy early beats a finding late: a ring GAN that D overpowers loses
its modes within the 300-step warm-up, and R1 at step 300 no longer brings them back), and takes
one step of the remedy for each: when the finding starts, and again every COOLDOWN_LOGS logs
while it still holds, but never sooner than SETTLE_LOGS logs after its last action on any finding
(one remedy at a time: R1 needs a few hundred steps to work, and a second change before then was
measured to undo it). Every step is bounded (learning rates come to one speed and then at most
LR_RANGE-fold lower; D steps stay in 1..D_STEPS_MAX) and is recorded in stats.jsonl as
{"event": "balance", ...} with its reason, which the report shows.

    D overpowers G / G's gradients vanish  ->  R1 on D, then D slowed to G's speed, then Adam
                                               beta1 down to 0.5, then D's rate halved
    G overpowers D                         ->  G and D at one speed, then more D steps, then halved
    (partial) mode collapse                ->  R1 on D, then G and D at one speed, then beta1 down
                                               to 0.5, then both rates halved (an imbalance found
                                               at the same time is treated first)
    oscillation                            ->  Adam beta1 down to 0.5, then both rates halved (twice)
    divergence                             ->  both learning rates halved (twice)
    D overfits (images)                    ->  ADA switched on (translation + cutout, target 0.6)

Before any of these, where both sides' learning rates are above RATE_HIGH (beyond every rate a
gankit recipe trains at), both are scaled down together until the faster is at RATE_SAFE: that run
is not out of balance, its steps are too long (the ring at 0.5 or 1e-2 on both sides; halving
0.5 twice leaves it diverging). A new run whose configured rates are both that high is scaled
down before its first step (recorded as finding "learning_rates", step 0): by the time a finding
starts, 20 steps at 0.5 have wrecked the weights.

A side's speed is its learning rate times its updates per G step (D steps per G step). A faster D
comes down to G's speed; a faster G and D meet at the geometric mean of their speeds, so D's rate
may rise, never past G's (slowing G down to a D at 1e-5 froze the ring runs). Otherwise the
controller only lowers rates, regularises D (R1, only where D has no batch norm, which would make
the penalty wrong) or augments.
"""

from __future__ import annotations

import sys

from ..diagnosis.remedies import RATE_SAFE
from ..training.callbacks import Callback
from .diagnosis import DiagnosisCallback

COOLDOWN_LOGS = 10  # logs between two actions on one finding: 3 clean logs clear it, R1 takes longer
SETTLE_LOGS = 10  # logs after any action before the next (on any finding): one remedy at a time
LR_RANGE = 4.0  # below where it started or was equalized, a rate is halved at most twice: the run keeps learning
LR_STEP = 0.5  # each action halves a learning rate
D_STEPS_MAX = 5  # the WGAN paper's critic steps per G step
ADA_POLICY = "translation,cutout"  # DiffAugment's geometric ops: colour shifts would change what G must draw
ADA_TARGET = 0.6  # ADA's r_t target (Karras et al. 2020)
R1_GAMMA_TOY = 0.1  # ring-2d-stable's gamma: keeps D smooth around 2-D data of unit scale
R1_GAMMA_IMAGES = 1.0  # R3GAN's order of magnitude for small images in [-1, 1]
CALM_BETA1 = 0.5  # the DCGAN seeds' Adam momentum
EQUAL_MARGIN = 1.5  # a side is "faster" when it moves more than 1.5x as fast as the other
BALANCE_FIRST = ("d_overpowering", "g_overpowering", "vanishing_g_gradients")
RATE_HIGH = 2e-3  # above every Adam rate a gankit preset trains at (dcgan-mnist32-modern's D: 1.6e-3)
PREFLIGHT = "learning_rates"  # the "finding" of the action taken before the first step


def _say(text: str) -> None:
    from tqdm.auto import tqdm

    tqdm.write(text, file=sys.stderr)


class BalanceCallback(Callback):
    """Acts on `diagnosis`'s open findings (it must come after it in the callback list)."""

    def __init__(self, diagnosis: DiagnosisCallback, run=None, verbose: bool = True, history: list[dict] | None = None):
        self.diagnosis = diagnosis
        self.run = run
        self.verbose = verbose
        self.last_action: dict[str, int] = {}  # finding kind -> step of the last action on it
        self.actions: list[dict] = []
        self.floor: dict[str, float] = {}  # side -> the lowest factor its learning rate may reach
        for event in history or []:  # a resumed run: the same cool-downs and floors as if never stopped
            if event.get("event") == "balance":
                self._remember(event)

    def _remember(self, event: dict) -> None:
        self.actions.append(event)
        self.last_action[event["finding"]] = event["step"]
        for side in ("g", "d"):
            if f"floor_{side}" in event:
                self.floor[side] = event[f"floor_{side}"]

    def on_log(self, trainer, record: dict) -> None:
        step, cooldown = record["step"], COOLDOWN_LOGS * trainer.cfg.train.log_every
        remedy = next((a for a in reversed(self.actions) if a["finding"] != PREFLIGHT), None)
        if remedy is not None and step - remedy["step"] < SETTLE_LOGS * trainer.cfg.train.log_every:
            return  # the last remedy (on any finding) has not had time to work yet: one at a time
        for kind in self.diagnosis.diagnoser.holding(during_warmup=True):
            last = self.last_action.get(kind)
            if last is not None and step - last < cooldown:
                continue
            floors = dict(self.floor)
            change = self._remedy(trainer, kind)
            if change is None:
                continue
            self._act(trainer, step, kind, change, floors)
            return  # one action per log: the next waits SETTLE_LOGS logs

    def on_train_start(self, trainer) -> None:
        """Before a new run's first step: both learning rates above RATE_HIGH are scaled down at
        once, not at the first finding: 20 steps at 0.5 wreck the weights before a finding can
        start (a resumed run, or one the controller has acted on, is left as it is)."""
        if trainer.pos.step or self.actions:
            return
        floors = dict(self.floor)
        if change := self._too_fast(trainer, PREFLIGHT):
            self._act(trainer, 0, PREFLIGHT, change, floors)

    def _act(self, trainer, step: int, kind: str, change: tuple, floors: dict) -> None:
        """Apply `change` (what, why, controls) and record it as a balance event."""
        action, reason, changes = change
        trainer.set_controls(**changes)
        event = {
            "event": "balance",
            "step": step,
            "finding": kind,
            "action": action,
            "reason": reason,
            **{f"set_{k}": v for k, v in changes.items()},
            **{f"floor_{k}": v for k, v in self.floor.items() if floors.get(k) != v},
        }
        self._remember(event)
        if self.run is not None:
            self.run.append_stats(event)
        if self.verbose:
            _say(f"gankit: balance at step {step}: {action} ({reason})")

    def _remedy(self, trainer, kind: str):
        """(what was done, why, the controls that change) or None where nothing is left to do."""
        if kind != "overfitting_d" and (slower := self._too_fast(trainer, kind)):
            return slower
        if kind in ("d_overpowering", "vanishing_g_gradients"):
            why = "D overpowers G" if kind == "d_overpowering" else "G's gradients vanish: D rejects every fake"
            # R1, then D at G's speed, then less momentum (an Adam beta1 of 0.9 makes D overshoot
            # even at G's rate), then D's rate halved
            return (
                _r1(trainer, why)
                or self._equalize(trainer, "d", why)
                or self._calm_momentum(trainer, why)
                or self._halve(trainer.controls, "d", why)
            )
        if kind == "g_overpowering":
            why = "G overpowers D: D can no longer tell real from fake"
            c = trainer.controls
            return self._equalize(trainer, "g", why) or (
                _change(c, "d_steps", c.d_steps + 1, why) if c.d_steps < D_STEPS_MAX else self._halve(c, "g", why)
            )
        if kind in ("mode_collapse", "partial_mode_collapse"):
            if any(k in BALANCE_FIRST for k in self.diagnosis.diagnoser.holding(during_warmup=True)):
                return None  # an imbalance is the likelier cause: its remedy comes first
            why = "G's samples collapse onto a few modes"
            return (
                _r1(trainer, why)
                or self._equalize(trainer, "g", why)
                or self._equalize(trainer, "d", why)
                or self._calm(trainer, why)
            )
        if kind in ("oscillation", "divergence"):
            why = "the game oscillates" if kind == "oscillation" else "the statistics run away"
            return self._calm(trainer, why, momentum=kind == "oscillation")
        if kind == "overfitting_d" and trainer.dataset.is_image and not trainer.exp.augment.enabled:
            return (
                f"augmentation on: {ADA_POLICY}, adaptive (ADA, target r_t {ADA_TARGET})",
                "D memorises the training images",
                {"augment_policy": ADA_POLICY, "augment_target": ADA_TARGET},
            )
        return None

    def _too_fast(self, trainer, kind: str):
        """Both learning rates above RATE_HIGH: both scaled by one factor so that the faster is at
        RATE_SAFE (their ratio kept); None otherwise."""
        c = trainer.controls
        lr = _rates(trainer)
        if min(lr.values()) <= RATE_HIGH:
            return None
        f = RATE_SAFE / max(lr.values())
        changes = {f"{s}_lr": getattr(c, f"{s}_lr") * f for s in ("g", "d")}
        for s in ("g", "d"):
            self.floor[s] = changes[f"{s}_lr"] / LR_RANGE
        text = f"both learning rates x{f:.3g} (G's {lr['g']:.3g} -> {lr['g'] * f:.3g}, D's {lr['d']:.3g} -> {lr['d'] * f:.3g})"
        what = "the configured rates are" if kind == PREFLIGHT else f"{kind.replace('_', ' ')} with"
        why = f"{what} both above {RATE_HIGH:g}: Adam's steps are too long on both sides"
        return text, why, changes

    def _calm(self, trainer, why: str, momentum: bool = True):
        """Calm the game: Adam's beta1 down to CALM_BETA1 (momentum carries each side past the other),
        then both learning rates halved (bounded)."""
        c = trainer.controls
        if momentum and (calmer := self._calm_momentum(trainer, why)):
            return calmer
        g, d = self._halve(c, "g", why), self._halve(c, "d", why)
        if g is None and d is None:
            return None
        changes = {**(g[2] if g else {}), **(d[2] if d else {})}
        return "; ".join(x[0] for x in (g, d) if x), why, changes

    @staticmethod
    def _calm_momentum(trainer, why: str):
        """Adam's beta1 down to CALM_BETA1 on both sides where it is higher; None where it is not."""
        beta1 = max(g.get("betas", (0.0,))[0] for o in (trainer.opt_g, trainer.opt_d) for g in o.param_groups)
        if beta1 <= CALM_BETA1:
            return None
        return f"Adam beta1 {beta1:g} -> {CALM_BETA1:g} on both sides", why, {"beta1": CALM_BETA1}

    def _equalize(self, trainer, side: str, why: str):
        """Bring the faster `side` and the other to one speed (learning rate x D steps per G step):
        the seeds train both at one rate. A faster D comes down to G's speed (1 D step per G step);
        a faster G and D meet at the geometric mean of their speeds, so D rises, never past G's rate:
        slowing G down to a crawling D would freeze the side whose samples the user wants.
        None when `side` is not clearly the faster one."""
        c = trainer.controls
        g, d = _speeds(trainer)
        mine, other = (g, d) if side == "g" else (d, g)
        if mine <= EQUAL_MARGIN * other:
            return None
        lr = _rates(trainer)
        if side == "d":
            new_lr = {"d": g}
            changes = {"d_lr": c.d_lr * g / lr["d"], "d_steps": 1}
        else:
            target = (g * d) ** 0.5
            new_lr = {"g": target, "d": target / c.d_steps}
            changes = {f"{s}_lr": getattr(c, f"{s}_lr") * new_lr[s] / lr[s] for s in ("g", "d")}
        for s in new_lr:
            self.floor[s] = changes[f"{s}_lr"] / LR_RANGE
        name = {"g": "G", "d": "D"}
        text = ", ".join(f"{name[s]}'s learning rate {lr[s]:.3g} -> {new_lr[s]:.3g}" for s in new_lr)
        if side == "d":
            steps = f" and 1 D step per G step (was {c.d_steps})" if c.d_steps > 1 else ""
            return f"{text}{steps}, as fast as G", why, changes
        return f"{text}: both at the geometric mean of their speeds", why, changes

    def _halve(self, c, side: str, why: str):
        """Halve one side's learning rate, down to LR_RANGE-fold below where it started (or was equalized)."""
        factor = getattr(c, f"{side}_lr")
        new = factor * LR_STEP
        if new < self.floor.get(side, 1 / LR_RANGE) - 1e-12:
            return None
        name = "G" if side == "g" else "D"
        return f"{name}'s learning rate x{LR_STEP:g} (x{new:.3g} of the configured rate)", why, {f"{side}_lr": new}


def _rates(trainer) -> dict[str, float]:
    """The learning rates the next step uses, by side ("g", "d")."""
    return {"g": trainer.opt_g.param_groups[0]["lr"], "d": trainer.opt_d.param_groups[0]["lr"]}


def _speeds(trainer) -> tuple[float, float]:
    """How fast each side moves per G step: G's learning rate, and D's times its steps."""
    lr = _rates(trainer)
    return lr["g"], lr["d"] * trainer.controls.d_steps


def _r1(trainer, why: str):
    """An R1 penalty on D where there is none and it can be right (D without batch norm)."""
    if trainer.controls.r1_gamma > 0 or not hasattr(trainer.objective, "r1_gamma") or _batch_norm(trainer.D):
        return None
    gamma = R1_GAMMA_IMAGES if trainer.dataset.is_image else R1_GAMMA_TOY
    return f"R1 penalty on D on (gamma {gamma:g})", why, {"r1_gamma": gamma}


def _batch_norm(net) -> bool:
    from torch import nn

    kinds = (nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d, nn.SyncBatchNorm)
    return any(isinstance(m, kinds) for m in net.modules())


def _change(c, key: str, value, why: str):
    return f"{key.replace('_', ' ')} {getattr(c, key)} -> {value}", why, {key: value}


def with_balance(
    cfg, callbacks: list, run=None, data_root=None, verbose: bool = True, history: list[dict] | None = None
) -> list:
    """`callbacks` with the controller after the diagnosis it reads (a quiet diagnosis is added
    when there is none) when cfg.train.balance is auto; else `callbacks` unchanged."""
    if cfg.train.balance != "auto":
        return callbacks
    from ..diagnosis.rules import Context

    diagnosis = next((cb for cb in callbacks if isinstance(cb, DiagnosisCallback)), None)
    if diagnosis is None:
        diagnosis = DiagnosisCallback(Context.from_config(cfg), None, history, verbose=False, data_root=data_root)
        callbacks = [*callbacks, diagnosis]
    return [*callbacks, BalanceCallback(diagnosis, run, verbose, history)]
