"""GAN objectives as small functions of discriminator logits.

D returns logits; the seeds' final Sigmoid lives here, inside BCE-with-logits, which is the
same mathematics as Sigmoid + BCELoss but stable and safe under autocast.

    obj = make_objective(cfg.loss)
    d_loss = obj.d_loss(D(x), D(G(z).detach())) + obj.penalty(D, x, G(z).detach())  # penalty may be None
    g_loss = obj.g_loss(D(G(z)))

For wgan-gp and hinge, D is a critic: its raw output is a score, not a probability.
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


def _input_grad(d, x: torch.Tensor) -> torch.Tensor:
    """dD(x)/dx per sample, kept in the graph so a penalty on it trains D (double backward).
    Summing D's outputs is exact because each output depends on its own sample only."""
    x = x.detach().requires_grad_(True)  # a leaf of its own: real/fake batches never need grad
    (grad,) = torch.autograd.grad(d(x).sum(), x, create_graph=True)
    return grad.flatten(1)


def gradient_penalty(d, real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    """WGAN-GP: E[(|grad D(x_hat)|_2 - 1)^2] on x_hat = e*x + (1-e)*G(z), e ~ U[0, 1] per sample."""
    from . import distributed

    # several processes: every rank draws the global batch's weights and keeps its slice (see distributed)
    n, world = real.shape[0], distributed.current().world
    eps = torch.rand((n * world,) + (1,) * (real.dim() - 1), device=real.device, dtype=real.dtype)
    eps = eps[distributed.shard(n * world)] if world > 1 else eps
    x_hat = torch.lerp(fake.detach(), real.detach(), eps)
    return (_input_grad(d, x_hat).norm(2, dim=1) - 1).pow(2).mean()


def r1_penalty(d, real: torch.Tensor) -> torch.Tensor:
    """R1: E[|grad D(x)|^2] on real samples only (multiplied by gamma/2 by the caller)."""
    return _input_grad(d, real).pow(2).sum(1).mean()


@dataclass(frozen=True)
class Objective:
    """D and G losses for one `loss.kind`. The G step always asks D to say "real" (target 1)."""

    kind: str = "bce"
    g_form: str = "non-saturating"
    real_target: float = 1.0
    fake_target: float = 0.0
    d_reduction: str = "sum"
    gp_weight: float = 10.0  # wgan-gp's lambda
    r1_gamma: float = 0.0  # >0 adds gamma/2 * R1 to D's loss

    @property
    def is_critic(self) -> bool:
        """True when D's raw output is a score (wgan-gp, hinge) rather than a logit or a regression."""
        return self.kind in ("wgan-gp", "hinge")

    def _d_terms(self, real: torch.Tensor, fake: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        if self.kind == "wgan-gp":
            return -real.mean(), fake.mean()  # the critic ascends E[D(x)] - E[D(G(z))]
        if self.kind == "hinge":
            return F.relu(1 - real).mean(), F.relu(1 + fake).mean()
        f = _bce if self.kind == "bce" else _mse
        return f(real, self.real_target), f(fake, self.fake_target)

    def d_loss(self, real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
        """Seed S2: D ascends log D(x) + log(1 - D(G(z))), i.e. descends the BCE of both halves."""
        lr, lf = self._d_terms(real, fake)
        total = lr + lf
        return total * 0.5 if self.d_reduction == "mean" else total

    def g_loss(self, fake: torch.Tensor) -> torch.Tensor:
        if self.is_critic:
            return -fake.mean()  # raise the critic's score of G's samples
        if self.kind == "lsgan":
            return _mse(fake, 1.0)  # least squares: push D(G(z)) to the real label
        if self.g_form == "minimax":
            # descend log(1 - D(G(z))) = -BCE(l, 0): saturates when D confidently rejects G's samples
            return -_bce(fake, 0.0)
        return _bce(fake, 1.0)  # non-saturating: ascend log D(G(z))

    def penalty(self, d, real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor | None:
        """D's gradient penalties: wgan-gp's lambda * GP, plus gamma/2 * R1 when r1_gamma > 0.
        None when there is none (no extra D forward then)."""
        terms = []
        if self.kind == "wgan-gp" and self.gp_weight > 0:
            terms.append(self.gp_weight * gradient_penalty(d, real, fake))
        if self.r1_gamma > 0:
            terms.append(0.5 * self.r1_gamma * r1_penalty(d, real))
        return sum(terms) if terms else None

    def score(self, out: torch.Tensor) -> torch.Tensor:
        """What is reported as D(x): a probability for BCE, D's raw output otherwise
        (least squares, and the critic value for wgan-gp and hinge)."""
        return torch.sigmoid(out) if self.kind == "bce" else out

    @property
    def threshold(self) -> float:
        """Score above which D calls a sample real, for its accuracy. A critic's sign is its verdict
        (hinge pushes real above +1 and fake below -1); a WGAN critic is only defined up to a
        constant, so its accuracy at 0 is a rough guide."""
        if self.is_critic:
            return 0.0
        return 0.5 if self.kind == "bce" else (self.real_target + self.fake_target) / 2


KINDS = ("bce", "lsgan", "wgan-gp", "hinge")


def make_objective(loss_cfg) -> Objective:
    if loss_cfg.kind not in KINDS:
        raise GankitError(f"unknown loss.kind '{loss_cfg.kind}'; choose one of: {', '.join(KINDS)}")
    return Objective(loss_cfg.kind, loss_cfg.g_form, loss_cfg.real_target, loss_cfg.fake_target,
                     loss_cfg.d_reduction, getattr(loss_cfg, "gp_weight", 10.0), getattr(loss_cfg, "r1_gamma", 0.0))
