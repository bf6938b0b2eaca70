"""When things happen in a run: how real batches group into generator steps, how many steps the
run has, where each epoch ends, and the learning rate at each step.

One *step* is one generator update with its D steps, each on a fresh real batch (Algorithm 1 of
seed S2): train.d_steps_start D steps for the first train.d_steps_start_for steps (the WGAN paper
trains the critic near optimality first: 100 D steps for the first 25), train.d_steps after. An
epoch ends when the next group of D batches no longer fits in what is left of it.
"""

from __future__ import annotations

import math


class Schedule:
    def __init__(self, train_cfg, batches_per_epoch: int):
        self.t = train_cfg
        self.batches_per_epoch = batches_per_epoch
        self.d_steps = train_cfg.d_steps  # after the start phase; train.balance = auto may change it
        by_epochs = self.steps_in_epochs(train_cfg.epochs) if train_cfg.epochs else math.inf
        self.total_steps = int(min(by_epochs, train_cfg.steps or math.inf))  # computed once

    def d_steps_at(self, step: int) -> int:
        """D steps of the G step numbered `step` (from 0)."""
        t = self.t
        return t.d_steps_start if step < t.d_steps_start_for else self.d_steps

    def steps_in_epochs(self, epochs: int) -> int:
        """G steps that `epochs` epochs hold."""
        t, n = self.t, self.batches_per_epoch
        step = 0
        for _ in range(epochs):
            b = 0
            while step < t.d_steps_start_for and b + t.d_steps_start <= n:
                b, step = b + t.d_steps_start, step + 1
            if step >= t.d_steps_start_for:
                step += (n - b) // t.d_steps
        return step

    def epoch_is_over(self, step: int, batch: int) -> bool:
        """After `batch` batches of an epoch, whether the group of step `step` no longer fits."""
        return batch + self.d_steps_at(step) > self.batches_per_epoch

    def groups(self, loader, step: int, epoch: int, batch: int):
        """(step, epoch, first batch index, group of real batches) for every G step from the given
        position on, epoch after epoch, without end."""
        while True:
            group, first = [], batch
            for real in loader.epoch(epoch, batch):
                group.append(real)
                if len(group) == self.d_steps_at(step):
                    yield step, epoch, first, group
                    step, first, group = step + 1, first + len(group), []
                    if self.epoch_is_over(step, first):
                        break
            epoch, batch = epoch + 1, 0

    def lr_scale(self, step: int) -> float | None:
        """Factor on both base learning rates at `step` (None: constant rates). Cosine decay
        (train.lr_schedule = cosine): a GAN's oscillation around its equilibrium shrinks with the
        step size, so the game settles."""
        if self.t.lr_schedule == "constant":
            return None
        return 0.5 * (1 + math.cos(math.pi * step / max(self.total_steps, 1)))


def apply_lr_scale(scale: float | None, *opts) -> None:
    """Set each group's rate to its undecayed rate ("base_lr", saved with the optimiser) x scale."""
    if scale is None:
        return
    for opt in opts:
        for group in opt.param_groups:
            group.setdefault("base_lr", group["lr"])
            group["lr"] = group["base_lr"] * scale
