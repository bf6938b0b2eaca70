"""What to change when the diagnosis finds something: remedies a user can apply as written.

Each remedy is a sentence and, where one exists, the `--set` overrides that apply it, built from
the run's own settings: no "fewer D steps" when D already trains once per G step, no "a lower D
learning rate" when D's already equals G's, no R1 on a batch-norm D (the penalty would be wrong
there). The first remedy of a finding is the one validated on the failing runs of
scripts/diagnosis_table.py (scripts/remedy_validation.py applies it and reruns).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..augment.policy import parse_policy

R1_TOY = 0.1  # ring-2d-stable's gamma, for 2-D data of unit scale
R1_IMAGES = 1.0  # R3GAN's order of magnitude for small images in [-1, 1]
RATE_SAFE = 1e-3  # ring-2d's Adam rate, 5x the DCGAN seeds' 2e-4: the highest rate a slow-down suggests
MODERN_MLP = {
    "model.init": "kaiming",
    "loss.kind": "rpgan",
    "loss.r1_gamma": 1.0,
    "loss.r2_gamma": 1.0,
    "optim.g.lr": 2e-4,
    "optim.d.lr": 2e-4,
    "optim.g.beta1": 0.5,
    "optim.d.beta1": 0.5,
}
ADA = {"augment.policy": "translation,cutout", "augment.p": 0.0, "augment.ada_target": 0.6}


@dataclass
class Remedy:
    text: str
    overrides: dict = field(default_factory=dict)  # key -> value: `--set key=value` applies it

    def __str__(self) -> str:
        if not self.overrides:
            return self.text
        sets = " ".join(f"{k}={_value(v)}" for k, v in self.overrides.items())
        return f"{self.text} (--set {sets})"


def _value(v) -> str:
    return f"{v:g}" if isinstance(v, float) else str(v)


def _rate(v: float) -> float:
    """A learning rate as a user would type it (3 significant digits, no 1.0000000000000002e-06)."""
    return float(f"{v:.3g}")


def _meet(ctx) -> Remedy:
    """G faster than D: both at the geometric mean of their speeds (lr x steps per G step), as
    train.balance = auto does; slowing G down to a crawling D would freeze the run instead."""
    target = (ctx.g_lr * ctx.d_lr * ctx.d_steps) ** 0.5
    g, d = _rate(target), _rate(target / ctx.d_steps)
    return Remedy(
        f"G and D at one speed, the geometric mean of theirs (G's learning rate {ctx.g_lr:g} -> {g:g}, "
        f"D's {ctx.d_lr:g} -> {d:g})",
        {"optim.g.lr": g, "optim.d.lr": d},
    )


def _slower(ctx) -> dict:
    """Both learning rates 10x lower, and the faster no higher than RATE_SAFE (their ratio kept):
    a ring diverging at 0.5 still diverges at 0.05."""
    f = min(0.1, RATE_SAFE / max(ctx.g_lr, ctx.d_lr))
    return {"optim.g.lr": _rate(ctx.g_lr * f), "optim.d.lr": _rate(ctx.d_lr * f)}


def _more_augmentation(ctx) -> list[Remedy]:
    """For an overfitting D: augmentation where there is none, else more of what the run has
    (ADA's p sooner, every image, ADA's zoom and rotation), never what D already sees."""
    if not ctx.augment_policy:
        return [Remedy("augment what D sees, adaptively (ADA from p = 0 toward r_t 0.6)", dict(ADA))]
    out = []
    if ctx.augment_target > 0:
        out.append(
            Remedy(
                f"let ADA raise p 4x sooner ({ctx.augment_images} images from p = 0 to 1 now)",
                {"augment.ada_images": max(ctx.augment_images // 4, 1)},
            )
        )
    elif ctx.augment_p < 1:
        out.append(Remedy(f"augment every image D sees ({ctx.augment_p:g} of them now)", {"augment.p": 1.0}))
    ops = parse_policy(ctx.augment_policy)
    if "geometric" not in ops:
        out.append(Remedy("ADA's zoom and rotation as well", {"augment.policy": ",".join(("geometric", *ops))}))
    return out


def remedy_list(kind: str, ctx) -> list[Remedy]:
    """The remedies for a finding of `kind` in a run described by `ctx` (diagnosis.rules.Context), best first."""
    d_faster = ctx.d_lr * ctx.d_steps > ctx.g_lr * 1.5
    r1_ok = ctx.r1_gamma == 0 and not ctx.d_batch_norm
    r1_gamma = R1_IMAGES if ctx.image else R1_TOY
    r1 = Remedy(
        "an R1 penalty on D's real inputs, which keeps D smooth where the data are", {"loss.r1_gamma": r1_gamma}
    )
    ema = Remedy("samples from a moving average of G's weights", {"train.ema": 0.999})
    wgan = next((k for k in ctx.loss_kinds if k.startswith("wgan")), None)
    critic = (
        [
            Remedy(
                "a WGAN-GP critic",
                {"loss.kind": wgan, "model.d_norm": "layer"} if ctx.d_batch_norm else {"loss.kind": wgan},
            )
        ]
        if wgan and ctx.loss_kind != wgan
        else []
    )
    slow_d = []  # D faster than G: bring it down to G's speed
    if ctx.d_steps > 1:
        slow_d.append(Remedy(f"train D once per G step (it trains {ctx.d_steps} times now)", {"train.d_steps": 1}))
    if ctx.d_lr > ctx.g_lr * 1.5:
        slow_d.append(Remedy(f"D's learning rate down to G's ({ctx.d_lr:g} now)", {"optim.d.lr": ctx.g_lr}))
    if kind == "d_overpowering":
        return (
            ([r1] if r1_ok else [])
            + slow_d
            + [Remedy("one-sided label smoothing: real labels 0.9 instead of 1", {"loss.real_target": 0.9})]
            + (
                []
                if d_faster
                else [Remedy(f"D's learning rate below G's ({ctx.d_lr:g} now)", {"optim.d.lr": _rate(ctx.g_lr / 4)})]
            )
            + critic
        )
    if kind == "vanishing_g_gradients":
        first = (
            [
                Remedy(
                    "train G to maximise log D(G(z)) instead of minimising log(1 - D(G(z)))",
                    {"loss.g_form": "non-saturating"},
                )
            ]
            if ctx.g_form == "minimax"
            else []
        )
        return first + ([r1] if r1_ok else []) + slow_d + critic
    if kind in ("mode_collapse", "partial_mode_collapse"):
        out = ([r1] if r1_ok else []) + slow_d
        if ctx.image and ctx.init == "default" and ctx.g_arch in ("mlp", "goodfellow"):
            # a deep ReLU MLP G at PyTorch's init starts as one image; R1 alone did not help it (1/10 -> 2/10)
            out.insert(
                0,
                Remedy(
                    "mlp-mnist-modern's recipe: He init, the relativistic loss with R1/R2, Adam 2e-4 (0.5)", MODERN_MLP
                ),
            )
        if ctx.ema == 0:
            out.append(ema)
        if ctx.g_lr > ctx.d_lr * ctx.d_steps * 1.5:
            out.append(_meet(ctx))
        out.append(
            Remedy(
                "both learning rates 4x lower", {"optim.g.lr": _rate(ctx.g_lr / 4), "optim.d.lr": _rate(ctx.d_lr / 4)}
            )
        )
        return out + critic
    if kind == "overfitting_d":
        return [
            *_more_augmentation(ctx),
            *(
                []
                if ctx.flip or not ctx.image
                else [Remedy("random horizontal flips of the training images", {"data.flip": "true"})]
            ),
            Remedy("more training images"),
            *([r1] if r1_ok else []),
            Remedy(
                f"a smaller D: fewer or narrower layers, or dropout in D (model.d = {ctx.d_arch!r})",
                {"model.dropout": 0.3} if ctx.d_arch in ("mlp", "dcgan-mnist") else {},
            ),
        ]
    if kind == "g_overpowering":
        out = []
        if ctx.g_lr > ctx.d_lr * ctx.d_steps * 1.5:
            out.append(_meet(ctx))
        out.append(
            Remedy(f"train D more often per G step ({ctx.d_steps} now)", {"train.d_steps": min(ctx.d_steps + 1, 5)})
        )
        out.append(Remedy("pause G while D's accuracy is below 0.6", {"train.g_pause_below": 0.6}))
        if ctx.d_arch.startswith("dcgan"):
            out.append(Remedy("more D capacity: a wider D", {"model.d_width": 2.0}))
        else:
            out.append(Remedy(f"more D capacity: a wider or deeper D (model.d = {ctx.d_arch!r})"))
        out.append(Remedy("image-quality metrics, to judge the samples D no longer judges"))
        return out
    if kind == "divergence":
        return [
            Remedy(
                f"learning rates 10x lower (at most {RATE_SAFE:g}), started again or resumed from the last checkpoint",
                _slower(ctx),
            ),
            Remedy(
                "go back to the last good checkpoint with lower rates when it happens", {"train.on_nan": "rollback"}
            ),
            *critic,
        ]
    if kind == "oscillation":
        slower = _slower(ctx)
        if ctx.g_beta1 > 0.5 or ctx.d_beta1 > 0.5:  # on the ring neither change alone stopped it: both
            calmer = {"optim.g.beta1": 0.5, "optim.d.beta1": 0.5}
            return [
                Remedy("both learning rates 10x lower and less momentum (Adam beta1 = 0.5)", {**slower, **calmer}),
                Remedy("less momentum alone: Adam beta1 = 0.5, as the DCGAN seeds use", calmer),
                *critic,
            ]
        return [Remedy("both learning rates 10x lower", slower), *critic]
    return []
