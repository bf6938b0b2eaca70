"""GAN objectives as small functions of discriminator logits.

D returns logits; the seeds' final Sigmoid lives here, inside BCE-with-logits, which is the
same mathematics as Sigmoid + BCELoss but stable and safe under autocast.

    obj = make_objective(cfg.loss)
    d_loss = obj.d_loss(D(x), D(G(z).detach()))
    g_loss = obj.g_loss(D(G(z)))
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from .errors import GankitError


def _bce(logits: torch.Tensor, target: float) -> torch.Tensor:
    # -[t log sigmoid(l) + (1 - t) log(1 - sigmoid(l))], computed from logits
    return F.binary_cross_entropy_with_logits(logits, torch.full_like(logits, target))


def _mse(out: torch.Tensor, target: float) -> torch.Tensor:
    return F.mse_loss(out, torch.full_like(out, target))


@dataclass(frozen=True)
class Objective:
    """D and G losses for one `loss.kind`. The G step always asks D to say "real" (target 1)."""

    kind: str = "bce"
    g_form: str = "non-saturating"
    real_target: float = 1.0
    fake_target: float = 0.0
    d_reduction: str = "sum"

    def _d_terms(self, real: torch.Tensor, fake: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        f = _bce if self.kind == "bce" else _mse
        return f(real, self.real_target), f(fake, self.fake_target)

    def d_loss(self, real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
        """Seed S2: D ascends log D(x) + log(1 - D(G(z))), i.e. descends the BCE of both halves."""
        lr, lf = self._d_terms(real, fake)
        total = lr + lf
        return total * 0.5 if self.d_reduction == "mean" else total

    def g_loss(self, fake: torch.Tensor) -> torch.Tensor:
        if self.kind == "lsgan":
            return _mse(fake, 1.0)  # least squares: push D(G(z)) to the real label
        if self.g_form == "minimax":
            # descend log(1 - D(G(z))) = -BCE(l, 0): saturates when D confidently rejects G's samples
            return -_bce(fake, 0.0)
        return _bce(fake, 1.0)  # non-saturating: ascend log D(G(z))

    def penalty(self, d, real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor | None:
        """Extra D regulariser (gradient penalties); none for these losses."""
        return None

    def score(self, out: torch.Tensor) -> torch.Tensor:
        """What is reported as D(x): a probability for BCE, D's raw output for least squares."""
        return torch.sigmoid(out) if self.kind == "bce" else out

    @property
    def threshold(self) -> float:
        """Score above which D calls a sample real, for its accuracy."""
        return 0.5 if self.kind == "bce" else (self.real_target + self.fake_target) / 2


def make_objective(loss_cfg) -> Objective:
    if loss_cfg.kind not in ("bce", "lsgan"):
        raise GankitError(f"unknown loss.kind '{loss_cfg.kind}'")
    return Objective(loss_cfg.kind, loss_cfg.g_form, loss_cfg.real_target, loss_cfg.fake_target,
                     loss_cfg.d_reduction)
