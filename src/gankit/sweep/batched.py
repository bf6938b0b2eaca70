"""Many seeds of a small GAN trained at once, as one vectorised model.

    group = BatchedSeeds(cfg, seeds=range(8))      # cfg: e.g. load_preset("ring-2d")
    group.fit()                                    # every seed's G, D, optimisers, statistics
    group.write_runs({s: RunDir.create(...)})      # one run directory per seed, as `gankit train` writes it

A single toy MLP run cannot fill even a CPU: each step is a handful of tiny matrix products, and
the time goes into per-operation overhead. Here the S seeds' weights are stacked
(torch.func.stack_module_state) and one vmap(functional_call) runs all S networks in each
operation, so the per-operation overhead is paid once for all seeds.

What is reproduced, seed by seed, from gankit.training (experiment.build + loop.Trainer): the initial weights (built
from the seed's global RNG exactly as the Trainer builds them), the data set (sampled from the
seed) and the batch order (the loader's permutation of (seed, epoch)), the latent noise (each
seed's own torch.Generator, continuing the global RNG stream the Trainer would draw from), the
step (d-first or g-first, one D batch per G step; D updated on the batch generated for G's step),
the losses (the relativistic rpgan's G reading D(x) too) and the R1 / R2 penalties, Adam or SGD with the same settings (foreach or fused as the speed
settings say), the cosine schedule, the EMA of G with its ramp, the log-time statistics, the
evaluations at epoch ends, and the checkpoint. Each seed's loss depends only on its own slice of
the stacked weights, so the gradient of the summed loss is each seed's own gradient.

Tolerance: a stacked matrix product rounds differently from a single one (another kernel), so the
weights agree with the separate runs to about 1e-6 after a few steps (tests/test_sweep_batched.py
checks 1e-5 after 5 steps); over thousands of steps a GAN's dynamics amplify such differences like
any change of floating-point order, so long runs are equal in distribution, not bitwise. What the
batched path does not do: the diagnosis rules, checkpoints during training (a killed group starts
over), checkpoints/best.pt, and sample plots before the last epoch.
"""

from __future__ import annotations

import copy
import math
import time

import torch
from torch.func import functional_call, stack_module_state, vmap

from ..config import to_toml
from ..data import load_dataset, make_loader
from ..data.toy import TOY_SETS
from ..errors import GankitError
from ..losses import loss_row, make_objective
from ..nets import build_networks
from ..training.experiment import resolve_device
from ..training.optim import make_optimizer
from ..training.rng import preserved_rng, rng_state, seed_everything
from ..training.running_stats import SPREAD_KEYS, STAT_KEYS


def unsupported(cfg) -> str:
    """Why `cfg` cannot be trained as batched seeds, or "" when it can."""
    m, t, loss = cfg.model, cfg.train, cfg.loss
    if cfg.data.name not in TOY_SETS:
        return f"data.name = {cfg.data.name!r} is not a toy set (batched seeds are for the toy MLP presets)"
    if m.g != "mlp" or m.d != "mlp":
        return f"the networks are {m.g}/{m.d}, not the toy MLPs"
    if m.d_group > 1:
        return "model.d_group > 1 (moments of groups) is not batched"
    if m.dropout > 0:
        return "model.dropout > 0 draws random masks, which a vectorised model would draw differently"
    if m.spectral_norm:
        return "model.spectral_norm keeps power-iteration state per network"
    if loss_row(loss.kind).gradient_penalty:
        return f"loss.kind = {loss.kind!r} draws random interpolation weights per step"
    if loss.feature_matching > 0:
        return "loss.feature_matching reads D's hidden features, which the batched MLPs do not expose"
    if loss.lecam > 0:
        return "loss.lecam keeps moving averages of D's outputs per run"
    if loss.bcr_real > 0 or loss.bcr_fake > 0:
        return "loss.bcr_real / bcr_fake draw random transforms per run"
    if t.g_pause_below > 0:
        return "train.g_pause_below pauses G per run from its own D accuracy"
    if t.g_steps != 1:
        return "train.g_steps != 1 (only one G update per step is batched)"
    if t.d_steps != 1 or t.d_steps_start:
        return "train.d_steps != 1 (only one D step per G step is batched)"
    if t.on_nan != "stop":
        return "train.on_nan = rollback reloads checkpoints per run"
    if t.ema_bn_stats == "recompute":
        return "train.ema_bn_stats = recompute runs each run's average on fresh latents"
    if cfg.speed.amp == "bf16" or cfg.speed.compile == "on" or cfg.speed.cuda_graphs == "on":
        return "bf16 autocast, compile and CUDA graphs are not batched"
    return ""


