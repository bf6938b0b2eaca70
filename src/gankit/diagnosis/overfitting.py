"""Does D memorise its training images? D's outputs on training images against held-out real ones.

    probe = OverfitProbe(train_images, heldout_images, batch_size=64)
    probe(D, generated, objective)   # {"overfit_rv": 0.42, "overfit_z": 6.1, "r_t": 0.93, ...}

The quantities are ADA's (Karras et al. 2020, "Training generative adversarial networks with
limited data", section 3): on D's raw outputs,
- r_v = (E D(x_train) - E D(x_heldout)) / (E D(x_train) - E D(G(z))): 0 when held-out images score
  like the training images, 1 when they score like generated ones (complete overfitting);
- r_t = E[sign(D(x_train))], the sign being D's verdict (real above its threshold), the heuristic
  ADA steers its augmentation with (target 0.6) because it needs no held-out images;
- overfit_z: the train / held-out difference of means in standard errors, so that sampling noise
  of 256 images is not read as overfitting.

With augmentation on (augment.*), D is trained on, and G is trained through, D of augmented
images only, so the probe scores D as training uses it: every image passes through the run's
augmentation at its current p first, the training and held-out sides (and G's side) with the same
draws, from a forked RNG seeded per call so that the measurement is repeatable and the run's own
random numbers are untouched. D's outputs on the images as they are stay in the record beside
(`overfit_rv_raw`): with p = 1, D never sees such images in training.

Measuring must not change training. D is run with batch norm in training mode (batch statistics
over a batch of one kind, as D sees its real batches in training; eval mode would use running
statistics averaged over real and generated batches, statistics D never scored a real batch
with), in chunks of the training batch size, with dropout off (a deterministic measurement that
draws no random numbers) and every buffer (batch-norm running statistics and counters) restored
bitwise afterwards. Train and held-out images are scored the same way, so their difference is
D's memory, not the mode. With SyncBatchNorm (several GPUs) a training-mode forward would wait
on the other ranks, so the probe measures nothing there.
"""

from __future__ import annotations

import math

import torch
from torch import nn

PROBE_IMAGES = 256  # per side: a standard error of the mean of about 6 % of D's output spread
DROPOUT = (nn.Dropout, nn.Dropout1d, nn.Dropout2d, nn.Dropout3d, nn.AlphaDropout, nn.FeatureAlphaDropout)


class scoring_mode:
    """Context manager: D with batch norm in training mode, dropout off, no gradients, and its
    modes and buffers exactly as before on exit."""

    def __init__(self, d: nn.Module):
        self.d = d

    def __enter__(self):
        self.modes = {m: m.training for m in self.d.modules()}
        self.buffers = {name: b.detach().clone() for name, b in self.d.named_buffers()}
        self.d.train()
        for m in self.d.modules():
            if isinstance(m, DROPOUT):
                m.eval()
        self.grad = torch.no_grad()
        self.grad.__enter__()
        return self.d

    def __exit__(self, *exc):
        self.grad.__exit__(*exc)
        with torch.no_grad():
            for name, b in self.d.named_buffers():
                b.copy_(self.buffers[name])
        for m, training in self.modes.items():
            m.train(training)
        return False


def has_sync_batchnorm(d: nn.Module) -> bool:
    return any(isinstance(m, nn.SyncBatchNorm) for m in d.modules())


