"""Typed, frozen configuration: one set of defaults, TOML in and out, `--set` overrides.

A config is a tree of frozen dataclasses. It is resolved once (preset or file,
then overrides), validated in one place, saved with the run as `config.toml`,
and stored in every checkpoint so a run can be repeated or resumed exactly.

    cfg = load_preset("dcgan-mnist32", overrides=["train.epochs=3", "optim.d.lr=2e-4"])
"""

from __future__ import annotations

import copy
import dataclasses
import math
import sys
from dataclasses import dataclass, field, fields, is_dataclass
from pathlib import Path
from typing import Any, get_type_hints

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

import tomli_w

from .errors import GankitError, did_you_mean
from .names import IMAGE_DATA, TOY_DATA

PRESET_DIR = Path(__file__).parent / "presets"


@dataclass(frozen=True)
class DataConfig:
    name: str = "ring-2d"  # see gankit.names: the toy sets, mnist, fashion-mnist, stacked-mnist, folder
    root: str = ""  # IDX data root or image folder; "" = --data-root, $GANKIT_DATA, user cache
    split: str = "train"  # train | test (IDX data sets)
    resolution: int = 0  # image side after Resize+CenterCrop; 0 = native size
    size: int = 0  # toy sets, stacked-mnist: samples per epoch (0 = the set's default)
    flip: bool = False  # random horizontal flips, done on the training device
    stream: str = "auto"  # auto | on | off: image folders decoded by DataLoader workers as they are read
    workers: int = -1  # streaming worker processes; -1 = min(8, CPU cores)
    holdout: float = 0.0  # image folders: fraction of files kept out of training (fixed by seed) for eval.reference


@dataclass(frozen=True)
class ModelConfig:
    g: str = "mlp"  # generator architecture (see `gankit.nets.ARCHITECTURES`)
    d: str = "mlp"  # discriminator architecture
    latent_dim: int = 64
    noise: str = "normal"  # normal | uniform  (the latent distribution)
    hidden: int = 128  # MLP width
    layers: int = 3  # MLP linear maps
    g_activation: str = "relu"  # relu | leaky_relu | elu | softplus | tanh
    d_activation: str = "relu"
    leak: float = 0.2  # negative slope of leaky_relu (seed S3 uses PyTorch's default 0.01)
    d_group: int = 1  # >1: D scores groups of this many samples from their moments (seed S1)
    d_pack: int = 1  # >1: PacGAN packing, D scores this many samples concatenated (train.batch_size a multiple)
    dropout: float = 0.0  # D dropout probability where the architecture has dropout
    resolution: int = 0  # image side the networks are built for (0 = from the data)
    channels: int = 0  # image channels (0 = from the data)
    init: str = "default"  # default | dcgan (N(0, 0.02) convs, N(1, 0.02) batch norm) | kaiming (He, biases 0)
    d_norm: str = "batch"  # batch | layer | none: D's normalisation in the DCGAN families (WGAN-GP: no batch norm)
    spectral_norm: bool = False  # spectral normalisation on every conv/linear layer of D
    d_width: float = 1.0  # DCGAN families: D's channel widths times this (more D capacity); 1 = the seeds'
    g_width: float = 1.0  # DCGAN families: G's channel widths times this
    d_mbstd: int = 0  # >1 (dcgan-upsample, dcgan): D appends the minibatch standard deviation over groups of this many
    conditional: str = "false"  # false | true | auto (true when the data have labels): G(z, y), D(x, y)
    num_classes: int = 0  # classes of a conditional model; 0 = from the data's labels
    aux_classifier: float = 0.0  # >0 (conditional only): AC-GAN, a class head on D's features; its cross-entropy times this joins D's and G's losses


