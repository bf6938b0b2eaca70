"""The training loop. It coordinates: the experiment's parts (training/experiment.py) say what
is trained, the schedule says when, the running statistics and the callbacks say what is reported.

    trainer = Trainer(build(cfg), run=RunDir.create("ring-2d"), callbacks=[...])
    trainer.fit()

One *step* is one generator update (or train.g_steps, each on fresh noise), preceded (d-first)
or followed (g-first) by its discriminator updates, each on a fresh real batch (Algorithm 1 of
seed S2). Statistics stay on the device and are read once every `log_every` steps, so the step
never waits on the host.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from dataclasses import dataclass

import torch

from .. import distributed
from ..augment import Augment
from ..diagnosis.sample_stats import SampleStats
from ..errors import GankitError
from ..generation.latent import generate, sample_latent
from ..nets import count_parameters
from ..nets.conditional import auxiliary_loss
from ..plots import save_grid, save_toy_plot
from ..run import RunDir
from .callbacks import Callback
from .consistency import ConsistencyRegularization
from .controls import Controls
from .experiment import Experiment
from .interrupts import StopRequest, stop_on_signals
from .lecam import LeCam
from .optim import grad_norm, learning_rates
from .progress import progress_bar
from .reliability import Diverged, Rollback, check_weights, config_differences
from .rng import preserved_rng, rng_state, set_rng_state
from .running_stats import RunningStats
from .schedule import Schedule, apply_lr_scale

log = logging.getLogger("gankit")


@dataclass
class Position:
    """Where training stands: generator steps done, and the next batch to read."""

    step: int = 0
    epoch: int = 0
    batch: int = 0  # next batch index within `epoch`
    finished: bool = False
    rollbacks: int = 0  # reloads of the last good checkpoint after a divergence (train.on_nan = rollback)


class Trainer:
    def __init__(
        self, exp: Experiment, run: RunDir | None = None, callbacks: list[Callback] | None = None, progress: bool = True
    ):
        self.dist = distributed.current()
        if not self.dist.is_main:  # rank 0 alone writes the run directory, reports and logs progress
            run, progress, callbacks = None, False, []
        self.exp, self.cfg, self.run, self.progress = exp, exp.cfg, run, progress
        self.callbacks = list(callbacks or [])
        self.device, self.speed, self.dataset, self.loader = exp.device, exp.speed, exp.dataset, exp.loader
        self.G, self.D, self.g_ema, self.objective = exp.G, exp.D, exp.g_ema, exp.objective
        self.opt_g, self.opt_d = exp.opt_g, exp.opt_d
        self.schedule = Schedule(self.cfg.train, len(self.loader))
        self.pos = Position()
        self.stats = RunningStats(self.device)
        self.rollback = Rollback()
        self.stop = StopRequest()
        # conditional (model.conditional): classes of G(z, y) / D(x, y); 0 = unconditional
        self.num_classes = self.cfg.model.num_classes if self.cfg.model.conditional == "true" else 0
        # fixed noise, drawn from its own generator so it is the same whatever the device
        self.fixed_noise = self.noise(self.grid_size(), torch.Generator().manual_seed(self.cfg.seed + 1))
        # diversity of G's samples at log time (for the diagnosis), from noise fixed like fixed_noise
        self.sample_stats = SampleStats(self.dataset, self.cfg.seed)
        self.diagnostic_noise = self.noise(self.sample_stats.n, torch.Generator().manual_seed(self.cfg.seed + 2))
        self.g_paused = False  # train.g_pause_below: decided at each log from the interval's D accuracy
        self.controls = Controls.from_config(self.cfg)  # what train.balance = auto may change
        self._lr_controlled = False  # set once a control moved a learning rate: from then on it is applied
        lc = self.cfg.loss  # loss.lecam: moving averages of D's outputs, moved in every D step
        self.lecam = LeCam(lc.lecam, lc.lecam_decay, self.device) if lc.lecam > 0 else None
        self.bcr = self._consistency(self.cfg)  # loss.bcr_real / bcr_fake: None when off

    def _consistency(self, cfg) -> ConsistencyRegularization | None:
        lc, a = cfg.loss, cfg.augment
        if lc.bcr_real <= 0 and lc.bcr_fake <= 0:
            return None
        transform = Augment(
            lc.bcr_policy,
            1.0,
            translation=a.translation,
            cutout=a.cutout,
            rotation=a.rotation,
            scale=a.scale,
            device=self.device,
        )
        return ConsistencyRegularization(lc.bcr_real, lc.bcr_fake, transform)

    @property
    def total_steps(self) -> int:
        return self.schedule.total_steps

    def d_steps_at(self, step: int) -> int:
        return self.schedule.d_steps_at(step)

    # ------------------------------------------------------------------ sampling
    def noise(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """Latent vectors: N(0, I) or, for seed S1, uniform [0, 1). Drawn on the CPU with `generator`
        when one is given (reproducible across devices), else on the training device."""
        return sample_latent(self.cfg.model, n, generator, "cpu" if generator is not None else self.device).to(
            self.device
        )

    def batch_noise(self, n: int) -> torch.Tensor:
        """Latent vectors for this process's `n` samples of a training batch. With several
        processes every rank draws the whole global batch's noise and keeps its slice, so the RNG
        streams stay equal on all ranks, and equal to a single process's."""
        if not self.dist.enabled:
            return self.noise(n)
        return self.noise(n * self.dist.world)[distributed.shard(n * self.dist.world)]

    # -- labels of a conditional model (model.conditional); all None / unused when unconditional
    def grid_size(self) -> int:
        """Samples in each epoch's grid: train.sample_grid, or for a conditional model one row per
        class of sample_grid // classes columns (at least one)."""
        k = self.num_classes
        return self.cfg.train.sample_grid if not k else k * max(1, self.cfg.train.sample_grid // k)

    def batch_labels(self, n: int) -> torch.Tensor | None:
        """Labels of the fakes of a training batch: uniform over the classes, from the global RNG
        right after their noise (the whole global batch on every rank, as batch_noise does)."""
        if not self.num_classes:
            return None
        if not self.dist.enabled:
            return torch.randint(self.num_classes, (n,), device=self.device)
        y = torch.randint(self.num_classes, (n * self.dist.world,), device=self.device)
        return y[distributed.shard(n * self.dist.world)]

    @torch.no_grad()
    def generate(self, z: torch.Tensor, ema: bool = True, labels: torch.Tensor | None = None) -> torch.Tensor:
        """G(z) in eval mode (batch-norm running statistics, no dropout); from the moving
        average of G's weights when train.ema > 0, unless `ema` is False (the trained G itself).
        A conditional G draws the classes `labels` (default: every class in turn)."""
        g = self.g_ema.sampler() if self.g_ema is not None and ema else self.G
        was_training = g.training
        g.eval()
        out = generate(g, z, labels=labels)
        g.train(was_training)
        return out

    # ------------------------------------------------------------------ one update each
    def d_step(self, real: torch.Tensor, fake: torch.Tensor, y_real=None, y_fake=None) -> None:
        obj, D_train, aug = self.objective, self.exp.D_train, self.exp.augment
        real, fake = aug(real), aug(fake)  # augment.*: D sees augmented images (unchanged when off)
        # conditional: D(x, y) with the real batch's labels and the fakes' sampled ones
        real_out, fake_out = D_train(real, *_y(y_real)), D_train(fake, *_y(y_fake))  # DDP all-reduces D's grads
        loss = obj.d_loss(real_out, fake_out)
        if self.lecam is not None:  # loss.lecam: D's outputs held near the other side's moving average
            loss = loss + self.lecam(real_out, fake_out)
        if self.bcr is not None:  # loss.bcr_*: D's verdict unchanged by a small shift of its input
            loss = loss + self.bcr(
                _with_labels(self.D, y_real), _with_labels(self.D, y_fake), real, fake, real_out, fake_out
            )
        if self.cfg.model.aux_classifier > 0:  # AC-GAN: D's class head learns the labels of both halves
            w = self.cfg.model.aux_classifier
            loss = loss + w * (auxiliary_loss(self.D, real, y_real) + auxiliary_loss(self.D, fake, y_fake))
        penalty = obj.penalty(_with_labels(self.D, y_real), real, fake)
        if penalty is not None:
            loss = loss + penalty
        self.opt_d.zero_grad(set_to_none=True)
        loss.backward()
        norm = grad_norm(self.D.parameters()).to(self.device)
        self.opt_d.step()
        with torch.no_grad():
            s_real, s_fake = obj.score(real_out).mean(), obj.score(fake_out).mean()
            acc = _accuracy(obj, real_out, fake_out)
            if aug.adaptive:  # ADA: r_t = E[sign(D(x_real))] moves p
                aug.observe(obj.verdicts(real_out, fake_out)[0])
        self.stats.add("d", d_loss=loss, d_real=s_real, d_fake=s_fake, d_acc=acc, d_grad_norm=norm)

    def g_step(self, fake: torch.Tensor, real: torch.Tensor, y_fake=None, y_real=None) -> None:
        if self.g_paused:  # train.g_pause_below: D's accuracy was below the bound; G waits, D trains
            return self._g_paused_step(fake, real, y_fake, y_real)
        self.D.requires_grad_(False)  # freeze D: G's step must not leave gradients on it
        loss = self._g_loss(fake, real, y_fake, y_real)
        self.opt_g.zero_grad(set_to_none=True)
        loss.backward()
        norm = grad_norm(self.G.parameters()).to(self.device)
        self.opt_g.step()
        self.D.requires_grad_(True)
        if self.g_ema is not None:
            self.g_ema.update(self.G)
        self.stats.add("g", g_loss=loss, g_grad_norm=norm)

    def _g_loss(self, fake: torch.Tensor, real: torch.Tensor, y_fake=None, y_real=None) -> torch.Tensor:
        obj, aug = self.objective, self.exp.augment
        needs_real = getattr(obj, "g_needs_real", False)  # relativistic rows read D(x) too
        matching = getattr(obj, "feature_matching", 0) > 0  # loss.feature_matching: D's features of x
        fake_seen = aug(fake)  # augment.*: G is scored on what D is trained on
        real_seen = aug(real) if needs_real or matching else None
        real_out = self.D(real_seen, *_y(y_real)) if needs_real else None
        fake_out = self.D(fake_seen, *_y(y_fake))  # conditional: D(G(z, y), y)
        loss = obj.g_loss(fake_out, real_out) if needs_real else obj.g_loss(fake_out)
        if self.cfg.model.aux_classifier > 0:  # AC-GAN: G's samples should be classified as asked
            loss = loss + self.cfg.model.aux_classifier * auxiliary_loss(self.D, fake_seen, y_fake)
        return loss + obj.g_extra(self.D, real_seen, fake_seen) if matching else loss

    def _g_paused_step(self, fake: torch.Tensor, real: torch.Tensor, y_fake=None, y_real=None) -> None:
        """G's loss for the log, without an update (train.g_pause_below)."""
        with torch.no_grad():
            loss = self._g_loss(fake, real, y_fake, y_real)
        self.stats.add("g", g_loss=loss, g_grad_norm=torch.zeros((), device=self.device))

    def train_group(self, reals: list[torch.Tensor]) -> None:
        """One generator step with its discriminator steps, one real batch each. The generated batch
        of the D step next to G's update is shared with it (one G forward less), as the seeds' loops do."""
        if self.speed.cuda_graphs:  # a new step: the graphs' previous outputs may be overwritten now
            torch.compiler.cudagraph_mark_step_begin()
        # a conditional model's batches are (images, labels) pairs: ys holds the labels (else Nones)
        reals, ys = zip(*reals) if self.num_classes else (reals, [None] * len(reals))
        with self.speed.autocast():  # bf16 forward passes when speed.amp resolves to bf16, else nothing
            n, G_train = reals[0].shape[0], self.exp.G_train
            if self.cfg.train.order == "g-first":
                self._extra_g_steps(G_train, reals[0], ys[0])
                fake, y = self._fake(G_train, n)
                self.g_step(fake, reals[0], y, ys[0])
                self.d_step(reals[0], fake.detach(), ys[0], y)
                for real, y_real in zip(reals[1:], ys[1:]):
                    fake, y = self._fake_without_grad(n)
                    self.d_step(real, fake, y_real, y)
            else:
                for real, y_real in zip(reals[:-1], ys[:-1]):
                    fake, y = self._fake_without_grad(n)
                    self.d_step(real, fake, y_real, y)
                fake, y = self._fake(G_train, n)
                self.d_step(reals[-1], fake.detach(), ys[-1], y)
                self.g_step(fake, reals[-1], y, ys[-1])
                self._extra_g_steps(G_train, reals[-1], ys[-1])

    def _extra_g_steps(self, G, real: torch.Tensor, y_real) -> None:
        """train.g_steps > 1: G's further updates of a step, each on fresh noise, beside the same real batch."""
        for _ in range(self.cfg.train.g_steps - 1):
            fake, y = self._fake(G, real.shape[0])
            self.g_step(fake, real, y, y_real)

    def _fake(self, G, n: int) -> tuple[torch.Tensor, torch.Tensor | None]:
        """(G(z), None), or for a conditional model (G(z, y), y) with y drawn after z."""
        z, y = self.batch_noise(n), self.batch_labels(n)
        return G(z, *_y(y)), y

    def _fake_without_grad(self, n: int) -> tuple[torch.Tensor, torch.Tensor | None]:
        with torch.no_grad():  # no backward through G here: no DDP forward either
            return self._fake(self.G, n)

    # ------------------------------------------------------------------ the loop
    def fit(self) -> None:
        """Train to the end. On a NaN/Inf loss or weight: stop with a diagnosis, or, with
        train.on_nan = rollback, reload the last good state with lower learning rates and go on."""
        self.rollback.prepare(self)
        while True:
            try:
                with distributed.lost_peers_are_errors(str(self.run.path) if self.run else "RUN"):
                    return self._fit()
            except Diverged as e:
                self.rollback.handle(self, e)

    def _fit(self) -> None:
        t = self.cfg.train
        if self.pos.finished or self.pos.step >= self.total_steps:
            raise GankitError(
                f"this run already finished ({self.pos.step} steps). To train longer, resume with "
                f"a larger end, e.g. --set train.epochs={t.epochs + 10}"
            )
        self.G.train()
        self.D.train()
        bar = progress_bar(self.cfg, self.progress, self.total_steps, self.pos.step)
        clock = _Clock()
        with preserved_rng():
            for cb in self.callbacks:
                cb.on_train_start(self)
        if self.pos.batch and self.schedule.epoch_is_over(self.pos.step, self.pos.batch):
            # stopped (Ctrl-C) right after an epoch's last step: its end comes first
            epoch = self.pos.epoch
            self.pos.epoch, self.pos.batch = epoch + 1, 0
            self._epoch_end(epoch + 1)
        try:
            with stop_on_signals(self.stop):
                for step, epoch, batch, group in self.schedule.groups(
                    self.loader, self.pos.step, self.pos.epoch, self.pos.batch
                ):
                    self._apply_lr(step)
                    self.train_group(group)
                    self.pos.step, self.pos.epoch, self.pos.batch = step + 1, epoch, batch + len(group)
                    clock.seen += len(group)
                    self._after_step(bar, clock)
                    if self.stop.requested:
                        self.save()
                        raise GankitError(
                            f"interrupted at step {self.pos.step}; a checkpoint was written. Continue "
                            f"with: gankit train --resume {self.run.path if self.run else 'RUN'}"
                        )
                    if self.schedule.epoch_is_over(self.pos.step, self.pos.batch) or self.pos.step >= self.total_steps:
                        if self.schedule.epoch_is_over(self.pos.step, self.pos.batch):
                            self.pos.epoch, self.pos.batch = epoch + 1, 0
                        self._epoch_end(epoch + 1, save=self.pos.step < self.total_steps)
                    if self.pos.step >= self.total_steps:
                        break
            self.pos.finished = True
            self.save()
            with preserved_rng():
                for cb in self.callbacks:
                    cb.on_train_end(self)
        finally:
            if bar is not None:
                bar.close()

    def set_controls(self, **changes) -> None:
        """Change what may change while training (gankit.training.controls); the next step uses it."""
        for k, v in changes.items():
            setattr(self.controls, k, v)
        self._lr_controlled = self._lr_controlled or self.controls.g_lr != 1.0 or self.controls.d_lr != 1.0
        self.schedule.d_steps = self.controls.d_steps
        if self.controls.beta1 >= 0:
            for opt in (self.opt_g, self.opt_d):
                for group in opt.param_groups:
                    if "betas" in group:  # Adam (SGD's momentum stays)
                        group["betas"] = (self.controls.beta1, group["betas"][1])
        obj = self.objective  # frozen: a changed R1 is a new objective (a user's own loss may have no R1)
        if dataclasses.is_dataclass(obj) and getattr(obj, "r1_gamma", None) not in (None, self.controls.r1_gamma):
            self.objective = dataclasses.replace(obj, r1_gamma=self.controls.r1_gamma)
        self.controls.apply_augment(self.exp.augment)

    def _apply_lr(self, step: int) -> None:
        """The schedule's factor, times the controls' factor of each side (train.balance = auto)."""
        scale, c = self.schedule.lr_scale(step), self.controls
        if not self._lr_controlled:
            apply_lr_scale(scale, self.opt_g, self.opt_d)
        else:
            apply_lr_scale((scale if scale is not None else 1.0) * c.g_lr, self.opt_g)
            apply_lr_scale((scale if scale is not None else 1.0) * c.d_lr, self.opt_d)

    def _after_step(self, bar, clock) -> None:
        t = self.cfg.train
        if self.dist.enabled:  # all ranks stop at the same step, whichever saw the Ctrl-C
            self.stop.requested = distributed.agree_to_stop(self.stop.requested, self.pos.step, self.device)
        if bar is not None:
            bar.update(1)
        if self.pos.step % t.log_every == 0 or self.pos.step == self.total_steps:
            with preserved_rng():  # what logging draws must not change training
                self._log(*clock.lap(t.batch_size), bar)
        if t.checkpoint_every and self.pos.step % t.checkpoint_every == 0:
            self.save()

    def _log(self, rate: float, elapsed: float, bar) -> None:
        record = {
            "step": self.pos.step,
            "epoch": self.pos.epoch,
            **self.stats.read_and_reset(),
            "images_per_s": rate,
            "elapsed_s": elapsed,
        }
        if not all(_finite(record[k]) for k in ("d_loss", "g_loss")):
            if self.run:
                self.run.append_stats(record)
            for cb in self.callbacks:
                cb.on_diverge(self, record)
            raise Diverged(
                f"the losses became non-finite at step {self.pos.step} (D {record['d_loss']}, G {record['g_loss']})",
                self.pos.step,
            )
        self._log_remedies(record)
        record.update(self.sample_stats(self.generate(self.diagnostic_noise)))
        for cb in self.callbacks:
            record.update(cb.measure(self, record) or {})
        if self.run:
            self.run.append_stats(record)
        if bar is not None:
            bar.set_postfix(
                D=f"{record['d_loss']:.3f}",
                G=f"{record['g_loss']:.3f}",
                Dx=f"{record['d_real']:.2f}",
                DGz=f"{record['d_fake']:.2f}",
                img_s=f"{rate:,.0f}",
                refresh=False,
            )
        for cb in self.callbacks:
            cb.on_log(self, record)

    def _log_remedies(self, record: dict) -> None:
        """augment_p (ADA's probability) and g_paused (whether G waited this interval) in the log;
        the next interval's pause is decided from this one's D accuracy: no host sync in the step."""
        if self.exp.augment.enabled:
            record["augment_p"] = float(self.exp.augment.p)
        bound = self.controls.g_pause_below
        if bound > 0:
            record["g_paused"] = float(self.g_paused)
            self.g_paused = record["d_acc"] < bound

    def _epoch_end(self, epoch: int, save: bool = True) -> None:
        if self.run:
            self.save_samples(epoch)
            if save:  # the last epoch's checkpoint is written once, by fit(), marked finished
                self.save()
        with preserved_rng():  # metrics and plug-ins may draw noise: training must not see it
            for cb in self.callbacks:
                cb.on_epoch_end(self, epoch)

    def save_samples(self, epoch: int) -> None:
        k = self.num_classes  # conditional: one row per class
        labels = torch.arange(k, device=self.device).repeat_interleave(len(self.fixed_noise) // k) if k else None
        samples = self.generate(self.fixed_noise, labels=labels)
        path = self.run.sample_path(epoch)
        if self.dataset.is_image:
            save_grid(samples, path, len(self.fixed_noise) // k if k else None)
        else:
            save_toy_plot(samples, self.dataset.distribution, path, f"{self.cfg.name}, epoch {epoch}")

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
            # issue 17's remedies: ADA's p and accumulators, and the G pause, continue exactly on resume
            **({"augment": self.exp.augment.state_dict()} if self.exp.augment.enabled else {}),
            **({"g_paused": self.g_paused} if self.controls.g_pause_below > 0 else {}),
            **({"lecam": self.lecam.state_dict()} if self.lecam is not None else {}),
            **({"controls": self.controls.state_dict()} if self.cfg.train.balance != "off" else {}),
        }

    def load_state_dict(self, state: dict) -> None:
        differences = config_differences(state["config"], self.cfg)
        if differences:
            raise GankitError(
                "this checkpoint was trained with another network configuration, so it does not "
                "fit: " + "; ".join(differences)
            )
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
        if "controls" in state:  # before the augmentation: the controller may have switched it on
            self.controls.load_state_dict(state["controls"])
            self.set_controls()
        if self.exp.augment.enabled and "augment" in state:
            self.exp.augment.load_state_dict(state["augment"])
        self.g_paused = bool(state.get("g_paused", False))
        if self.lecam is not None and "lecam" in state:
            self.lecam.load_state_dict(state["lecam"])
        set_rng_state(state["rng"])

    def save(self) -> None:
        if self.run is None:
            return
        check_weights(self.G, self.D, self.pos.step)  # a NaN never reaches a checkpoint
        self.run.save_checkpoint(self.state_dict())

    def describe(self) -> str:
        g, d = count_parameters(self.G), count_parameters(self.D)
        return (
            f"{self.cfg.name}: {len(self.dataset):,} samples of shape {self.dataset.sample_shape}, "
            f"G {g:,} parameters, D {d:,} parameters, device {self.device}, "
            f"{self.total_steps:,} steps of batch {self.cfg.train.batch_size}" + self._describe_processes()
        )

    def _describe_processes(self) -> str:
        if not self.dist.enabled:
            return ""
        lr_g, lr_d = learning_rates(self.opt_g, self.opt_d)
        return (
            f" (global batch {self.cfg.train.batch_size} = {self.dist.world} processes x "
            f"{self.loader.local_batch}; learning rates G {lr_g:g}, D {lr_d:g}, applied to the "
            f"gradients averaged over the global batch)"
        )


class _Clock:
    """Images per second since the last log, and time since training (this session) started."""

    def __init__(self):
        self.started = self.last = time.perf_counter()
        self.seen = 0  # real batches since the last log

    def lap(self, batch_size: int) -> tuple[float, float]:
        now = time.perf_counter()
        rate = self.seen * batch_size / max(now - self.last, 1e-9)
        self.last, self.seen = now, 0
        return rate, now - self.started


def _y(labels) -> tuple:
    """The extra argument of a conditional network's call, G(z, y) / D(x, y): () when unconditional."""
    return () if labels is None else (labels,)


def _with_labels(D, labels):
    """D for the penalties (gradient penalty, R1), which call it on images alone: a conditional D
    judges them with the real batch's labels."""
    return D if labels is None else lambda x: D(x, labels)


def _accuracy(obj, real_out: torch.Tensor, fake_out: torch.Tensor) -> torch.Tensor:
    """D's accuracy on the batch; a user's own loss object without accuracy() is read at its threshold."""
    if hasattr(obj, "accuracy"):
        return obj.accuracy(real_out, fake_out)
    return (
        (obj.score(real_out) > obj.threshold).float().mean() + (obj.score(fake_out) <= obj.threshold).float().mean()
    ) / 2


def _finite(x) -> bool:
    return x == x and x not in (float("inf"), float("-inf"))
