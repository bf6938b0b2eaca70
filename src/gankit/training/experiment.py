"""The one assembly point: everything a run trains, built from a config.

    exp = build(cfg, data_root="../shared/data")             # data, G, D, EMA, optimisers, loss, loader, speed
    exp = build(cfg, G=my_generator, D=my_critic, data=my_tensor, loss=my_objective)   # your own parts

The command line, the Python API (gankit.train), `gankit bench` and `gankit theory` all build
through here, so they train the same thing. Everything is drawn in a fixed order after
seed_everything(cfg.seed), which is what makes the same config and seed give the same weights.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import torch

from .. import distributed
from ..augment import Augment
from ..data import Dataset, load_dataset, make_loader
from ..data.labels import check_labels, resolve_conditioning
from ..errors import GankitError
from ..generation.latent import sample_latent
from ..losses import Objective, make_objective
from ..nets import balanced_labels, build_networks, is_conditional
from .ema import EMA
from .optim import make_optimizer
from .rng import seed_everything
from .speed import Speed, apply_to_networks, resolve


@dataclass
class Experiment:
    cfg: object  # gankit.config.Config
    device: torch.device
    speed: Speed
    dataset: object  # a data.Dataset, or a data.FolderFiles for a streamed folder
    G: torch.nn.Module
    D: torch.nn.Module
    opt_g: torch.optim.Optimizer
    opt_d: torch.optim.Optimizer
    g_ema: EMA | None
    objective: Objective
    loader: object  # data.DeviceLoader or data.StreamLoader
    G_train: torch.nn.Module  # G as the training forwards see it (DDP-wrapped with several processes)
    D_train: torch.nn.Module
    augment: Augment = field(default_factory=Augment)  # what D sees (augment.*); the identity when off


def resolve_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise GankitError(f"device = {name!r} but no CUDA GPU is visible here; use --device cpu (or auto)")
    return torch.device(name)


def as_dataset(data, name: str = "tensor") -> Dataset:
    """A user's tensor as a data set: uint8 images (N, C, H, W), or float points (N, dim); a pair
    (tensor, labels) gives it int64 class labels (N,) for a conditional model."""
    if isinstance(data, tuple) and len(data) == 2:
        ds = as_dataset(data[0], name)
        labels = torch.as_tensor(data[1])
        check_labels(labels, len(ds), int(labels.max()) + 1 if labels.numel() else 1, "data=")
        return replace(ds, labels=labels.long().cpu())
    if isinstance(data, Dataset) or (not isinstance(data, torch.Tensor) and hasattr(data, "take")):
        return data
    if not isinstance(data, torch.Tensor) or data.dim() < 2 or len(data) == 0:
        raise GankitError("data must be a non-empty tensor: uint8 images (N, C, H, W) or float points (N, dim)")
    if data.dtype != torch.uint8 and not data.is_floating_point():
        raise GankitError(f"data of dtype {data.dtype}: give uint8 images or float points")
    if data.dtype == torch.uint8 and data.dim() != 4:
        raise GankitError(f"uint8 data are images and must be (N, C, H, W); got shape {tuple(data.shape)}")
    return Dataset(name, data.cpu() if data.dtype == torch.uint8 else data.float().cpu())


def build(
    cfg,
    data_root=None,
    *,
    G: torch.nn.Module | None = None,
    D: torch.nn.Module | None = None,
    loss: Objective | None = None,
    data=None,
) -> Experiment:
    """Assemble a run. G, D, loss (an Objective, or any object with its methods) and data (a tensor
    or a Dataset) replace what the config would build; the config still sets everything else."""
    dist = distributed.current()
    device = resolve_device(cfg.device)
    if dist.enabled and device.type == "cuda":  # one GPU per process
        device = torch.device("cuda", dist.local_rank)
    speed = resolve(cfg, device)  # amp, channels_last, compile, fused Adam (cfg.speed)
    seed_everything(cfg.seed)
    dataset = as_dataset(data) if data is not None else load_dataset(cfg.data, data_root, seed=cfg.seed, device=device)
    cfg = _resolve_conditioning(cfg, dataset)
    if G is None or D is None:
        built_g, built_d = build_networks(cfg.model, dataset.sample_shape)
        G, D = G if G is not None else built_g, D if D is not None else built_d
    G.to(device)
    D.to(device)
    opt_g = make_optimizer(G.parameters(), cfg.optim.g, speed.fused_adam)
    d_opt = cfg.optim.d
    if cfg.optim.d_lr_ratio > 0:  # D's lr tied to G's (two time-scale rule)
        d_opt = replace(d_opt, lr=cfg.optim.d_lr_ratio * cfg.optim.g.lr)
    opt_d = make_optimizer(D.parameters(), d_opt, speed.fused_adam)
    # EMA of G's weights: samples and metrics come from it when train.ema > 0
    norm_inputs = _fresh_inputs(cfg, G, device) if cfg.train.ema_bn_stats == "recompute" else None
    g_ema = EMA(G, cfg.train.ema, norm_inputs) if cfg.train.ema > 0 else None
    apply_to_networks(speed, G, D)  # after EMA's copy: the average is never compiled
    objective = loss if loss is not None else make_objective(cfg.loss)
    loader = make_loader(dataset, cfg, cfg.seed, device, dist.rank, dist.world)
    G, D = _convert_sync_bn(cfg, device, G, D)
    if getattr(objective, "feature_matching", 0) > 0 and not callable(getattr(D, "features", None)):
        raise GankitError(
            f"loss.feature_matching needs a D with a features(x) method (its last hidden "
            f"features); {type(D).__name__} has none"
        )
    exp = Experiment(
        cfg,
        device,
        speed,
        dataset,
        G,
        D,
        opt_g,
        opt_d,
        g_ema,
        objective,
        loader,
        distributed.wrap(G, device),
        distributed.wrap(D, device),
        Augment.from_config(cfg.augment, device),
    )
    _check_fits(cfg, loader)
    return exp


def _resolve_conditioning(cfg, dataset):
    """model.conditional auto/true -> "true" with model.num_classes from the labels, or "false"
    (auto without labels). The resolved config is the run's: checkpoints rebuild G from it.
    An unconditional config is returned as it is."""
    if cfg.model.conditional == "false":
        return cfg
    conditional, k = resolve_conditioning(cfg.model, dataset)
    model = replace(cfg.model, conditional="true" if conditional else "false", num_classes=k)
    return replace(cfg, model=model)


def _convert_sync_bn(cfg, device, G, D):
    """DDP wrappers serve the training forwards only (Experiment.G_train / D_train). Generation,
    metrics, EMA and checkpoints use the plain G and D, so nothing rank 0 runs alone waits on a
    collective, and checkpoints hold unwrapped state dicts."""
    t = cfg.train
    if not distributed.current().enabled:
        return G, D
    if t.on_nan == "rollback":
        raise GankitError(
            "train.on_nan = rollback is not supported with several processes yet; "
            "use train.on_nan = stop and resume from the last checkpoint"
        )
    if t.sync_bn:
        if device.type != "cuda":
            raise GankitError(
                "train.sync_bn needs CUDA (PyTorch's SyncBatchNorm does not run on the CPU); "
                "drop --set train.sync_bn=true or train on GPUs"
            )
        convert = torch.nn.SyncBatchNorm.convert_sync_batchnorm  # keeps the same Parameter objects
        G, D = convert(G), convert(D)
    return G, D


def _check_fits(cfg, loader) -> None:
    group = cfg.model.d_group
    if group > 1 and loader.local_batch % group:
        raise GankitError(
            f"train.batch_size ({cfg.train.batch_size}, {loader.local_batch} per process) "
            f"must be a multiple of model.d_group ({group})"
        )
    if len(loader) < cfg.train.d_steps:
        raise GankitError(f"an epoch has {len(loader)} batches, fewer than train.d_steps = {cfg.train.d_steps}")
    if len(loader) < cfg.train.d_steps_start:
        raise GankitError(
            f"an epoch has {len(loader)} batches, fewer than train.d_steps_start = "
            f"{cfg.train.d_steps_start}; lower it or use a larger data set"
        )


NORM_STATS_SAMPLES = 2048  # latents the average's batch-norm statistics are computed from


def _fresh_inputs(cfg, G, device):
    """G's inputs for the moving average's own batch-norm statistics (train.ema_bn_stats =
    recompute): batches of training size, every class equally often, the same draw every time (its
    own CPU generator, so the result is the same on any device and training's streams never move)."""
    conditional, size = is_conditional(G), cfg.train.batch_size

    def inputs():
        gen = torch.Generator().manual_seed(cfg.seed)
        for _ in range(-(-NORM_STATS_SAMPLES // size)):
            z = sample_latent(cfg.model, size, gen).to(device)
            yield (z, balanced_labels(size, G.num_classes).to(device)) if conditional else (z,)

    return inputs