@dataclass(frozen=True)
class LossConfig:
    kind: str = "bce"  # a row of gankit.losses.LOSSES: bce | lsgan | wgan-gp | hinge
    g_form: str = "non-saturating"  # non-saturating (max log D(G(z))) | minimax (min log(1-D(G(z))))
    real_target: float = 1.0  # label for real samples (0.9 = one-sided smoothing)
    fake_target: float = 0.0  # label for generated samples
    d_reduction: str = "sum"  # sum | mean  of the real and fake D losses
    gp_weight: float = 10.0  # wgan-gp: lambda of the gradient penalty on real/fake interpolates
    r1_gamma: float = 0.0  # >0: R1 penalty gamma/2 * E|grad D(x)|^2 on real samples (any loss)
    r2_gamma: float = 0.0  # >0: R2 penalty gamma/2 * E|grad D(G(z))|^2 on generated samples (R3GAN)
    feature_matching: float = 0.0  # >0: G also descends this * |E f(x) - E f(G(z))|^2 on D's features
    lecam: float = 0.0  # >0: LeCam regularisation (Tseng et al. 2021) of D's outputs, times this (their 0.3)
    lecam_decay: float = 0.99  # decay of the moving averages of D's real and generated outputs it anchors to
    bcr_real: float = 0.0  # >0: balanced consistency regularisation (Zhao et al. 2021), weight of E[(D(x) - D(T(x)))^2]
    bcr_fake: float = 0.0  # >0: the same on generated samples, E[(D(G(z)) - D(T(G(z))))^2] (the paper: 10 each)
    bcr_policy: str = "translation"  # T: augment ops at p = 1 with the augment.* ratios (color, translation, ...)
    perceptual: str = ""  # "" only: a VGG/LPIPS loss needs pretrained weights gankit cannot fetch


@dataclass(frozen=True)
class OptimConfig:
    kind: str = "adam"  # adam | sgd
    lr: float = 2e-4
    beta1: float = 0.5  # Adam beta1, or SGD momentum
    beta2: float = 0.999
    weight_decay: float = 0.0


@dataclass(frozen=True)
class OptimPair:
    g: OptimConfig = field(default_factory=OptimConfig)
    d: OptimConfig = field(default_factory=OptimConfig)
    d_lr_ratio: float = 0.0  # >0: D's lr = d_lr_ratio * optim.g.lr (replaces optim.d.lr); 0 = use optim.d.lr


@dataclass(frozen=True)
class TrainConfig:
    epochs: int = 10
    steps: int = 0  # >0: stop after this many generator steps, whatever `epochs` says
    batch_size: int = 64
    d_steps: int = 1  # discriminator steps per generator step (Algorithm 1's k)
    g_steps: int = 1  # G updates in a step, each on fresh noise (after D's steps; no data of their own)
    d_steps_start: int = 0  # >0: D steps per G step during the first `d_steps_start_for` G steps
    d_steps_start_for: int = 0  # G steps that use d_steps_start (WGAN: 100 D steps for the first 25)
    lr_schedule: str = "constant"  # constant | cosine (both learning rates decay to 0 at the last step)
    ema: float = 0.0  # decay of an exponential moving average of G's weights used for samples; 0 = off
    ema_bn_stats: str = "copy"  # copy | recompute: the average's batch-norm statistics: G's, or its own
    order: str = "d-first"  # d-first | g-first  (which network is updated first in a step)
    log_every: int = 50  # steps between statistics lines in stats.jsonl
    checkpoint_every: int = 0  # steps between checkpoints (0 = at the end of every epoch)
    sample_grid: int = 64  # fixed-noise samples in each epoch's grid (toy sets: points drawn)
    on_nan: str = "stop"  # stop | rollback: what to do when a loss or weight becomes NaN/Inf
    max_rollbacks: int = 3  # rollback: at most this many reloads of the last good checkpoint
    rollback_lr_factor: float = 0.5  # rollback: both learning rates are multiplied by this each time
    sync_bn: bool = False  # several GPUs: batch norm over the global batch (SyncBatchNorm; CUDA only)
    dist_timeout: float = 1800.0  # several processes: seconds a collective waits for a lost rank before failing
    g_pause_below: float = 0.0  # >0: skip G's updates while D's accuracy (last log interval) is below this
    balance: str = "off"  # off | auto: a bounded controller acts on the live diagnosis (R1, rates, D steps, ADA)