ELEMENTWISE = (torch.nn.ReLU, torch.nn.LeakyReLU, torch.nn.ELU, torch.nn.Softplus, torch.nn.Tanh, torch.nn.Identity)


def _layer_plan(module: torch.nn.Module) -> list:
    """[(kind, argument)] for the MLP families: linear maps (by parameter name prefix), packing,
    flattening and elementwise activations, in order; [] when a layer is of another kind."""
    from ..nets.layers import Packed

    plan: list = []
    prefix = ""
    if isinstance(module, Packed):
        plan.append(("pack", module.m))
        module, prefix = module.inner, "inner."
    net = getattr(module, "net", None)
    if not isinstance(net, torch.nn.Sequential):
        return []
    for name, layer in net.named_children():
        if isinstance(layer, torch.nn.Linear):
            plan.append(("linear", f"{prefix}net.{name}."))
        elif isinstance(layer, torch.nn.Flatten):
            plan.append(("flatten", None))
        elif isinstance(layer, ELEMENTWISE):
            plan.append(("act", layer))
        else:
            return []
    return plan


def _per_seed_norm(tensors: list[torch.Tensor]) -> torch.Tensor:
    """Euclidean norm over all tensors of each seed's slice (dimension 0 indexes the seeds)."""
    return torch.stack([t.detach().flatten(1).norm(dim=1) for t in tensors], 1).norm(dim=1)


