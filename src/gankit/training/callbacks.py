"""The hooks a training run calls, for plug-ins: progress, metrics, diagnosis, reports.

A callback subclasses Callback and overrides what it needs; every method is optional. This
module imports nothing from the loop: a callback reads the trainer through its public surface
(cfg, run, device, G, D, g_ema, dataset, loader, objective, pos, schedule, total_steps, noise(),
generate(), state_dict()).

    class Announce(Callback):
        def on_epoch_end(self, trainer, epoch):
            print("epoch", epoch, "at step", trainer.pos.step)

Hooks that draw random numbers run with the training streams saved and restored, so what is
measured never changes what is trained.
"""

from __future__ import annotations


class Callback:
    def measure(self, trainer, record: dict) -> dict | None:
        """At each log, before the record is written: extra statistics to add to it (for example
        the diversity of G's samples, or D's outputs on held-out images)."""
        return None

    def on_train_start(self, trainer) -> None:
        """Before the first step of `fit` (of a new run, or of a resumed one at its position)."""

    def on_log(self, trainer, record: dict) -> None:
        """After each log record has been written to stats.jsonl."""

    def on_epoch_end(self, trainer, epoch: int) -> None:
        """After epoch `epoch` (counted from 1) and its checkpoint."""

    def on_train_end(self, trainer) -> None:
        """After the last step and the final checkpoint."""

    def on_diverge(self, trainer, record: dict) -> None:
        """The losses became non-finite; `record` is the last one. Training stops right after
        (or, with train.on_nan = rollback, goes back to the last good checkpoint)."""