@dataclass(frozen=True)
class EvalConfig:
    every: int = 1  # epochs between metric evaluations during training (0 = never); also at the end
    n: int = 2000  # generated samples per evaluation (`gankit eval` defaults to 10000)
    metrics: str = ""  # comma-separated names (see gankit.metrics.REGISTRY); "" = the data set's default
    primary: str = ""  # value that picks checkpoints/best.pt, e.g. fid; "" = the data set's default
    reference: str = "auto"  # auto | train | holdout: real images scored against (auto: MNIST test split; folders: holdout if data.holdout > 0)


@dataclass(frozen=True)
class LogConfig:
    tensorboard: str = "auto"  # auto (when installed) | on | off: scalars and sample grids in RUN/tb/
    progress: str = "auto"  # auto (bar on a terminal, plain lines otherwise) | bar | plain | off


@dataclass(frozen=True)
class SpeedConfig:
    """How fast the step runs, never what it computes in fp32 (see gankit.training.speed). auto: the best
    setting known for the device (CUDA: bf16, channels_last, compile, fused Adam; CPU: bf16 where
    the CPU has native bf16, channels_last, fused Adam; toy sets: plain fp32 everywhere)."""

    amp: str = "auto"  # auto | bf16 | off: bf16 autocast of the forward passes
    channels_last: str = "auto"  # auto | on | off: NHWC memory layout for convolutions
    compile: str = "auto"  # auto | on | off: torch.compile of G and D (compile time pays off only on a GPU)
    fused_adam: str = "auto"  # auto | on | off: Adam's fused implementation (one kernel on CUDA)
    cuda_graphs: str = "auto"  # auto (off) | on | off: replay CUDA graphs (torch.compile reduce-overhead)


@dataclass(frozen=True)
class DiagnosisConfig:
    holdout: str = (
        ""  # folder of real images D never trains on, for the overfitting check (MNIST-like sets: the other split)
    )


@dataclass(frozen=True)
class AugmentConfig:
    """Differentiable augmentation of every image D sees, real and generated (DiffAugment), with
    ADA's adaptive probability (gankit.augment). Off by default."""

    policy: str = ""  # comma-separated: geometric, color, translation, cutout; "" = off
    p: float = 1.0  # probability each op is applied to a sample (ADA: the starting value)
    ada_target: float = 0.0  # >0: adapt p so r_t = E[sign(D(x_real))] stays near this (ADA: 0.6)
    ada_interval: int = 4  # D steps between two adjustments of p
    ada_images: int = 500_000  # images over which p can move from 0 to 1 (the adjustment rate)
    translation: float = 0.125  # largest shift, as a fraction of the image side
    cutout: float = 0.5  # side of the cut-out square, as a fraction of the image side
    rotation: float = 15.0  # geometric: largest rotation, in degrees either way
    scale: float = 0.2  # geometric: standard deviation of the log2 of the zoom (ADA's 0.2)


@dataclass(frozen=True)
class Config:
    name: str = "custom"
    description: str = ""
    seed: int = 0
    device: str = "auto"  # auto | cpu | cuda | cuda:N
    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    loss: LossConfig = field(default_factory=LossConfig)
    optim: OptimPair = field(default_factory=OptimPair)
    train: TrainConfig = field(default_factory=TrainConfig)
    eval: EvalConfig = field(default_factory=EvalConfig)
    log: LogConfig = field(default_factory=LogConfig)
    speed: SpeedConfig = field(default_factory=SpeedConfig)
    diagnosis: DiagnosisConfig = field(default_factory=DiagnosisConfig)
    augment: AugmentConfig = field(default_factory=AugmentConfig)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    def replace(self, **changes) -> Config:
        return dataclasses.replace(self, **changes)


# ---------------------------------------------------------------- choices and ranges