class BatchedSeeds:
    def __init__(self, cfg, seeds, data_root=None):
        reason = unsupported(cfg)
        if reason:
            raise GankitError(f"these seeds cannot be trained at once: {reason}; train them one by one")
        self.seeds = [int(s) for s in seeds]
        if len(set(self.seeds)) != len(self.seeds) or not self.seeds:
            raise GankitError(f"batched seeds must be distinct and at least one (got {self.seeds})")
        self.cfgs = [cfg.replace(seed=s) for s in self.seeds]
        self.cfg = cfg
        self.device = resolve_device(cfg.device)
        from ..training.speed import resolve

        self.fused = resolve(cfg, self.device).fused_adam
        self.objective = make_objective(cfg.loss)
        self.datasets, self.loaders, self.generators, gs, ds = [], [], [], [], []
        for c in self.cfgs:  # the Trainer's order: seed, data set, networks; then training draws noise
            seed_everything(c.seed)
            dataset = load_dataset(c.data, data_root, seed=c.seed, device=self.device)
            g, d = build_networks(c.model, dataset.sample_shape)
            gen = torch.Generator()  # continues the global CPU stream the Trainer would draw noise from
            gen.set_state(torch.get_rng_state())
            self.datasets.append(dataset)
            self.loaders.append(make_loader(dataset, c, c.seed, self.device))
            self.generators.append(gen)
            gs.append(g.to(self.device))
            ds.append(d.to(self.device))
        self.G_nets, self.D_nets = gs, ds  # per-seed modules: the checkpoint's layout
        self.g_params, self.g_buffers = stack_module_state(gs)
        self.d_params, self.d_buffers = stack_module_state(ds)
        self._plans: dict = {}
        self._g_template = copy.deepcopy(gs[0]).to("meta")
        self._d_template = copy.deepcopy(ds[0]).to("meta")
        self.opt_g = make_optimizer(list(self.g_params.values()), cfg.optim.g, self.fused)
        d_opt = cfg.optim.d
        if cfg.optim.d_lr_ratio > 0:
            from dataclasses import replace

            d_opt = replace(d_opt, lr=cfg.optim.d_lr_ratio * cfg.optim.g.lr)
        self.opt_d = make_optimizer(list(self.d_params.values()), d_opt, self.fused)
        self.ema = None
        self.ema_updates = 0
        if cfg.train.ema > 0:
            self.ema = {k: v.detach().clone() for k, v in self.g_params.items()}
        self.batches = len(self.loaders[0])
        self.step = 0
        self.diverged: dict[int, str] = {}  # seed -> what went wrong
        self.records: dict[int, list[dict]] = {s: [] for s in self.seeds}
        self.metrics: dict[int, list[dict]] = {s: [] for s in self.seeds}
        from ..diagnosis.sample_stats import SampleStats

        self.sample_stats = [SampleStats(d, c.seed) for d, c in zip(self.datasets, self.cfgs)]
        self.diagnostic_noise = torch.stack(
            [self.noise(st.n, torch.Generator().manual_seed(c.seed + 2)) for st, c in zip(self.sample_stats, self.cfgs)]
        )
        self.fixed_noise = [
            self.noise(c.train.sample_grid, torch.Generator().manual_seed(c.seed + 1)) for c in self.cfgs
        ]
        self._reset_stats()

    # ------------------------------------------------------------------ the vectorised networks
    def G(self, z: torch.Tensor, params=None) -> torch.Tensor:
        """All seeds' G on z of shape (S, N, latent) -> (S, N, *sample)."""
        return self._forward(self._g_template, self.g_params if params is None else params, z)

    def D(self, x: torch.Tensor) -> torch.Tensor:
        return self._forward(self._d_template, self.d_params, x)

    def _forward(self, template: torch.nn.Module, params: dict, x: torch.Tensor) -> torch.Tensor:
        """The module's layers with every seed's weights at once: one batched matrix product per
        linear map (baddbmm), activations on the stacked tensor. Falls back to
        vmap(functional_call) for a module this does not know."""
        plan = self._plans.get(id(template))
        if plan is None:
            plan = self._plans[id(template)] = _layer_plan(template)
        if not plan:
            buffers = self.g_buffers if template is self._g_template else self.d_buffers
            return vmap(lambda pp, bb, y: functional_call(template, (pp, bb), (y,)))(params, buffers, x)
        out_shape = getattr(template, "out_shape", None)
        for kind, arg in plan:
            if kind == "linear":
                w, b = params[arg + "weight"], params.get(arg + "bias")
                x = (
                    torch.baddbmm(b.unsqueeze(1), x, w.transpose(1, 2))
                    if b is not None
                    else torch.bmm(x, w.transpose(1, 2))
                )
            elif kind == "pack":
                s, n = x.shape[:2]
                if n % arg:
                    raise GankitError(f"a batch of {n} samples does not split into packs of model.d_pack = {arg}")
                x = x.reshape(s, n // arg, arg * x.shape[2])
            elif kind == "flatten":
                x = x.flatten(2)
            else:  # an elementwise activation module
                x = arg(x)
        return x.reshape(x.shape[0], x.shape[1], *out_shape) if out_shape else x

    def noise(self, n: int, generator: torch.Generator) -> torch.Tensor:
        shape = (n, self.cfg.model.latent_dim)
        z = (
            torch.rand(shape, generator=generator)
            if self.cfg.model.noise == "uniform"
            else torch.randn(shape, generator=generator)
        )
        return z.to(self.device)

    @property
    def total_steps(self) -> int:
        t = self.cfg.train
        by_epochs = t.epochs * self.batches if t.epochs else math.inf
        return int(min(by_epochs, t.steps or math.inf))

    # ------------------------------------------------------------------ one step
    def _per_seed(self, fn, *tensors) -> torch.Tensor:
        """fn applied to each seed's slice: the losses' exact arithmetic, one small call per seed."""
        return torch.stack([fn(*(t[i] for t in tensors)) for i in range(len(self.seeds))])

    def _d_step(self, real: torch.Tensor, fake: torch.Tensor) -> None:
        obj = self.objective
        real_out, fake_out = self.D(real), self.D(fake)
        loss = self._per_seed(obj.d_loss, real_out, fake_out)
        # gamma/2 * E|grad D(x)|^2 per seed on the reals (R1) and the fakes (R2), as losses.r1_penalty / r2_penalty
        for gamma, x in ((obj.r1_gamma, real), (obj.r2_gamma, fake)):
            if gamma > 0:
                loss = loss + 0.5 * gamma * self._input_grad(x).flatten(2).pow(2).sum(2).mean(1)
        self.opt_d.zero_grad(set_to_none=True)
        loss.sum().backward()
        grad_norm = _per_seed_norm([p.grad for p in self.d_params.values() if p.grad is not None])
        self.opt_d.step()
        with torch.no_grad():
            sr, sf = obj.score(real_out).flatten(1), obj.score(fake_out).flatten(1)
            acc = ((sr > obj.threshold).float().mean(1) + (sf <= obj.threshold).float().mean(1)) / 2
            self._accumulate(d_loss=loss, d_real=sr.mean(1), d_fake=sf.mean(1), d_acc=acc, d_grad_norm=grad_norm)
        self._counts["d"] += 1

    def _input_grad(self, x: torch.Tensor) -> torch.Tensor:
        """dD(x)/dx per sample of every seed, kept in the graph (each output depends on its own sample only)."""
        x = x.detach().requires_grad_(True)
        (grad,) = torch.autograd.grad(self.D(x).sum(), x, create_graph=True)
        return grad

    def _g_step(self, fake: torch.Tensor, real: torch.Tensor) -> None:
        for p in self.d_params.values():
            p.requires_grad_(False)
        if self.objective.g_needs_real:  # relativistic rows (rpgan): G's loss reads D(x) beside D(G(z))
            loss = self._per_seed(self.objective.g_loss, self.D(fake), self.D(real))
        else:
            loss = self._per_seed(self.objective.g_loss, self.D(fake))
        self.opt_g.zero_grad(set_to_none=True)
        loss.sum().backward()
        grad_norm = _per_seed_norm([p.grad for p in self.g_params.values() if p.grad is not None])
        self.opt_g.step()
        for p in self.d_params.values():
            p.requires_grad_(True)
        if self.ema is not None:  # gankit.training.ema.EMA's ramp: min(decay, (1 + n) / (10 + n))
            n = self.ema_updates + 1
            weight = 1.0 - min(self.cfg.train.ema, (1 + n) / (10 + n))
            with torch.no_grad():
                for k, avg in self.ema.items():
                    avg.lerp_(self.g_params[k].detach(), weight)
            self.ema_updates += 1
        self._accumulate(g_loss=loss, g_grad_norm=grad_norm)
        self._counts["g"] += 1

    def _batch_noise(self, n: int) -> torch.Tensor:
        return torch.stack([self.noise(n, gen) for gen in self.generators])

    def train_step(self, reals: torch.Tensor) -> None:
        n = reals.shape[1]
        fake = self.G(self._batch_noise(n))
        if self.cfg.train.order == "g-first":
            self._g_step(fake, reals)
            self._d_step(reals, fake.detach())
        else:
            self._d_step(reals, fake.detach())
            self._g_step(fake, reals)

    def _schedule_lr(self) -> None:
        if self.cfg.train.lr_schedule == "constant":
            return
        scale = 0.5 * (1 + math.cos(math.pi * self.step / max(self.total_steps, 1)))
        for opt in (self.opt_g, self.opt_d):
            for group in opt.param_groups:
                group.setdefault("base_lr", group["lr"])
                group["lr"] = group["base_lr"] * scale

    # ------------------------------------------------------------------ the loop
    def fit(self, progress=None) -> None:
        """Train every seed to the end (train.epochs / train.steps), as Trainer.fit does."""
        t = self.cfg.train
        total = self.total_steps
        if self.step >= total:
            raise GankitError(f"these seeds already finished ({self.step} steps)")
        started = last_time = time.perf_counter()
        seen = 0
        while self.step < total:
            epoch, start = divmod(self.step, self.batches)
            epochs = [loader.epoch(epoch, start) for loader in self.loaders]
            for reals in zip(*epochs):
                self._schedule_lr()
                self.train_step(torch.stack(reals))
                self.step += 1
                seen += 1
                if self.step % t.log_every == 0 or self.step == total:
                    now = time.perf_counter()
                    self._log(seen * t.batch_size / max(now - last_time, 1e-9), now - started)
                    last_time, seen = now, 0
                if progress is not None:
                    progress(self.step, total)
                if self.step >= total:
                    break
            if self.step % self.batches == 0 or self.step >= total:
                self._epoch_end(self.step // self.batches if self.step % self.batches == 0 else epoch + 1)

    # ------------------------------------------------------------------ statistics, metrics
    def _reset_stats(self) -> None:
        S = len(self.seeds)
        self._stats = {k: torch.zeros(S, device=self.device) for k in STAT_KEYS}
        self._lo = {k: torch.full((S,), math.inf, device=self.device) for k in SPREAD_KEYS}
        self._hi = {k: torch.full((S,), -math.inf, device=self.device) for k in SPREAD_KEYS}
        self._counts = {"d": 0, "g": 0}

    def _accumulate(self, **values: torch.Tensor) -> None:
        for k, v in values.items():
            v = v.detach().float()
            self._stats[k] += v
            if k in self._lo:
                torch.minimum(self._lo[k], v, out=self._lo[k])
                torch.maximum(self._hi[k], v, out=self._hi[k])

    @torch.no_grad()
    def generate(self, z: torch.Tensor) -> torch.Tensor:
        """Samples of every seed from z (S, N, latent): from the EMA of G when train.ema > 0."""
        return self.G(z, self.ema).detach()

    def _log(self, rate: float, elapsed: float) -> None:
        samples = self.generate(self.diagnostic_noise).cpu()
        for i, seed in enumerate(self.seeds):
            rec = {"step": self.step, "epoch": self.step // self.batches}
            for k in STAT_KEYS:
                n = self._counts["g"] if k.startswith("g_") else self._counts["d"]
                rec[k] = float(self._stats[k][i]) / max(n, 1)
            for k in SPREAD_KEYS:
                rec[f"{k}_min"], rec[f"{k}_max"] = float(self._lo[k][i]), float(self._hi[k][i])
            rec["images_per_s"] = rate
            rec["elapsed_s"] = elapsed
            rec["seeds_at_once"] = len(self.seeds)
            if seed in self.diverged:  # its records stop where it diverged, as a stopped run's do
                continue
            if not all(math.isfinite(rec[k]) for k in ("d_loss", "g_loss")):
                self.diverged[seed] = f"the losses became non-finite at step {self.step}"
            else:
                rec.update(self.sample_stats[i](samples[i]))
            self.records[seed].append(rec)
        self._reset_stats()

    def _epoch_end(self, epoch: int) -> None:
        every = self.cfg.eval.every
        last = self.step >= self.total_steps
        if every and (epoch % every == 0 or last):
            self.evaluate()

    def evaluate(self) -> None:
        """The EvalCallback's evaluation, per seed: eval.n samples from the noise of seed + 2."""
        from ..metrics import check_primary, domain_of, parse_metrics
        from ..metrics.evaluate import Evaluator, records

        c = self.cfg
        domain = domain_of(c.data.name)
        names = parse_metrics(c.eval.metrics, domain, c.data.name, training=True)
        check_primary(c.eval.primary, names, domain)
        z = torch.stack([self.noise(c.eval.n, torch.Generator().manual_seed(s + 2)) for s in self.seeds])
        samples = self.generate(z).cpu()
        for i, cs in enumerate(self.cfgs):
            if cs.seed in self.diverged:
                continue
            ev = Evaluator(cs, n=c.eval.n, device="cpu")
            values = ev.evaluate(samples[i], names)
            self.metrics[cs.seed] += records(values, self.step, ev.feature_net, c.eval.n, "train")

    # ------------------------------------------------------------------ per-seed results
    def _unstack(self, i: int) -> tuple[torch.nn.Module, torch.nn.Module]:
        g, d = self.G_nets[i], self.D_nets[i]
        with torch.no_grad():
            for net, params, buffers in ((g, self.g_params, self.g_buffers), (d, self.d_params, self.d_buffers)):
                for name, p in net.named_parameters():
                    p.copy_(params[name][i])
                for name, b in net.named_buffers():
                    b.copy_(buffers[name][i])
        return g, d

    def _optimizer_state(self, opt: torch.optim.Optimizer, net: torch.nn.Module, o, i: int) -> dict:
        """The seed's slice of a stacked optimiser, as the state_dict of that seed's own optimiser."""
        own = make_optimizer(net.parameters(), o, self.fused)
        for p_own, p in zip(net.parameters(), opt.param_groups[0]["params"]):
            st = opt.state.get(p)
            if st:
                own.state[p_own] = {
                    k: (
                        v[i].clone() if torch.is_tensor(v) and v.dim() > 0 else (v.clone() if torch.is_tensor(v) else v)
                    )
                    for k, v in st.items()
                }
        for k, v in opt.param_groups[0].items():
            if k != "params":
                own.param_groups[0][k] = v
        return own.state_dict()

    def state_dict(self, i: int) -> dict:
        """Seed i's checkpoint, in the layout of Trainer.state_dict (gankit sample/resume read it)."""
        g, d = self._unstack(i)
        c = self.cfgs[i]
        with preserved_rng():  # python/numpy streams: as seeded, untouched by training, as in the Trainer
            seed_everything(c.seed)
            rng = rng_state()
        rng["torch"] = self.generators[i].get_state()
        epoch, batch = divmod(self.step, self.batches)
        d_opt = c.optim.d
        if c.optim.d_lr_ratio > 0:
            from dataclasses import replace

            d_opt = replace(d_opt, lr=c.optim.d_lr_ratio * c.optim.g.lr)
        state = {
            "config": c.to_dict(),
            "position": {
                "step": self.step,
                "epoch": epoch,
                "batch": batch,
                "finished": self.step >= self.total_steps,
                "rollbacks": 0,
            },
            "g": g.state_dict(),
            "d": d.state_dict(),
            "opt_g": self._optimizer_state(self.opt_g, g, c.optim.g, i),
            "opt_d": self._optimizer_state(self.opt_d, d, d_opt, i),
            "fixed_noise": self.fixed_noise[i].cpu(),
            "rng": rng,
        }
        if self.ema is not None:
            g_ema = copy.deepcopy(g)
            with torch.no_grad():
                for name, p in g_ema.named_parameters():
                    p.copy_(self.ema[name][i])
            state["g_ema"], state["ema_updates"] = g_ema.state_dict(), self.ema_updates
        return state

    def write_runs(self, runs: dict, report: bool = True) -> list[int]:
        """Write each seed's run directory (config, stats, metrics, last samples, checkpoint, page);
        returns the seeds that finished (a diverged seed gets its records but no checkpoint)."""
        import json

        from ..metrics.evaluate import append_records
        from ..plots import save_loss_plot, save_toy_plot

        finished = []
        samples = self.generate(torch.stack(self.fixed_noise)).cpu()
        for i, seed in enumerate(self.seeds):
            run = runs[seed]
            run.write_text("config.toml", to_toml(self.cfgs[i]))
            with open(run.stats_path, "w", encoding="utf-8") as f:
                f.writelines(json.dumps(rec, allow_nan=True) + "\n" for rec in self.records[seed])
            if self.metrics[seed]:
                append_records(run.path, self.metrics[seed])
            if seed in self.diverged:
                continue
            epoch = math.ceil(self.step / self.batches)
            save_toy_plot(
                samples[i],
                self.datasets[i].distribution,
                run.samples_dir / f"epoch-{epoch:04d}.png",
                f"{self.cfg.name}, epoch {epoch}",
            )
            run.save_checkpoint(self.state_dict(i))
            finished.append(seed)
            save_loss_plot(run.read_stats(), run.path / "losses.png")
            if report:
                from ..reports.page import write_report

                write_report(run.path)
        return finished
