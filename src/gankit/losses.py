"""GAN losses as a table: one row per `loss.kind`, each a few small functions of D's outputs.

D returns logits; the seeds' final Sigmoid lives here, inside BCE-with-logits, which is the
same mathematics as Sigmoid + BCELoss but stable and safe under autocast.

    obj = make_objective(cfg.loss)
    d_loss = obj.d_loss(D(x), D(G(z).detach())) + obj.penalty(D, x, G(z).detach())  # penalty may be None
    g_loss = obj.g_loss(D(G(z)))            # relativistic rows also take D(x): obj.g_loss(D(G(z)), D(x))
    g_extra = obj.g_extra(D, x, G(z))       # feature matching (loss.feature_matching), or None

Adding a loss is one new row of LOSSES: config choices, the diagnosis (critic or not) and the
speed settings (penalty or not) read what they need from it. For critics (wgan-gp, hinge) D's
raw output is a score, not a probability. rpgan (R3GAN's relativistic pairing) is a critic whose
score has no meaningful zero at all: only D(x) - D(G(z)) enters the loss.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from . import distributed
from .errors import GankitError


def _bce(logits: torch.Tensor, target: float) -> torch.Tensor:
    # -[t log sigmoid(l) + (1 - t) log(1 - sigmoid(l))], computed from logits
    return F.binary_cross_entropy_with_logits(logits, torch.full_like(logits, target))


def _mse(out: torch.Tensor, target: float) -> torch.Tensor:
    return F.mse_loss(out, torch.full_like(out, target))


# ---------------------------------------------------------------- the rows' functions
# d(real, fake, s) -> (real term, fake term); g(fake, real, s) -> G's loss; s: the LossConfig settings


def _bce_d(real, fake, s):
    return _bce(real, s.real_target), _bce(fake, s.fake_target)


def _bce_g(fake, real, s):
    if s.g_form == "minimax":
        # descend log(1 - D(G(z))) = -BCE(l, 0): saturates when D confidently rejects G's samples
        return -_bce(fake, 0.0)
    return _bce(fake, 1.0)  # non-saturating: ascend log D(G(z))


def _lsgan_d(real, fake, s):
    return _mse(real, s.real_target), _mse(fake, s.fake_target)


def _lsgan_g(fake, real, s):
    return _mse(fake, 1.0)  # least squares: push D(G(z)) to the real label


def _wgan_d(real, fake, s):
    return -real.mean(), fake.mean()  # the critic ascends E[D(x)] - E[D(G(z))]


def _hinge_d(real, fake, s):
    return F.relu(1 - real).mean(), F.relu(1 + fake).mean()


def _critic_g(fake, real, s):
    return -fake.mean()  # raise the critic's score of G's samples


def _rpgan_d(real, fake, s):
    # R3GAN's relativistic pairing: each real sample against the generated one beside it;
    # D descends softplus(-(D(x) - D(G(z)))). One term: the "fake" half is zero.
    return F.softplus(fake - real).mean(), real.new_zeros(())


def _rpgan_g(fake, real, s):
    return F.softplus(real - fake).mean()  # softplus(-(D(G(z)) - D(x))): G's samples above the reals beside them


def _probability(out):
    return torch.sigmoid(out)


def _raw(out):
    return out


def _label_midpoint(s) -> float:
    return (s.real_target + s.fake_target) / 2


@dataclass(frozen=True)
class Loss:
    """One row of the table."""

    d: Callable  # (D(x), D(G(z)), settings) -> (real term, fake term), summed or averaged by d_reduction
    g: Callable  # (D(G(z)), D(x) or None, settings) -> G's loss
    score: Callable  # D's output -> what is reported as D(x): a probability, or the raw score
    threshold: Callable  # settings -> score above which D calls a sample real (its accuracy)
    critic: bool = False  # D's output is a score defined up to an offset, not a probability
    gradient_penalty: bool = False  # WGAN-GP's penalty on real/fake interpolates (weight loss.gp_weight)
    g_needs_real: bool = False  # G's loss also reads D(x) (relativistic losses): one more D forward
    relative: bool = False  # the loss sees only D(x) - D(G(z)): D's verdicts are taken against the
    # midpoint of the batch's mean real and mean fake scores, not against a fixed threshold
    about: str = ""


LOSSES: dict[str, Loss] = {
    "bce": Loss(
        _bce_d,
        _bce_g,
        _probability,
        lambda s: 0.5,
        about="seed S2's value function: BCE on logits (non-saturating or minimax G)",
    ),
    "lsgan": Loss(
        _lsgan_d,
        _lsgan_g,
        _raw,
        _label_midpoint,
        about="least squares (seed S3's MSE): D regresses the labels, G pushes D(G(z)) to the real one",
    ),
    "wgan-gp": Loss(
        _wgan_d,
        _critic_g,
        _raw,
        lambda s: 0.0,
        critic=True,
        gradient_penalty=True,
        about="Wasserstein critic E[D(G(z))] - E[D(x)] + lambda * GP",
    ),
    "hinge": Loss(
        _hinge_d,
        _critic_g,
        _raw,
        lambda s: 0.0,
        critic=True,
        about="hinge: E[relu(1 - D(x))] + E[relu(1 + D(G(z)))], G: -E[D(G(z))]",
    ),
    # a critic: the loss is unchanged when a constant is added to D, so its raw output is a score
    # with no meaningful zero; verdicts (accuracy, ADA's sign) are relative (see Objective.verdicts)
    "rpgan": Loss(
        _rpgan_d,
        _rpgan_g,
        _raw,
        lambda s: 0.0,
        critic=True,
        g_needs_real=True,
        relative=True,
        about="R3GAN's relativistic pairing: D softplus(-(D(x) - D(G(z)))), G softplus(-(D(G(z)) - D(x))); "
        "use with loss.r1_gamma and loss.r2_gamma",
    ),
}
KINDS = tuple(LOSSES)


def loss_row(kind: str) -> Loss:
    if kind not in LOSSES:
        from .errors import did_you_mean

        raise GankitError(f"unknown loss.kind '{kind}'{did_you_mean(kind, KINDS)}; choose one of: {', '.join(KINDS)}")
    return LOSSES[kind]


def is_critic(kind: str) -> bool:
    return kind in LOSSES and LOSSES[kind].critic


def has_penalty(loss_cfg) -> bool:
    """Whether D's loss holds a gradient of a gradient (GP or R1): bf16 rounding visibly perturbs it."""
    return (
        kind_has_gp(loss_cfg.kind) or getattr(loss_cfg, "r1_gamma", 0.0) > 0 or getattr(loss_cfg, "r2_gamma", 0.0) > 0
    )