CHOICES = {
    "device": None,  # checked in validate()
    "data.name": (*TOY_DATA, *IMAGE_DATA),
    "data.split": ("train", "test"),
    "model.noise": ("normal", "uniform"),
    "model.g_activation": ("relu", "leaky_relu", "elu", "softplus", "tanh"),
    "model.d_activation": ("relu", "leaky_relu", "elu", "softplus", "tanh"),
    "model.init": ("default", "dcgan", "kaiming"),
    "loss.kind": None,  # the rows of gankit.losses.LOSSES, checked in validate()
    "model.d_norm": ("batch", "layer", "none"),
    "model.conditional": ("false", "true", "auto"),
    "loss.g_form": ("non-saturating", "minimax"),
    "loss.d_reduction": ("sum", "mean"),
    "optim.g.kind": ("adam", "sgd"),
    "optim.d.kind": ("adam", "sgd"),
    "data.stream": ("auto", "on", "off"),
    "eval.reference": ("auto", "train", "holdout"),
    "train.order": ("d-first", "g-first"),
    "train.lr_schedule": ("constant", "cosine"),
    "train.balance": ("off", "auto"),
    "train.ema_bn_stats": ("copy", "recompute"),
    "log.tensorboard": ("auto", "on", "off"),
    "log.progress": ("auto", "bar", "plain", "off"),
    "train.on_nan": ("stop", "rollback"),
    "speed.amp": ("auto", "bf16", "off"),
    "speed.channels_last": ("auto", "on", "off"),
    "speed.compile": ("auto", "on", "off"),
    "speed.fused_adam": ("auto", "on", "off"),
    "speed.cuda_graphs": ("auto", "on", "off"),
}


