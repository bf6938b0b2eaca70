"""The training loop: it coordinates data, networks, objective and run directory, nothing more.

    trainer = Trainer(load_preset("ring-2d"), run=RunDir.create("ring-2d"))
    trainer.fit()

One *step* is one generator update, preceded (d-first) or followed (g-first) by `d_steps`
discriminator updates, each on a fresh real batch (Algorithm 1 of seed S2). Statistics stay
on the device and are read once every `log_every` steps, so the step never waits on the host.
"""

from __future__ import annotations

import logging
import math
import random
import signal
import sys
import time
from dataclasses import dataclass, field, replace

import numpy as np
import torch

from .. import config as C
from .. import distributed
from ..data import load_dataset, make_loader
from .callbacks import Callback
from .ema import EMA
from ..errors import GankitError
from ..nets import build_networks, count_parameters
from ..losses import make_objective
from .reliability import Diverged, check_weights, preserved_rng, config_differences, prepare_rollback, rollback_or_stop
from ..run import RunDir

log = logging.getLogger("gankit")

STAT_KEYS = ("d_loss", "g_loss", "d_real", "d_fake", "d_acc", "d_grad_norm", "g_grad_norm")
SPREAD_KEYS = ("d_loss", "g_loss")  # also logged as <key>_min / <key>_max within each log interval


def resolve_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise GankitError(f"device = {name!r} but no CUDA GPU is visible here; use --device cpu (or auto)")
    return torch.device(name)


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def rng_state() -> dict:
    np_state = np.random.get_state()
    return {
        "python": random.getstate(),
        "numpy": (np_state[0], torch.from_numpy(np_state[1].astype(np.int64)), *np_state[2:]),
        "torch": torch.get_rng_state(),
        "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
    }


def set_rng_state(state: dict) -> None:
    random.setstate(state["python"])
    kind, key, *rest = state["numpy"]
    np.random.set_state((kind, key.numpy().astype(np.uint32), *rest))
    torch.set_rng_state(state["torch"])
    if state["cuda"] and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"][: torch.cuda.device_count()])


def _grad_norm(params) -> torch.Tensor:
    grads = [p.grad for p in params if p.grad is not None]
    if not grads:
        return torch.zeros(())
    return torch.linalg.vector_norm(torch.stack(torch._foreach_norm(grads)))


def make_optimizer(params, o, device: torch.device, fused: bool = False) -> torch.optim.Optimizer:
    if o.kind == "sgd":
        return torch.optim.SGD(params, lr=o.lr, momentum=o.beta1, weight_decay=o.weight_decay)
    # foreach Adam: one launch per group of tensors instead of one per tensor; fused: one kernel for all
    return torch.optim.Adam(params, lr=o.lr, betas=(o.beta1, o.beta2), weight_decay=o.weight_decay,
                            **({"fused": True} if fused else {"foreach": True}))


@dataclass
class Position:
    """Where training stands: generator steps done, and the next batch to read."""

    step: int = 0
    epoch: int = 0
    batch: int = 0  # next batch index within `epoch`
    finished: bool = False
    rollbacks: int = 0  # reloads of the last good checkpoint after a divergence (train.on_nan = rollback)