def kind_has_gp(kind: str) -> bool:
    return kind in LOSSES and LOSSES[kind].gradient_penalty


# ---------------------------------------------------------------- penalties


def _input_grad(d, x: torch.Tensor) -> torch.Tensor:
    """dD(x)/dx per sample, kept in the graph so a penalty on it trains D (double backward).
    Summing D's outputs is exact because each output depends on its own sample only."""
    x = x.detach().requires_grad_(True)  # a leaf of its own: real/fake batches never need grad
    (grad,) = torch.autograd.grad(d(x).sum(), x, create_graph=True)
    return grad.flatten(1)


def gradient_penalty(d, real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    """WGAN-GP: E[(|grad D(x_hat)|_2 - 1)^2] on x_hat = e*x + (1-e)*G(z), e ~ U[0, 1] per sample."""
    # several processes: every rank draws the global batch's weights and keeps its slice (see distributed)
    n, world = real.shape[0], distributed.current().world
    eps = torch.rand((n * world,) + (1,) * (real.dim() - 1), device=real.device, dtype=real.dtype)
    eps = eps[distributed.shard(n * world)] if world > 1 else eps
    x_hat = torch.lerp(fake.detach(), real.detach(), eps)
    return (_input_grad(d, x_hat).norm(2, dim=1) - 1).pow(2).mean()


def r1_penalty(d, real: torch.Tensor) -> torch.Tensor:
    """R1: E[|grad D(x)|^2] on real samples only (multiplied by gamma/2 by the caller)."""
    return _input_grad(d, real).pow(2).sum(1).mean()


def r2_penalty(d, fake: torch.Tensor) -> torch.Tensor:
    """R2: the same on generated samples, E[|grad D(G(z))|^2] (R3GAN pairs it with R1)."""
    return _input_grad(d, fake).pow(2).sum(1).mean()


def feature_matching(d, real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    """Salimans et al. 2016: |E f(x) - E f(G(z))|^2 with f D's last hidden features (D.features);
    the real side is a fixed target for G."""
    if not callable(getattr(d, "features", None)):
        raise GankitError(
            f"loss.feature_matching needs a D with a features(x) method; {type(d).__name__} has "
            "none (gankit's built-in discriminators have one; add it to your own D)"
        )
    with torch.no_grad():
        target = d.features(real).flatten(1).mean(0)
    return (d.features(fake).flatten(1).mean(0) - target).pow(2).sum()


# ---------------------------------------------------------------- a row with its settings


@dataclass(frozen=True)
class Objective:
    """D and G losses of one row of LOSSES with the run's settings. The G step always asks D to
    say "real" (target 1)."""

    kind: str = "bce"
    g_form: str = "non-saturating"
    real_target: float = 1.0
    fake_target: float = 0.0
    d_reduction: str = "sum"
    gp_weight: float = 10.0  # wgan-gp's lambda
    r1_gamma: float = 0.0  # >0 adds gamma/2 * R1 to D's loss
    r2_gamma: float = 0.0  # >0 adds gamma/2 * R2 (on generated samples) to D's loss
    feature_matching: float = 0.0  # >0 adds this * feature matching to G's loss

    @property
    def row(self) -> Loss:
        return loss_row(self.kind)

    @property
    def is_critic(self) -> bool:
        """True when D's raw output is a score (wgan-gp, hinge) rather than a logit or a regression."""
        return self.row.critic

    @property
    def g_needs_real(self) -> bool:
        return self.row.g_needs_real

    def d_loss(self, real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
        """Seed S2: D ascends log D(x) + log(1 - D(G(z))), i.e. descends the BCE of both halves."""
        lr, lf = self.row.d(real, fake, self)
        total = lr + lf
        return total * 0.5 if self.d_reduction == "mean" else total

    def g_loss(self, fake: torch.Tensor, real: torch.Tensor | None = None) -> torch.Tensor:
        return self.row.g(fake, real, self)

    def penalty(self, d, real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor | None:
        """D's gradient penalties: wgan-gp's lambda * GP, plus gamma/2 * R1 when r1_gamma > 0.
        None when there is none (no extra D forward then)."""
        terms = []
        if self.row.gradient_penalty and self.gp_weight > 0:
            terms.append(self.gp_weight * gradient_penalty(d, real, fake))
        if self.r1_gamma > 0:
            terms.append(0.5 * self.r1_gamma * r1_penalty(d, real))
        if self.r2_gamma > 0:
            terms.append(0.5 * self.r2_gamma * r2_penalty(d, fake))
        return sum(terms) if terms else None

    def g_extra(self, d, real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor | None:
        """Terms G's loss adds beyond the row's: feature matching on D's features. None when none."""
        return self.feature_matching * feature_matching(d, real, fake) if self.feature_matching > 0 else None

    def verdicts(self, real_out: torch.Tensor, fake_out: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Per sample, +1 where D calls it real and -1 where D calls it generated, for the real and
        the generated batch: the sign of (score - threshold). A relative row (rpgan) has no fixed
        zero, so its cut is the midpoint of the batch's mean real and mean generated scores."""
        s_real, s_fake = self.score(real_out).detach(), self.score(fake_out).detach()
        cut = (s_real.mean() + s_fake.mean()) / 2 if self.row.relative else self.threshold
        return torch.where(s_real > cut, 1.0, -1.0), torch.where(s_fake > cut, 1.0, -1.0)

    def accuracy(self, real_out: torch.Tensor, fake_out: torch.Tensor) -> torch.Tensor:
        """D's accuracy on one batch of each: reals called real and generated called generated."""
        v_real, v_fake = self.verdicts(real_out, fake_out)
        return ((v_real > 0).float().mean() + (v_fake < 0).float().mean()) / 2

    def score(self, out: torch.Tensor) -> torch.Tensor:
        """What is reported as D(x): a probability for BCE, D's raw output otherwise
        (least squares, and the critic value for wgan-gp and hinge)."""
        return self.row.score(out)

    @property
    def threshold(self) -> float:
        """Score above which D calls a sample real, for its accuracy. A critic's sign is its verdict
        (hinge pushes real above +1 and fake below -1); a WGAN critic is only defined up to a
        constant, so its accuracy at 0 is a rough guide."""
        return self.row.threshold(self)


def make_objective(loss_cfg) -> Objective:
    loss_row(loss_cfg.kind)  # a clear error for an unknown kind
    return Objective(
        loss_cfg.kind,
        loss_cfg.g_form,
        loss_cfg.real_target,
        loss_cfg.fake_target,
        loss_cfg.d_reduction,
        getattr(loss_cfg, "gp_weight", 10.0),
        getattr(loss_cfg, "r1_gamma", 0.0),
        getattr(loss_cfg, "r2_gamma", 0.0),
        getattr(loss_cfg, "feature_matching", 0.0),
    )