def validate(cfg: Config) -> Config:
    """Check every value a user can get wrong; raise GankitError naming the key and the fix."""
    flat = flatten(cfg.to_dict())
    for key, allowed in CHOICES.items():
        if allowed is not None and flat[key] not in allowed:
            raise GankitError(
                f"{key} = {flat[key]!r} is not valid{did_you_mean(str(flat[key]), allowed)}; "
                f"choose one of: {', '.join(allowed)}"
            )
    from .losses import KINDS  # late import: the table's functions import torch

    if cfg.loss.kind not in KINDS:
        raise GankitError(
            f"loss.kind = {cfg.loss.kind!r} is not valid{did_you_mean(cfg.loss.kind, KINDS)}; "
            f"choose one of: {', '.join(KINDS)}"
        )
    from .nets import ARCHITECTURES  # late import: nets import torch

    for key in ("model.g", "model.d"):
        if flat[key] not in ARCHITECTURES:
            raise GankitError(
                f"{key} = {flat[key]!r} is not a known architecture{did_you_mean(flat[key], ARCHITECTURES)}; "
                f"choose one of: {', '.join(sorted(ARCHITECTURES))}"
            )
    _check_penalty_norm(cfg)
    dev = cfg.device
    if not (dev in ("auto", "cpu", "cuda") or (dev.startswith("cuda:") and dev[5:].isdigit())):
        raise GankitError(f"device = {dev!r} is not valid; use auto, cpu, cuda or cuda:N")
    positive = [
        "train.batch_size",
        "train.d_steps",
        "train.g_steps",
        "model.latent_dim",
        "model.hidden",
        "model.d_group",
        "model.d_pack",
        "train.log_every",
        "train.sample_grid",
    ]
    for key in positive:
        if flat[key] < 1:
            raise GankitError(f"{key} must be at least 1 (got {flat[key]})")
    for key in ("train.epochs", "train.steps", "train.checkpoint_every", "data.size"):
        if flat[key] < 0:
            raise GankitError(f"{key} must be 0 or more (got {flat[key]})")
    if cfg.train.epochs == 0 and cfg.train.steps == 0:
        raise GankitError("train.epochs and train.steps are both 0: set one of them to say how long to train")
    if not 0 <= cfg.seed < 2**32:
        raise GankitError(f"seed must be in [0, 2**32) (got {cfg.seed})")
    if not (cfg.train.dist_timeout > 0 and math.isfinite(cfg.train.dist_timeout)):
        raise GankitError(f"train.dist_timeout must be a positive number of seconds (got {cfg.train.dist_timeout})")
    if cfg.data.workers < -1:
        raise GankitError(
            f"data.workers must be -1 (automatic), 0 (load in the training process) or more (got {cfg.data.workers})"
        )
    if cfg.train.max_rollbacks < 0:
        raise GankitError(f"train.max_rollbacks must be 0 or more (got {cfg.train.max_rollbacks})")
    if not 0 < cfg.train.rollback_lr_factor < 1:
        raise GankitError(f"train.rollback_lr_factor must be in (0, 1), e.g. 0.5 (got {cfg.train.rollback_lr_factor})")
    if cfg.model.aux_classifier < 0:
        raise GankitError(
            f"model.aux_classifier must be 0 (off) or a positive weight, e.g. 1.0 (got {cfg.model.aux_classifier})"
        )
    if cfg.model.aux_classifier > 0 and cfg.model.conditional == "false":
        raise GankitError(
            "model.aux_classifier (AC-GAN) classifies images by the labels they were drawn for; "
            "it needs a conditional model (model.conditional = true or auto)"
        )
    if cfg.model.num_classes < 0 or cfg.model.num_classes == 1:
        raise GankitError(f"model.num_classes must be 0 (from the data) or at least 2 (got {cfg.model.num_classes})")
    pack = cfg.model.d_pack
    if pack > 1 and cfg.train.batch_size % pack:
        raise GankitError(
            f"model.d_pack = {pack}: D scores packs of {pack} samples, so train.batch_size "
            f"({cfg.train.batch_size}) must be a multiple of {pack}, e.g. "
            f"--set train.batch_size={max(pack, cfg.train.batch_size // pack * pack)}"
        )
    if pack > 1 and cfg.model.d_group > 1:
        raise GankitError(
            f"model.d_pack = {pack} and model.d_group = {cfg.model.d_group}: choose one way for D "
            "to see several samples at once (packing concatenates them, d_group takes their moments)"
        )
    if cfg.model.layers < 2:
        raise GankitError(f"model.layers must be at least 2 (got {cfg.model.layers})")
    for side in ("g", "d"):
        lr = flat[f"optim.{side}.lr"]
        if not (lr > 0 and math.isfinite(lr)):
            raise GankitError(f"optim.{side}.lr must be a positive number (got {lr})")
        for b in ("beta1", "beta2"):
            v = flat[f"optim.{side}.{b}"]
            if not 0 <= v < 1:
                raise GankitError(f"optim.{side}.{b} must be in [0, 1) (got {v})")
    for key in (
        "loss.gp_weight",
        "loss.r1_gamma",
        "loss.r2_gamma",
        "loss.feature_matching",
        "loss.lecam",
        "loss.bcr_real",
        "loss.bcr_fake",
        "optim.d_lr_ratio",
    ):
        if not (flat[key] >= 0 and math.isfinite(flat[key])):
            raise GankitError(f"{key} must be 0 or a positive number (got {flat[key]})")
    if not 0 <= cfg.loss.lecam_decay < 1:
        raise GankitError(
            f"loss.lecam_decay must be in [0, 1): the decay of LeCam's moving averages, e.g. 0.99 "
            f"(got {cfg.loss.lecam_decay})"
        )
    _validate_better(cfg)
    if not 0 <= cfg.train.ema < 1:
        raise GankitError(
            f"train.ema must be in [0, 1): a decay such as 0.999, or 0 for no average (got {cfg.train.ema})"
        )
    if cfg.train.ema_bn_stats == "recompute" and cfg.train.ema == 0:
        raise GankitError(
            "train.ema_bn_stats = recompute sets the batch-norm statistics of G's moving average, "
            "and this run keeps none; set train.ema (e.g. 0.999) or drop train.ema_bn_stats"
        )
    t = cfg.train
    if t.d_steps_start < 0 or t.d_steps_start_for < 0:
        raise GankitError("train.d_steps_start and train.d_steps_start_for must be 0 or more")
    if (t.d_steps_start > 0) != (t.d_steps_start_for > 0):
        raise GankitError(
            f"train.d_steps_start = {t.d_steps_start} and train.d_steps_start_for = "
            f"{t.d_steps_start_for}: set both (e.g. 100 and 25) or neither"
        )
    if not 0 <= cfg.model.dropout < 1:
        raise GankitError(f"model.dropout must be in [0, 1) (got {cfg.model.dropout})")
    if cfg.eval.every < 0 or cfg.eval.n < 2:
        raise GankitError(f"eval.every must be 0 or more and eval.n at least 2 (got {cfg.eval.every}, {cfg.eval.n})")
    if not 0 <= cfg.data.holdout < 1:
        raise GankitError(
            f"data.holdout must be in [0, 1): the fraction of folder images kept out of training, "
            f"e.g. 0.1 (got {cfg.data.holdout})"
        )
    if cfg.eval.reference == "holdout" and cfg.data.name == "folder" and not cfg.data.holdout:
        raise GankitError(
            "eval.reference = holdout on an image folder needs held-out files: set data.holdout "
            "(e.g. 0.1 keeps a seed-fixed 10% of the files out of training)"
        )
    from .metrics import check_primary, domain_of, parse_metrics  # late import: metrics import numpy

    domain = domain_of(cfg.data.name)
    check_primary(
        cfg.eval.primary,
        parse_metrics(
            cfg.eval.metrics, domain, cfg.data.name, training=True, conditional=cfg.model.conditional != "false"
        ),
        domain,
    )
    for key in ("data.resolution", "model.resolution"):
        r = flat[key]
        if r != 0 and (r < 8 or r & (r - 1)) and not (r == 28):
            raise GankitError(f"{key} = {r} is not valid: use 28 or a power of two of at least 8 (32, 64, 128, ...)")
    return cfg


