"""Training statistics kept on the device between logs: sums and counts (means at log time) and,
for the losses, the min and max within the interval. Read once per log (the one host sync),
all-reduced over processes, then reset."""

from __future__ import annotations

import math

import torch

from .. import distributed

STAT_KEYS = ("d_loss", "g_loss", "d_real", "d_fake", "d_acc", "d_grad_norm", "g_grad_norm")
SPREAD_KEYS = ("d_loss", "g_loss")  # also logged as <key>_min / <key>_max within each log interval


class RunningStats:
    def __init__(self, device, keys=STAT_KEYS, spread_keys=SPREAD_KEYS):
        self.keys, self.spread_keys = tuple(keys), tuple(spread_keys)
        self.sums = {k: torch.zeros((), device=device) for k in self.keys}
        self.lo = {k: torch.full((), math.inf, device=device) for k in self.spread_keys}
        self.hi = {k: torch.full((), -math.inf, device=device) for k in self.spread_keys}
        self.counts = {"d": 0, "g": 0}

    def add(self, player: str, **values: torch.Tensor) -> None:
        """One update's values for `player` ("d" or "g": the keys' means count its updates)."""
        for k, v in values.items():
            self.sums[k] += v.detach().float()
            if k in self.lo:
                torch.minimum(self.lo[k], v.detach().float(), out=self.lo[k])
                torch.maximum(self.hi[k], v.detach().float(), out=self.hi[k])
        self.counts[player] += 1

    def _tensors(self) -> list[torch.Tensor]:
        tensors = (
            [self.sums[k] for k in self.keys]
            + [self.lo[k] for k in self.spread_keys]
            + [self.hi[k] for k in self.spread_keys]
        )
        if distributed.current().enabled:  # every rank's: mean of the sums, min and max of the spreads
            n, m = len(self.keys), len(self.spread_keys)
            tensors = [
                *distributed.all_reduce(torch.stack(tensors[:n]), "mean"),
                *distributed.all_reduce(torch.stack(tensors[n : n + m]), "min"),
                *distributed.all_reduce(torch.stack(tensors[n + m :]), "max"),
            ]
        return tensors

    def sync(self) -> list[float]:
        """The host read that ends a log interval (also what a benchmark's timing must include)."""
        return torch.stack(self._tensors()).tolist()

    def read_and_reset(self) -> dict:
        """{key: mean over the interval, key_min, key_max} and a fresh interval."""
        values = self.sync()
        out = {}
        for k, v in zip(self.keys, values):
            out[k] = v / max(self.counts["g" if k.startswith("g_") else "d"], 1)
        spread = values[len(self.keys) :]
        m = len(self.spread_keys)
        for i, k in enumerate(self.spread_keys):
            out[f"{k}_min"], out[f"{k}_max"] = spread[i], spread[i + m]
        self.reset()
        return out

    def reset(self) -> None:
        for v in self.sums.values():
            v.zero_()
        for lo, hi in zip(self.lo.values(), self.hi.values()):
            lo.fill_(math.inf)
            hi.fill_(-math.inf)
        self.counts = {"d": 0, "g": 0}