class Trainer:
    def __init__(self, cfg: C.Config, run: RunDir | None = None, data_root=None, progress: bool = True,
                 callbacks: list[Callback] | None = None):
        self.dist = distributed.current()
        if not self.dist.is_main:  # rank 0 alone writes the run directory, reports and logs progress
            run, progress, callbacks = None, False, []
        self.cfg = cfg
        self.run = run
        self.progress = progress
        self.callbacks = list(callbacks or [])
        from ..callbacks.progress import standard_callbacks  # plain progress lines, TensorBoard (per cfg.log)

        self.callbacks += standard_callbacks(cfg, run, progress)
        self.device = resolve_device(cfg.device)
        if self.dist.enabled and self.device.type == "cuda":  # one GPU per process
            self.device = torch.device("cuda", self.dist.local_rank)
        from .speed import apply_to_networks, resolve

        self.speed = resolve(cfg, self.device)  # amp, channels_last, compile, fused Adam (cfg.speed)
        seed_everything(cfg.seed)
        self.dataset = load_dataset(cfg.data, data_root, seed=cfg.seed, device=self.device)
        self.G, self.D = build_networks(cfg.model, self.dataset.sample_shape)
        self.G.to(self.device)
        self.D.to(self.device)
        self.opt_g = make_optimizer(self.G.parameters(), cfg.optim.g, self.device, self.speed.fused_adam)
        d_opt = cfg.optim.d
        if cfg.optim.d_lr_ratio > 0:  # D's lr tied to G's (two time-scale rule)
            d_opt = replace(d_opt, lr=cfg.optim.d_lr_ratio * cfg.optim.g.lr)
        self.opt_d = make_optimizer(self.D.parameters(), d_opt, self.device, self.speed.fused_adam)
        # EMA of G's weights: samples and metrics come from it when train.ema > 0
        self.g_ema = EMA(self.G, cfg.train.ema) if cfg.train.ema > 0 else None
        apply_to_networks(self.speed, self.G, self.D)  # after EMA's copy: the average is never compiled
        self.objective = make_objective(cfg.loss)
        self.loader = make_loader(self.dataset, cfg, cfg.seed, self.device, self.dist.rank, self.dist.world)
        self._wrap_distributed()
        group = cfg.model.d_group
        if group > 1 and self.loader.local_batch % group:
            raise GankitError(f"train.batch_size ({cfg.train.batch_size}, {self.loader.local_batch} per process) "
                              f"must be a multiple of model.d_group ({group})")
        if len(self.loader) < cfg.train.d_steps:
            raise GankitError(f"an epoch has {len(self.loader)} batches, fewer than train.d_steps = {cfg.train.d_steps}")
        if len(self.loader) < cfg.train.d_steps_start:
            raise GankitError(f"an epoch has {len(self.loader)} batches, fewer than train.d_steps_start = "
                              f"{cfg.train.d_steps_start}; lower it or use a larger data set")
        # fixed noise, drawn from its own generator so it is the same whatever the device
        self.fixed_noise = self.noise(cfg.train.sample_grid, torch.Generator().manual_seed(cfg.seed + 1))
        self.pos = Position()
        self._stats = {k: torch.zeros((), device=self.device) for k in STAT_KEYS}
        self._lo = {k: torch.full((), math.inf, device=self.device) for k in SPREAD_KEYS}
        self._hi = {k: torch.full((), -math.inf, device=self.device) for k in SPREAD_KEYS}
        # diversity of G's samples at log time (for the diagnosis), from noise fixed like fixed_noise
        from ..diagnosis.sample_stats import SampleStats

        self.sample_stats = SampleStats(self.dataset, cfg.seed)
        self.diagnostic_noise = self.noise(self.sample_stats.n, torch.Generator().manual_seed(cfg.seed + 2))
        self._stat_counts = {"d": 0, "g": 0}
        self._stop_requested = False

    def _wrap_distributed(self) -> None:
        """DDP wrappers for the training forwards only (self._g_train, self._d_train). Generation,
        metrics, EMA and checkpoints use the plain self.G / self.D, so nothing rank 0 runs alone
        waits on a collective, and checkpoints hold unwrapped state dicts."""
        t = self.cfg.train
        if self.dist.enabled:
            if t.on_nan == "rollback":
                raise GankitError("train.on_nan = rollback is not supported with several processes yet; "
                                  "use train.on_nan = stop and resume from the last checkpoint")
            if t.sync_bn:
                if self.device.type != "cuda":
                    raise GankitError("train.sync_bn needs CUDA (PyTorch's SyncBatchNorm does not run on the CPU); "
                                      "drop --set train.sync_bn=true or train on GPUs")
                convert = torch.nn.SyncBatchNorm.convert_sync_batchnorm  # keeps the same Parameter objects
                self.G, self.D = convert(self.G), convert(self.D)
        self._g_train = distributed.wrap(self.G, self.device)
        self._d_train = distributed.wrap(self.D, self.device)

    # ------------------------------------------------------------------ sampling
    def noise(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """Latent vectors: N(0, I) or, for seed S1, uniform [0, 1). Drawn on the CPU with `generator`
        when one is given (reproducible across devices), else on the training device."""
        shape = (n, self.cfg.model.latent_dim)
        dev = "cpu" if generator is not None else self.device
        if self.cfg.model.noise == "uniform":
            z = torch.rand(shape, generator=generator, device=dev)
        else:
            z = torch.randn(shape, generator=generator, device=dev)
        return z.to(self.device)

    def batch_noise(self, n: int) -> torch.Tensor:
        """Latent vectors for this process's `n` samples of a training batch. With several
        processes every rank draws the whole global batch's noise and keeps its slice, so the RNG
        streams stay equal on all ranks, and equal to a single process's."""
        if not self.dist.enabled:
            return self.noise(n)
        return self.noise(n * self.dist.world)[distributed.shard(n * self.dist.world)]

    @torch.no_grad()
    def generate(self, z: torch.Tensor, ema: bool = True) -> torch.Tensor:
        """G(z) in eval mode (batch-norm running statistics, no dropout); from the moving
        average of G's weights when train.ema > 0, unless `ema` is False (the trained G itself)."""
        g = self.g_ema.module if self.g_ema is not None and ema else self.G
        was_training = g.training
        g.eval()
        out = torch.cat([g(chunk) for chunk in z.split(1024)])
        g.train(was_training)
        return out

    # ------------------------------------------------------------------ one update each
    def _accumulate(self, **values: torch.Tensor) -> None:
        for k, v in values.items():
            self._stats[k] += v.detach().float()
            if k in self._lo:
                torch.minimum(self._lo[k], v.detach().float(), out=self._lo[k])
                torch.maximum(self._hi[k], v.detach().float(), out=self._hi[k])

    def d_step(self, real: torch.Tensor, fake: torch.Tensor) -> None:
        obj = self.objective
        real_out, fake_out = self._d_train(real), self._d_train(fake)  # DDP all-reduces D's grads in backward
        loss = obj.d_loss(real_out, fake_out)
        penalty = obj.penalty(self.D, real, fake)
        if penalty is not None:
            loss = loss + penalty
        self.opt_d.zero_grad(set_to_none=True)
        loss.backward()
        grad_norm = _grad_norm(self.D.parameters()).to(self.device)
        self.opt_d.step()
        with torch.no_grad():
            s_real, s_fake = obj.score(real_out).mean(), obj.score(fake_out).mean()
            acc = ((obj.score(real_out) > obj.threshold).float().mean()
                   + (obj.score(fake_out) <= obj.threshold).float().mean()) / 2
        self._accumulate(d_loss=loss, d_real=s_real, d_fake=s_fake, d_acc=acc, d_grad_norm=grad_norm)
        self._stat_counts["d"] += 1

    def g_step(self, fake: torch.Tensor) -> None:
        self.D.requires_grad_(False)  # freeze D: G's step must not leave gradients on it
        loss = self.objective.g_loss(self.D(fake))
        self.opt_g.zero_grad(set_to_none=True)
        loss.backward()
        grad_norm = _grad_norm(self.G.parameters()).to(self.device)
        self.opt_g.step()
        self.D.requires_grad_(True)
        if self.g_ema is not None:
            self.g_ema.update(self.G)
        self._accumulate(g_loss=loss, g_grad_norm=grad_norm)
        self._stat_counts["g"] += 1

    def train_group(self, reals: list[torch.Tensor]) -> None:
        if self.speed.cuda_graphs:  # a new step: the graphs' previous outputs may be overwritten now
            torch.compiler.cudagraph_mark_step_begin()
        with self.speed.autocast():  # bf16 forward passes when speed.amp resolves to bf16, else nothing
            self._train_group(reals)

    def _train_group(self, reals: list[torch.Tensor]) -> None:
        """One generator step with its `d_steps` discriminator steps, one real batch each.
        The generated batch of the step adjacent to G's update is shared with it (one G forward less),
        as the seeds' loops do."""
        n = reals[0].shape[0]
        if self.cfg.train.order == "g-first":
            fake = self._g_train(self.batch_noise(n))
            self.g_step(fake)
            self.d_step(reals[0], fake.detach())
            for real in reals[1:]:
                with torch.no_grad():  # no backward through G here: no DDP forward either
                    fake = self.G(self.batch_noise(n))
                self.d_step(real, fake)
        else:
            for real in reals[:-1]:
                with torch.no_grad():
                    fake = self.G(self.batch_noise(n))
                self.d_step(real, fake)
            fake = self._g_train(self.batch_noise(n))
            self.d_step(reals[-1], fake.detach())
            self.g_step(fake)

    # ------------------------------------------------------------------ the loop
    def d_steps_at(self, step: int) -> int:
        """D steps before (d-first) or after (g-first) the G step numbered `step` (from 0):
        train.d_steps_start during the first train.d_steps_start_for steps (the WGAN paper trains
        the critic near optimality first: 100 D steps for the first 25), train.d_steps after."""
        t = self.cfg.train
        return t.d_steps_start if step < t.d_steps_start_for else t.d_steps

    def _steps_in_epochs(self, epochs: int) -> int:
        """G steps that `epochs` epochs hold: an epoch ends when the next group of D batches no longer fits."""
        t, n = self.cfg.train, len(self.loader)
        step = 0
        for _ in range(epochs):
            b = 0
            while step < t.d_steps_start_for and b + t.d_steps_start <= n:
                b, step = b + t.d_steps_start, step + 1
            if step >= t.d_steps_start_for:
                step += (n - b) // t.d_steps
        return step

    @property
    def total_steps(self) -> int:
        by_epochs = self._steps_in_epochs(self.cfg.train.epochs) if self.cfg.train.epochs else math.inf
        by_steps = self.cfg.train.steps or math.inf
        return int(min(by_epochs, by_steps))

    def _schedule_lr(self) -> None:
        """Cosine decay of both learning rates over the run (train.lr_schedule = cosine): a GAN's
        oscillation around its equilibrium shrinks with the step size, so the game settles.
        Each group keeps its undecayed rate in "base_lr" (saved with the optimiser state)."""
        if self.cfg.train.lr_schedule == "constant":
            return
        scale = 0.5 * (1 + math.cos(math.pi * self.pos.step / max(self.total_steps, 1)))
        for opt in (self.opt_g, self.opt_d):
            for group in opt.param_groups:
                group.setdefault("base_lr", group["lr"])
                group["lr"] = group["base_lr"] * scale

    def fit(self) -> None:
        """Train to the end. On a NaN/Inf loss or weight: stop with a diagnosis, or, with
        train.on_nan = rollback, reload the last good state with lower learning rates and go on."""
        prepare_rollback(self)
        while True:
            try:
                with distributed.lost_peers_are_errors(str(self.run.path) if self.run else "RUN"):
                    return self._fit()
            except Diverged as e:
                rollback_or_stop(self, e)

    def _fit(self) -> None:
        cfg, t = self.cfg, self.cfg.train
        if self.pos.finished or self.pos.step >= self.total_steps:
            raise GankitError(f"this run already finished ({self.pos.step} steps). To train longer, resume with "
                              f"a larger end, e.g. --set train.epochs={t.epochs + 10}")
        self.G.train()
        self.D.train()
        self._install_signal_handlers()
        bar = self._progress_bar()
        last_time, seen = time.perf_counter(), 0  # seen: real batches since the last log
        started = time.perf_counter()
        try:
            while self.pos.step < self.total_steps:
                batches = self.loader.epoch(self.pos.epoch, self.pos.batch)
                group: list[torch.Tensor] = []
                for real in batches:
                    group.append(real)
                    if len(group) < self.d_steps_at(self.pos.step):
                        continue
                    self._schedule_lr()
                    self.train_group(group)
                    self.pos.batch += len(group)
                    seen += len(group)
                    self.pos.step += 1
                    group = []
                    if self.dist.enabled:  # all ranks stop at the same step, whichever saw the Ctrl-C
                        distributed.maybe_die_for_test(self.pos.step)
                        self._stop_requested = distributed.any_rank(self._stop_requested, self.device)
                    if bar is not None:
                        bar.update(1)
                    if self.pos.step % t.log_every == 0 or self.pos.step == self.total_steps:
                        now = time.perf_counter()
                        rate = seen * t.batch_size / max(now - last_time, 1e-9)
                        with preserved_rng():  # what logging draws must not change training
                            self._log(rate, now - started, bar)
                        last_time, seen = now, 0
                    if t.checkpoint_every and self.pos.step % t.checkpoint_every == 0:
                        self.save()
                    if self._stop_requested or self.pos.step >= self.total_steps:
                        break
                if self._stop_requested:
                    self.save()
                    raise GankitError(f"interrupted at step {self.pos.step}; a checkpoint was written. "
                                      f"Continue with: gankit train --resume {self.run.path if self.run else 'RUN'}")
                next_group = self.d_steps_at(self.pos.step)
                if self.pos.batch + next_group > len(self.loader) or self.pos.step >= self.total_steps:
                    epoch = self.pos.epoch
                    if self.pos.batch + next_group > len(self.loader):
                        self.pos.epoch, self.pos.batch = epoch + 1, 0
                    self._epoch_end(epoch + 1, save=self.pos.step < self.total_steps)
            self.pos.finished = True
            self.save()
            with preserved_rng():
                self._finish()
        finally:
            if bar is not None:
                bar.close()
            self._restore_signal_handlers()

    def _log(self, rate: float, elapsed: float, bar) -> None:
        counts = self._stat_counts
        tensors = [self._stats[k] for k in STAT_KEYS] + [self._lo[k] for k in SPREAD_KEYS] + [self._hi[k] for k in SPREAD_KEYS]
        if self.dist.enabled:  # every rank's statistics: mean of the sums, min and max of the spreads
            n, m = len(STAT_KEYS), len(SPREAD_KEYS)
            tensors = [*distributed.all_reduce(torch.stack(tensors[:n]), "mean"),
                       *distributed.all_reduce(torch.stack(tensors[n:n + m]), "min"),
                       *distributed.all_reduce(torch.stack(tensors[n + m:]), "max")]
        values = torch.stack(tensors).tolist()  # the one host sync
        record = {"step": self.pos.step, "epoch": self.pos.epoch}
        for k, v in zip(STAT_KEYS, values):
            n = counts["g"] if k.startswith("g_") else counts["d"]
            record[k] = v / max(n, 1)
        spread = values[len(STAT_KEYS):]
        for i, k in enumerate(SPREAD_KEYS):
            record[f"{k}_min"], record[f"{k}_max"] = spread[i], spread[i + len(SPREAD_KEYS)]
        record["images_per_s"] = rate
        record["elapsed_s"] = elapsed
        for v in self._stats.values():
            v.zero_()
        for lo, hi in zip(self._lo.values(), self._hi.values()):
            lo.fill_(math.inf)
            hi.fill_(-math.inf)
        self._stat_counts = {"d": 0, "g": 0}
        if not all(math.isfinite(record[k]) for k in ("d_loss", "g_loss")):
            if self.run:
                self.run.append_stats(record)
            for cb in self.callbacks:
                cb.on_diverge(self, record)
            raise Diverged(f"the losses became non-finite at step {self.pos.step} "
                           f"(D {record['d_loss']}, G {record['g_loss']})", self.pos.step)
        record.update(self.sample_stats(self.generate(self.diagnostic_noise)))
        for cb in self.callbacks:
            record.update(cb.measure(self, record) or {})
        if self.run:
            self.run.append_stats(record)
        if bar is not None:
            bar.set_postfix(D=f"{record['d_loss']:.3f}", G=f"{record['g_loss']:.3f}",
                            Dx=f"{record['d_real']:.2f}", DGz=f"{record['d_fake']:.2f}",
                            img_s=f"{rate:,.0f}", refresh=False)
        for cb in self.callbacks:
            cb.on_log(self, record)

    def _epoch_end(self, epoch: int, save: bool = True) -> None:
        if self.run:
            self.save_samples(epoch)
            if save:  # the last epoch's checkpoint is written once, by fit(), marked finished
                self.save()
        with preserved_rng():  # metrics and plug-ins may draw noise: training must not see it
            for cb in self.callbacks:
                cb.on_epoch_end(self, epoch)

    def _finish(self) -> None:
        if self.run:
            from ..plots import save_loss_plot

            save_loss_plot(self.run.read_stats(), self.run.path / "losses.png")
        for cb in self.callbacks:
            cb.on_train_end(self)
        if self.run:  # last, so that final metrics and findings from the callbacks are on the page
            from ..reports.page import write_report

            try:
                write_report(self.run.path)
            except Exception as e:  # the run itself is saved; a page is not worth failing it for
                log.warning("could not write report.html (%s); write it with: gankit report %s", e, self.run.path)

    def save_samples(self, epoch: int) -> None:
        from ..plots import save_grid, save_toy_plot

        samples = self.generate(self.fixed_noise)
        path = self.run.samples_dir / f"epoch-{epoch:04d}.png"
        if self.dataset.is_image:
            save_grid(samples, path)
        else:
            save_toy_plot(samples, self.dataset.distribution, path, f"{self.cfg.name}, epoch {epoch}")

    def _progress_bar(self):
        from ..callbacks.progress import progress_mode

        if progress_mode(self.cfg, self.progress) != "bar":  # plain lines come from a callback
            return None
        from tqdm.auto import tqdm

        return tqdm(total=self.total_steps, initial=self.pos.step, desc=self.cfg.name, unit="step",
                    dynamic_ncols=True, mininterval=0.5, file=sys.stderr)

    # ------------------------------------------------------------------ interrupts
    def _install_signal_handlers(self) -> None:
        """First Ctrl-C / SIGTERM: finish the step, checkpoint, stop. A second Ctrl-C stops at once."""
        self._old_handlers = {}

        def request_stop(signum, frame):
            self._stop_requested = True
            signal.signal(signal.SIGINT, signal.default_int_handler)
            print(f"\n{signal.Signals(signum).name}: finishing this step and writing a checkpoint "
                  "(press Ctrl-C again to stop at once)", file=sys.stderr)

        try:
            for sig in (signal.SIGINT, signal.SIGTERM):
                self._old_handlers[sig] = signal.signal(sig, request_stop)
        except ValueError:  # not the main thread: leave signals alone
            self._old_handlers = {}

    def _restore_signal_handlers(self) -> None:
        for sig, handler in self._old_handlers.items():
            signal.signal(sig, handler)

    # ------------------------------------------------------------------ checkpoints
    def state_dict(self) -> dict:
        return {
            "config": self.cfg.to_dict(),
            "position": vars(self.pos).copy(),
            "g": self.G.state_dict(),
            "d": self.D.state_dict(),
            "opt_g": self.opt_g.state_dict(),
            "opt_d": self.opt_d.state_dict(),
            "fixed_noise": self.fixed_noise.cpu(),
            "rng": rng_state(),
            **({"g_ema": self.g_ema.state_dict(), "ema_updates": self.g_ema.updates} if self.g_ema else {}),
        }

    def load_state_dict(self, state: dict) -> None:
        differences = config_differences(state["config"], self.cfg)
        if differences:
            raise GankitError("this checkpoint was trained with another network configuration, so it does not "
                              "fit: " + "; ".join(differences))
        try:
            self.G.load_state_dict(state["g"])
            self.D.load_state_dict(state["d"])
        except RuntimeError as e:  # shapes or names differ although the configs agree (older gankit)
            raise GankitError(f"this checkpoint does not fit the networks: {str(e).splitlines()[0]}") from None
        self.opt_g.load_state_dict(state["opt_g"])
        self.opt_d.load_state_dict(state["opt_d"])
        if self.g_ema is not None:
            if "g_ema" not in state:
                raise GankitError("train.ema is on but the checkpoint holds no moving average of G")
            self.g_ema.load_state_dict(state["g_ema"], int(state["ema_updates"]))
        self.fixed_noise = state["fixed_noise"].to(self.device)
        self.pos = Position(**state["position"])
        set_rng_state(state["rng"])

    def save(self) -> None:
        if self.run is None:
            return
        check_weights(self)  # a NaN never reaches a checkpoint
        self.run.save_checkpoint(self.state_dict())

    def describe(self) -> str:
        g, d = count_parameters(self.G), count_parameters(self.D)
        return (f"{self.cfg.name}: {len(self.dataset):,} samples of shape {self.dataset.sample_shape}, "
                f"G {g:,} parameters, D {d:,} parameters, device {self.device}, "
                f"{self.total_steps:,} steps of batch {self.cfg.train.batch_size}" + self._describe_processes())

    def _describe_processes(self) -> str:
        if not self.dist.enabled:
            return ""
        lr_g, lr_d = self.opt_g.param_groups[0]["lr"], self.opt_d.param_groups[0]["lr"]
        return (f" (global batch {self.cfg.train.batch_size} = {self.dist.world} processes x "
                f"{self.loader.local_batch}; learning rates G {lr_g:g}, D {lr_d:g}, applied to the "
                f"gradients averaged over the global batch)")


def resume(run: RunDir, data_root=None, overrides: list[str] | None = None, device: str | None = None,
           progress: bool = True, callbacks=None) -> Trainer:
    """A trainer restored from `run`'s last checkpoint. Only the end of training (train.epochs,
    train.steps) and the device may change on resume."""
    state = run.load_checkpoint()
    saved = state["config"]
    data = C.apply_overrides(C.from_saved(saved).to_dict(), overrides or [])
    allowed = {"train.epochs", "train.steps", "device", "log.tensorboard", "log.progress",
               "train.on_nan", "train.max_rollbacks", "train.rollback_lr_factor", "train.dist_timeout",
               "speed.amp", "speed.channels_last", "speed.compile", "speed.fused_adam", "speed.cuda_graphs",
               "data.stream", "data.workers"}
    # against the saved config with today's defaults filled in: keys added since it was saved are no change
    before = C.flatten(C.from_saved(saved).to_dict())
    changed = {k for k, v in C.flatten(data).items() if before.get(k) != v} - allowed
    if changed:
        now = C.flatten(data)
        diff = "; ".join(f"{k}: run {before.get(k)!r}, asked {now[k]!r}" for k in sorted(changed))
        raise GankitError(f"on resume only {', '.join(sorted(allowed))} may change; not {diff}. "
                          "Start a new run for a different configuration.")
    if device:
        data["device"] = device
    cfg = C.from_saved(data)
    trainer = Trainer(cfg, run, data_root=data_root, progress=progress, callbacks=callbacks)
    trainer.load_state_dict(state)
    if trainer.pos.step < trainer.total_steps:
        trainer.pos.finished = False
    if not distributed.is_main():  # the other ranks only read the run
        return trainer
    run.truncate_stats(trainer.pos.step)  # steps logged after the checkpoint are trained, and logged, again
    if cfg != C.from_saved(saved):
        run.write_text("config.toml", C.to_toml(cfg))
    return trainer