def _check_penalty_norm(cfg: Config) -> None:
    """A gradient penalty (wgan-gp), R1 or R2 differentiates D's summed outputs: exact only when each
    output depends on its own sample. Batch norm in training mode mixes the samples of a batch
    through its statistics, so the penalty would be computed on the wrong gradient."""
    from .losses import kind_has_gp

    m, loss = cfg.model, cfg.loss
    penalty = (
        f"loss.kind = {loss.kind!r} (a gradient penalty)"
        if kind_has_gp(loss.kind) and loss.gp_weight > 0
        else f"loss.r1_gamma = {loss.r1_gamma:g} (an R1 penalty)"
        if loss.r1_gamma > 0
        else f"loss.r2_gamma = {loss.r2_gamma:g} (an R2 penalty)"
        if getattr(loss, "r2_gamma", 0) > 0
        else ""
    )
    if penalty and m.d.startswith("dcgan") and m.d_norm == "batch":
        raise GankitError(
            f"{penalty} needs D's gradient per sample, but model.d = {m.d!r} normalises with batch norm "
            '(model.d_norm = "batch"), which mixes the samples of a batch, so the penalty would be computed on '
            "the wrong gradient. Use --set model.d_norm=layer (or none), as the dcgan-mnist32-wgangp preset does"
        )


