"""An exponential moving average of G's weights, used for samples and metrics.

    ema = EMA(G, decay=0.999)
    ...after each generator update: ema.update(G)
    samples = ema.module(z)

The average smooths out the oscillation of G's weights late in training, so samples from it are
usually cleaner than from G itself. Early on, a decay of 0.999 would average in the random
initial weights for thousands of steps; so the decay ramps up as min(decay, (1 + n) / (10 + n))
after n updates (0.18, 0.25, ... then `decay`). Buffers (batch-norm running statistics) are
copied from G, not averaged. G's statistics belong to G's current weights, though, not to the
average's; with `norm_inputs` (train.ema_bn_stats = recompute) the average gets its own instead,
recomputed from fresh latents before it samples or is saved (BigGAN's "standing statistics";
torch.optim.swa_utils.update_bn does the same for an SWA model but passes one input, where a
conditional G needs two).

torch.optim.swa_utils.AveragedModel does the same averaging; this class is used instead because
its ramp reads a host-side counter (AveragedModel's count is a device tensor, which a ramp would
have to synchronise on every step) and its state_dict is a plain G state_dict, which sampling can
load into a freshly built G.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable

import torch
from torch import nn


class EMA:
    def __init__(self, model: nn.Module, decay: float, norm_inputs: Callable[[], Iterable[tuple]] | None = None):
        """`norm_inputs`: None copies G's batch-norm statistics; else a function returning the
        same batches of G's inputs every time ((z,) or (z, labels)), from which the average's
        own statistics are computed."""
        if not 0 <= decay < 1:
            raise ValueError(f"EMA decay must be in [0, 1), got {decay}")
        self.decay = decay
        self.updates = 0
        self.module = copy.deepcopy(model).eval().requires_grad_(False)
        self.norm_inputs = norm_inputs
        self._stats_at = -1  # the update count the recomputed statistics belong to

    def current_decay(self) -> float:
        """The decay the next update uses: ramped up from 0.18 towards `decay`."""
        n = self.updates + 1
        return min(self.decay, (1 + n) / (10 + n))

    @torch.no_grad()
    def update(self, model: nn.Module) -> None:
        d = self.current_decay()
        avg = [p for p in self.module.parameters()]
        cur = [p.detach() for p in model.parameters()]
        for a, c in zip(avg, cur):  # public per-tensor lerp (the foreach form is a private torch API)
            a.lerp_(c, 1.0 - d)  # avg += (1 - d) * (cur - avg)
        for b_avg, b in zip(self.module.buffers(), model.buffers()):  # with norm_inputs, replaced on use
            b_avg.copy_(b)
        self.updates += 1

    def sampler(self) -> nn.Module:
        """The average, ready to draw from (its own statistics recomputed first where asked for,
        once per update)."""
        if self.norm_inputs is not None and self._stats_at != self.updates:
            self._recompute_norm_stats()
        return self.module

    @torch.no_grad()
    def _recompute_norm_stats(self) -> None:
        norms = [m for m in self.module.modules() if getattr(m, "track_running_stats", False)]
        momenta = [m.momentum for m in norms]
        for m in norms:
            m.reset_running_stats()
            m.momentum = None  # None: the plain mean over the batches, not a running one
        cuda = [p.device.index or 0 for p in self.module.parameters() if p.is_cuda][:1]
        with torch.random.fork_rng(devices=cuda):  # dropout in G must not move training's stream
            self.module.train()
            for inputs in self.norm_inputs():
                self.module(*inputs)
            self.module.eval()
        for m, momentum in zip(norms, momenta):
            m.momentum = momentum
        self._stats_at = self.updates

    def state_dict(self) -> dict:
        return self.sampler().state_dict()

    def load_state_dict(self, state: dict, updates: int) -> None:
        self.module.load_state_dict(state)
        self.updates = updates
        self._stats_at = -1  # recomputed on first use (the same draw, so the same statistics)
