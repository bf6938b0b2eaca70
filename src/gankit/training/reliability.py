"""What the trainer does when training goes wrong: non-finite losses or weights, and checkpoints
that do not fit the current configuration.

    train.on_nan = "stop"      stop with a diagnosis; the last good checkpoint is untouched
    train.on_nan = "rollback"  reload the last good checkpoint, multiply both learning rates by
                               train.rollback_lr_factor, and go on; at most train.max_rollbacks times
"""

from __future__ import annotations

import copy
import logging
import math

import torch

from .. import config as C
from ..errors import GankitError
from .optim import learning_rates

log = logging.getLogger("gankit")

# keys that decide the shapes of the networks' tensors: a checkpoint must agree on all of them
SHAPE_KEYS = ("data.name", "data.resolution")
SHAPE_PREFIXES = ("model.",)


class Diverged(GankitError):
    """A loss or a weight became NaN or infinite (caught by Trainer.fit for a rollback)."""

    def __init__(self, message: str, step: int):
        super().__init__(message)
        self.step = step


def nonfinite_tensors(module: torch.nn.Module, limit: int = 3) -> list[str]:
    """Names of the first `limit` parameters or floating buffers holding NaN or Inf."""
    bad = []
    tensors = list(module.named_parameters()) + [(n, b) for n, b in module.named_buffers() if b.is_floating_point()]
    for name, t in tensors:
        if not torch.isfinite(t).all():
            bad.append(name)
            if len(bad) >= limit:
                break
    return bad


def check_weights(G: torch.nn.Module, D: torch.nn.Module, step: int) -> None:
    """Raise Diverged if G or D holds a non-finite value (so it never reaches a checkpoint)."""
    for side, net in (("G", G), ("D", D)):
        bad = nonfinite_tensors(net)
        if bad:
            raise Diverged(
                f"{side}'s weights became non-finite at step {step} "
                f"(first: {', '.join(bad)}); no checkpoint was written with them",
                step,
            )


def diagnosis(trainer, err: Diverged) -> str:
    """Plain-language account of a divergence: what went non-finite, the last finite statistics,
    and what to change."""
    lr_g, lr_d = learning_rates(trainer.opt_g, trainer.opt_d)
    lines = [f"training diverged: {err}."]
    records = trainer.run.read_stats() if trainer.run else []
    finite = [
        r
        for r in records
        if all(isinstance(r.get(k), (int, float)) and math.isfinite(r[k]) for k in ("d_loss", "g_loss"))
    ]
    if finite:
        first, last = finite[0], finite[-1]
        lines.append(
            f"  Last finite statistics (step {last['step']}): D loss {last['d_loss']:.4g}, "
            f"G loss {last['g_loss']:.4g}, D grad norm {last.get('d_grad_norm', float('nan')):.3g} "
            f"(was {first.get('d_grad_norm', float('nan')):.3g} at step {first['step']}), "
            f"G grad norm {last.get('g_grad_norm', float('nan')):.3g} "
            f"(was {first.get('g_grad_norm', float('nan')):.3g})."
        )
    for side, net in (("G", trainer.G), ("D", trainer.D)):
        bad = nonfinite_tensors(net)
        if bad:
            lines.append(f"  {side} holds non-finite weights (first: {', '.join(bad)}).")
    lines.append(
        f"  Learning rates now: G {lr_g:g}, D {lr_d:g}; growing gradient norms before a NaN usually "
        "mean they are too high."
    )
    if trainer.pos.rollbacks:
        lines.append(
            f"  This happened after {trainer.pos.rollbacks} rollback(s) (train.max_rollbacks = "
            f"{trainer.cfg.train.max_rollbacks})."
        )
    if trainer.run and trainer.run.checkpoint_path().is_file():
        lines.append(f"  The last good checkpoint ({trainer.run.checkpoint_path()}) is untouched.")
    else:
        lines.append("  No checkpoint had been written yet, so nothing was kept.")
    if trainer.cfg.train.on_nan == "rollback":
        lines.append(
            "  Lower optim.g.lr / optim.d.lr and start again, or allow more rollbacks "
            "(train.max_rollbacks) or a smaller train.rollback_lr_factor."
        )
    else:
        lines.append(
            "  Lower optim.g.lr / optim.d.lr and start again, or set train.on_nan=rollback to reload the "
            "last good checkpoint with lower rates automatically."
        )
    return "\n".join(lines)


class Rollback:
    """The last good state to go back to after a divergence (train.on_nan = rollback): the run's
    checkpoint, or, without a run directory, a copy in memory."""

    def __init__(self):
        self.good_state: dict | None = None

    def prepare(self, trainer) -> None:
        """Before training with on_nan = rollback, make sure a good state exists to go back to."""
        self.good_state = None
        if trainer.cfg.train.on_nan != "rollback":
            return
        if trainer.run is not None:
            if not trainer.run.checkpoint_path().is_file():
                trainer.save()
        else:
            self.good_state = copy.deepcopy(trainer.state_dict())

    def handle(self, trainer, err: Diverged) -> None:
        """Raise a GankitError with a diagnosis, or restore the last good state with lower learning
        rates (the next fit pass then continues from there)."""
        t = trainer.cfg.train
        if t.on_nan != "rollback" or trainer.pos.rollbacks >= t.max_rollbacks:
            raise GankitError(diagnosis(trainer, err)) from None
        count = trainer.pos.rollbacks + 1
        lr_g, lr_d = learning_rates(trainer.opt_g, trainer.opt_d)
        state = trainer.run.load_checkpoint(map_location=trainer.device) if trainer.run else self.good_state
        trainer.load_state_dict(state)
        trainer.pos.rollbacks = count
        for opt, lr in ((trainer.opt_g, lr_g), (trainer.opt_d, lr_d)):
            for group in opt.param_groups:
                group["lr"] = lr * t.rollback_lr_factor
                if "base_lr" in group:  # under a learning-rate schedule, lower the rate it decays from
                    group["base_lr"] *= t.rollback_lr_factor
        trainer.stats.reset()
        new_g, new_d = learning_rates(trainer.opt_g, trainer.opt_d)
        log.warning(
            "%s; rollback %d of %d to step %d with learning rates G %g, D %g",
            err,
            count,
            t.max_rollbacks,
            trainer.pos.step,
            new_g,
            new_d,
        )
        if trainer.run:
            trainer.run.truncate_stats(trainer.pos.step)
            trainer.save()  # the lower rates and the rollback count survive a later resume
        else:
            self.good_state = copy.deepcopy(trainer.state_dict())


def config_differences(saved: dict, cfg: C.Config, keys=None) -> list[str]:
    """'key: checkpoint X, now Y' for each shape-deciding key (or each of `keys`) that differs."""
    before = C.flatten(C.from_saved(saved).to_dict())
    now = C.flatten(cfg.to_dict())
    out = []
    for k in sorted(now):
        if keys is None and not (k in SHAPE_KEYS or k.startswith(SHAPE_PREFIXES)):
            continue
        if keys is not None and k not in keys:
            continue
        if before.get(k) != now[k]:
            out.append(f"{k}: checkpoint {before.get(k)!r}, now {now[k]!r}")
    return out
