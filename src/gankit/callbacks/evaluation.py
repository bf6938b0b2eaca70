"""Metrics during training: a trainer callback that scores the generator every `eval.every` epochs
(and at the end of training) on a fixed set of latent vectors, appends the values to
metrics.jsonl and writes checkpoints/best.pt whenever the primary value improves.

    trainer = Trainer(cfg, run, callbacks=[EvalCallback(cfg, data_root)])
"""

from __future__ import annotations

import logging
import math
import sys

import torch

from ..data import sample_shape
from ..errors import GankitError
from ..metrics import DIRECTION, check_primary, domain_of, parse_metrics
from ..metrics.evaluate import Evaluator, append_records, read_records, records
from ..nets import balanced_labels
from ..training.callbacks import Callback

log = logging.getLogger("gankit")


class EvalCallback(Callback):
    def __init__(self, cfg, data_root=None, verbose: bool = True):
        e = cfg.eval
        self.every, self.n = e.every, e.n
        self.data_root = data_root
        self.verbose = verbose
        self.cfg = cfg
        self._evaluator = None  # built on first use: the reference features cost a little
        shape = sample_shape(cfg.data)
        domain = domain_of(cfg.data.name, shape[0] if len(shape) == 1 else None)
        self.names = parse_metrics(
            e.metrics, domain, cfg.data.name, training=True, conditional=cfg.model.conditional == "true"
        )
        self.primary = check_primary(e.primary, self.names, domain)
        self.best = None  # best primary value so far (read back from metrics.jsonl on resume)

    def _load_best(self, run) -> None:
        sign = DIRECTION[self.primary]
        past = [
            r["value"]
            for r in read_records(run.path)
            if r.get("source") == "train" and r.get("metric") == self.primary and math.isfinite(r["value"])
        ]
        if past and run.checkpoint_path("best").is_file():
            self.best = max(past) if sign > 0 else min(past)

    def on_epoch_end(self, trainer, epoch: int) -> None:
        last = trainer.pos.step >= trainer.total_steps
        if self.every and (epoch % self.every == 0 or last):
            self.evaluate(trainer)

    def evaluate(self, trainer) -> dict:
        if self._evaluator is None:
            try:
                self._evaluator = Evaluator(self.cfg, self.data_root, self.n, trainer.device)
                # an RGB folder without Inception weights scores with the metrics that need none
                self.names = self._evaluator.usable(self.names)
                self.primary = check_primary(self.cfg.eval.primary, self.names, self._evaluator.domain)
            except GankitError as e:  # e.g. no Inception weights here: say so, train on without metrics
                log.warning("metrics during training are off: %s\n  (set eval.every=0 to silence this)", e)
                self.every = 0
                return {}
            if trainer.run is not None:
                self._load_best(trainer.run)
        # the same latent vectors every time, so successive scores differ only through G
        z = trainer.noise(self.n, torch.Generator().manual_seed(self.cfg.seed + 2))
        # a conditional G: every class equally often, scored against the classes asked for
        labels = balanced_labels(self.n, trainer.num_classes) if getattr(trainer, "num_classes", 0) else None
        values = self._evaluator.evaluate(trainer.generate(z, labels=labels).cpu(), self.names, labels)
        if trainer.run is not None:
            append_records(trainer.run.path, records(values, trainer.pos.step, self._evaluator, self.n, "train"))
            value, sign = values[self.primary], DIRECTION[self.primary]
            if math.isfinite(value) and (self.best is None or sign * (value - self.best) > 0):
                self.best = value
                trainer.run.save_checkpoint(trainer.state_dict(), "best")
        if self.verbose:
            from tqdm.auto import tqdm

            text = ", ".join(f"{k} {v:.4g}" for k, v in values.items())
            tqdm.write(
                f"eval at step {trainer.pos.step} ({self._evaluator.feature_net}, n={self.n}): {text}", file=sys.stderr
            )
        return values
