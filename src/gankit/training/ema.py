"""An exponential moving average of G's weights, used for samples and metrics.

    ema = EMA(G, decay=0.999)
    ...after each generator update: ema.update(G)
    samples = ema.module(z)

The average smooths out the oscillation of G's weights late in training, so samples from it are
usually cleaner than from G itself. Early on, a decay of 0.999 would average in the random
initial weights for thousands of steps; so the decay ramps up as min(decay, (1 + n) / (10 + n))
after n updates (0.18, 0.25, ... then `decay`). Buffers (batch-norm running statistics) are
copied from G, not averaged: they belong to G's current weights.

torch.optim.swa_utils.AveragedModel does the same averaging; this class is used instead because
its ramp reads a host-side counter (AveragedModel's count is a device tensor, which a ramp would
have to synchronise on every step) and its state_dict is a plain G state_dict, which sampling can
load into a freshly built G.
"""

from __future__ import annotations

import copy

import torch
from torch import nn


class EMA:
    def __init__(self, model: nn.Module, decay: float):
        if not 0 <= decay < 1:
            raise ValueError(f"EMA decay must be in [0, 1), got {decay}")
        self.decay = decay
        self.updates = 0
        self.module = copy.deepcopy(model).eval().requires_grad_(False)

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
        for b_avg, b in zip(self.module.buffers(), model.buffers()):
            b_avg.copy_(b)
        self.updates += 1

    def state_dict(self) -> dict:
        return self.module.state_dict()

    def load_state_dict(self, state: dict, updates: int) -> None:
        self.module.load_state_dict(state)
        self.updates = updates