def d_outputs(d: nn.Module, x: torch.Tensor, batch_size: int) -> torch.Tensor:
    """D's raw outputs on x, one value per output of D, in chunks of `batch_size` (a whole chunk
    at the end is dropped rather than scored with the batch statistics of a few samples)."""
    n = max(len(x) // batch_size, 1) * batch_size
    return torch.cat([d(chunk).detach().float().flatten() for chunk in x[:n].split(batch_size)])


def _mean_var(t: torch.Tensor) -> tuple[float, float]:
    return float(t.mean()), float(t.var()) if len(t) > 1 else 0.0


class OverfitProbe:
    """D's outputs on fixed training and held-out real images (float, in the range the networks
    take), and on generated ones given at each call."""

    def __init__(self, train: torch.Tensor, heldout: torch.Tensor, batch_size: int):
        self.train, self.heldout = train, heldout
        self.batch_size = max(1, min(batch_size, len(train), len(heldout)))

    def __call__(self, d: nn.Module, generated: torch.Tensor, objective, augment=None) -> dict:
        """The probe's quantities for D now; `augment` (the run's Augment, if it augments) is what
        D's inputs pass through in training, and so here as well."""
        if has_sync_batchnorm(d):
            return {}
        dev = next(d.parameters()).device
        sides = (self.train.to(dev), self.heldout.to(dev), generated.to(dev))
        with scoring_mode(d):
            outs = [d_outputs(d, x, self.batch_size) for x in sides]
            if augment is not None and augment.enabled:
                raw = self._quantities(*outs)
                outs = [d_outputs(d, _augmented(augment, x), self.batch_size) for x in sides]
                return {**self._quantities(*outs, objective), "overfit_rv_raw": raw["overfit_rv"]}
        return self._quantities(*outs, objective)

    @staticmethod
    def _quantities(out_t: torch.Tensor, out_h: torch.Tensor, out_g: torch.Tensor, objective=None) -> dict:
        (mt, vt), (mh, vh), (mg, _) = _mean_var(out_t), _mean_var(out_h), _mean_var(out_g)
        se = math.sqrt(vt / len(out_t) + vh / len(out_h))
        sep = mt - mg  # how far D puts its training images from G's samples
        out = {
            "d_train": mt,
            "d_heldout": mh,
            "d_generated": mg,
            "overfit_rv": (mt - mh) / sep if sep > 0 else 0.0,  # D does not separate G's samples: nothing to judge
            "overfit_z": (mt - mh) / se if se > 0 else 0.0,
        }
        if hasattr(objective, "score") and hasattr(objective, "threshold"):  # a user's own loss may have neither
            out["r_t"] = float(torch.sign(objective.score(out_t) - objective.threshold).mean())
        return out


AUGMENT_SEED = 50_000  # the probe's augmentation draws: the same at every call, for every side


def _augmented(augment, x: torch.Tensor) -> torch.Tensor:
    """x through the run's augmentation, drawn from a forked RNG (the run's random numbers are left
    as they were) seeded the same way for each side, so that the i-th training, held-out and
    generated images get the same transform and the sides differ only in their images."""
    cuda = [x.device] if x.device.type == "cuda" else []
    with torch.random.fork_rng(devices=cuda):
        torch.default_generator.manual_seed(AUGMENT_SEED)
        if cuda:
            with torch.cuda.device(x.device):
                torch.cuda.manual_seed(AUGMENT_SEED)
        return augment(x)


def _as_network_input(x: torch.Tensor) -> torch.Tensor:
    from ..data.convert import to_unit_range

    return to_unit_range(x) if x.dtype == torch.uint8 else x.float()


def heldout_source(cfg) -> str:
    """Where the held-out real images come from, in words ("" when there are none)."""
    from ..data.toy import TOY_SETS

    if cfg.data.name in TOY_SETS:
        return "fresh samples of the true distribution"
    if cfg.data.name in ("mnist", "fashion-mnist"):
        return f"the {'train' if cfg.data.split == 'test' else 'test'} split"
    return f"diagnosis.holdout = {cfg.diagnosis.holdout}" if cfg.diagnosis.holdout else ""


def build_probe(cfg, dataset, data_root=None, n: int = PROBE_IMAGES) -> OverfitProbe | None:
    """The probe for a run: PROBE_IMAGES training images (a seed-fixed subset) against as many
    held-out ones: the other IDX split (MNIST-like), fresh samples of the true distribution (toy
    sets), or the folder named by diagnosis.holdout (image folders; none without it). Draws from
    its own generators only."""
    from dataclasses import replace

    from ..data import load_dataset
    from ..data.toy import TOY_SETS

    if not heldout_source(cfg) or getattr(dataset, "name", "") != cfg.data.name:
        return None  # no held-out images, or the data are a user's own tensor, not the config's data set
    gen = torch.Generator().manual_seed(30_000 + cfg.seed)
    train = dataset.take(torch.randperm(len(dataset), generator=gen)[:n])
    if cfg.data.name in TOY_SETS:
        heldout = dataset.distribution.sample(n, torch.Generator().manual_seed(40_000 + cfg.seed))
    else:
        if cfg.data.name in ("mnist", "fashion-mnist"):
            data = replace(cfg.data, split="train" if cfg.data.split == "test" else "test")
        else:
            data = replace(cfg.data, root=cfg.diagnosis.holdout, stream="on")  # decodes only the n taken
        held = load_dataset(data, data_root, seed=cfg.seed, download=False)
        heldout = held.take(torch.randperm(len(held), generator=gen)[:n])
    return OverfitProbe(_as_network_input(train), _as_network_input(heldout), cfg.train.batch_size)