def _validate_better(cfg: Config) -> None:
    """The settings of issue 17: widths, G pause, perceptual loss, augmentation."""
    mbstd = cfg.model.d_mbstd
    if mbstd < 0 or mbstd == 1:
        raise GankitError(
            f"model.d_mbstd is the group size of D's minibatch standard deviation, 0 (off) or at least 2 (got {mbstd})"
        )
    if mbstd and cfg.model.d not in ("dcgan-upsample", "dcgan"):
        raise GankitError(
            f"model.d_mbstd applies to the dcgan-upsample and dcgan discriminators; model.d = {cfg.model.d!r} (set model.d_mbstd = 0)"
        )
    for key in ("d_width", "g_width"):
        w = getattr(cfg.model, key)
        if not (0 < w <= 16 and math.isfinite(w)):
            raise GankitError(f"model.{key} must be in (0, 16], e.g. 2 for twice the channels (got {w})")
        if w != 1.0 and not cfg.model.__dict__[key[0]].startswith("dcgan"):
            raise GankitError(
                f"model.{key} applies to the DCGAN families; model.{key[0]} = "
                f"'{cfg.model.__dict__[key[0]]}' (set model.hidden for the MLPs)"
            )
    if not 0 <= cfg.train.g_pause_below < 1:
        raise GankitError(
            f"train.g_pause_below must be in [0, 1): D's accuracy below which G waits, e.g. 0.6; "
            f"0 = never (got {cfg.train.g_pause_below})"
        )
    if cfg.loss.perceptual:
        raise GankitError(
            f"loss.perceptual = {cfg.loss.perceptual!r}: a VGG or LPIPS loss needs pretrained "
            "weights, which gankit does not ship or download; use loss.feature_matching (matching "
            "D's own features, Salimans et al. 2016), which needs no pretrained network"
        )
    from .augment.policy import check_policy, parse_policy  # late import: the ops import torch

    a = cfg.augment
    check_policy(a.policy)
    if cfg.loss.bcr_real > 0 or cfg.loss.bcr_fake > 0:
        check_policy(cfg.loss.bcr_policy, "loss.bcr_policy")
        if not parse_policy(cfg.loss.bcr_policy) or cfg.data.name not in IMAGE_DATA:
            raise GankitError(
                "loss.bcr_real / loss.bcr_fake regularise D on transformed images: they need image data "
                f'and a transform in loss.bcr_policy, e.g. "translation" (data.name = {cfg.data.name!r}, '
                f"loss.bcr_policy = {cfg.loss.bcr_policy!r})"
            )
    if a.policy and cfg.data.name not in IMAGE_DATA:
        raise GankitError(
            f'augment.policy applies to images; data.name = {cfg.data.name!r} is a toy set (set augment.policy = "")'
        )
    if not 0 <= a.p <= 1:
        raise GankitError(f"augment.p must be in [0, 1] (got {a.p})")
    if not 0 <= a.ada_target < 1:
        raise GankitError(f"augment.ada_target must be in [0, 1), e.g. 0.6; 0 = a fixed p (got {a.ada_target})")
    if a.ada_target > 0 and not a.policy:
        raise GankitError(
            "augment.ada_target is set but augment.policy is empty: name the augmentations, "
            'e.g. augment.policy = "color,translation,cutout"'
        )
    if a.ada_interval < 1 or a.ada_images < 1:
        raise GankitError(
            f"augment.ada_interval and augment.ada_images must be at least 1 (got {a.ada_interval}, {a.ada_images})"
        )
    if not (0 <= a.translation < 1 and 0 <= a.cutout < 1):
        raise GankitError(
            f"augment.translation and augment.cutout are fractions of the image side in [0, 1) "
            f"(got {a.translation}, {a.cutout})"
        )
    if not (0 <= a.rotation <= 180 and 0 <= a.scale <= 1):
        raise GankitError(
            "augment.rotation is the largest rotation in degrees, in [0, 180], and augment.scale the standard "
            f"deviation of log2 of the zoom, in [0, 1] (got {a.rotation}, {a.scale})"
        )


# ---------------------------------------------------------------- dict <-> dataclass


def flatten(d: dict, prefix: str = "") -> dict:
    out = {}
    for k, v in d.items():
        if isinstance(v, dict):
            out.update(flatten(v, f"{prefix}{k}."))
        else:
            out[f"{prefix}{k}"] = v
    return out


BOOL_WORDS = {"model.conditional"}  # string keys whose choices include true/false: TOML booleans accepted


def _coerce(key: str, value: Any, typ: type) -> Any:
    if key in BOOL_WORDS and isinstance(value, bool):
        return "true" if value else "false"
    if typ is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if typ is bool and not isinstance(value, bool):
        raise GankitError(f"{key} must be true or false (got {value!r})")
    if typ is int and (isinstance(value, bool) or not isinstance(value, int)):
        if isinstance(value, float) and value.is_integer():
            return int(value)
        raise GankitError(f"{key} must be a whole number (got {value!r})")
    if typ is float and not isinstance(value, (int, float)) or (typ is float and isinstance(value, bool)):
        raise GankitError(f"{key} must be a number (got {value!r})")
    if typ is str and not isinstance(value, str):
        raise GankitError(f"{key} must be a string (got {value!r})")
    return value


def from_dict(cls, data: dict, prefix: str = ""):
    """Build dataclass `cls` from a nested dict; unknown keys and wrong types are GankitErrors."""
    if not isinstance(data, dict):
        raise GankitError(f"{prefix.rstrip('.') or 'config'} must be a table of settings (got {data!r})")
    hints = get_type_hints(cls)
    names = {f.name for f in fields(cls)}
    for key in data:
        if key not in names:
            valid = sorted(f"{prefix}{n}" for n in names)
            raise GankitError(
                f"unknown config key '{prefix}{key}'{did_you_mean(prefix + key, valid)}; "
                f"valid keys here: {', '.join(valid)}"
            )
    kwargs = {}
    for f in fields(cls):
        if f.name not in data:
            continue
        typ = hints[f.name]
        if is_dataclass(typ):
            kwargs[f.name] = from_dict(typ, data[f.name], f"{prefix}{f.name}.")
        else:
            kwargs[f.name] = _coerce(prefix + f.name, data[f.name], typ)
    return cls(**kwargs)


def _all_keys() -> list[str]:
    return sorted(flatten(Config().to_dict()))


def parse_override(text: str) -> tuple[list[str], Any]:
    """'optim.d.lr=2e-4' -> (['optim', 'd', 'lr'], 0.0002). Values are TOML literals; bare words are strings."""
    if "=" not in text:
        raise GankitError(f"--set expects key=value (got {text!r}), e.g. --set train.epochs=3")
    key, raw = (s.strip() for s in text.split("=", 1))
    if key not in _all_keys():
        raise GankitError(f"unknown config key '{key}'{did_you_mean(key, _all_keys())} in --set {text}")
    try:
        value = tomllib.loads(f"v = {raw}")["v"]
    except tomllib.TOMLDecodeError:
        value = raw  # a bare word such as cuda or non-saturating
    return key.split("."), value


def apply_overrides(data: dict, overrides: list[str]) -> dict:
    for text in overrides or []:
        path, value = parse_override(text)
        node = data
        for i, part in enumerate(path[:-1]):
            node = node.setdefault(part, {})
            if not isinstance(node, dict):  # e.g. a config file that says `train = 5`
                raise GankitError(f"{'.'.join(path[: i + 1])} must be a table of settings (got {node!r})")
        node[path[-1]] = value
    return data


# ---------------------------------------------------------------- files and presets


def read_toml(path: Path) -> dict:
    path = Path(path)
    if not path.is_file():
        raise GankitError(f"config file {path} does not exist")
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as e:
        raise GankitError(f"{path} is not valid TOML: {e}") from None
    except UnicodeDecodeError:
        raise GankitError(f"{path} is not a text file; a config must be UTF-8 TOML") from None


def preset_names() -> list[str]:
    return sorted(p.stem for p in PRESET_DIR.glob("*.toml"))


def preset_path(name: str) -> Path:
    path = PRESET_DIR / f"{name}.toml"
    if not path.is_file():
        names = preset_names()
        raise GankitError(f"no preset named '{name}'{did_you_mean(name, names)}; presets: {', '.join(names)}")
    return path


def build(data: dict, overrides: list[str] | None = None) -> Config:
    data = apply_overrides(copy.deepcopy(data), overrides or [])  # the caller's dict stays as it was
    return validate(from_dict(Config, data))


def load_preset(name: str, overrides: list[str] | None = None) -> Config:
    return build(read_toml(preset_path(name)), overrides)


def load_file(path, overrides: list[str] | None = None) -> Config:
    return build(read_toml(Path(path)), overrides)


def to_toml(cfg: Config) -> str:
    return tomli_w.dumps(cfg.to_dict())


def from_saved(data: dict) -> Config:
    """Rebuild a config stored in a checkpoint or a run directory."""
    return validate(from_dict(Config, data))
