"""Seed S2's theory, watched on the 1D problem (data N(4, 1.25)).

For a fixed generator G with density p_g, the discriminator that maximises
    V(D, G) = E_{x~p_data}[log D(x)] + E_{z}[log(1 - D(G(z)))]
is D*(x) = p_data(x) / (p_data(x) + p_g(x)), and then
    V(D*, G) = -log 4 + 2 JSD(p_data || p_g),
which is smallest, -log 4, exactly when p_g = p_data, where D* = 1/2 everywhere.

    snaps = run_theory()          # train G briefly; at each snapshot fit D and compare with D*
    plot_theory(snaps, "theory.png")

Densities are evaluated on a grid: p_data exactly, p_g by a Gaussian kernel density estimate from
G's samples. Integrals are trapezoid sums on that grid. The fitted D is a fresh network trained
to convergence on fresh samples, and its value V(D_fit, G) is a Monte Carlo average over new
samples: it uses no density at all, so its agreement with -log 4 + 2 JSD is a real check.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np
import torch

LOG4 = math.log(4.0)
DATA_MEAN, DATA_STD = 4.0, 1.25  # seed S1's real data
_TINY = 1e-300
_trapezoid = getattr(np, "trapezoid", None) or np.trapz  # numpy 2 renamed it


# ---------------------------------------------------------------- densities and integrals


def normal_pdf(x: np.ndarray, mean: float, std: float) -> np.ndarray:
    return np.exp(-0.5 * ((x - mean) / std) ** 2) / (std * math.sqrt(2 * math.pi))


def kde(samples: np.ndarray, x: np.ndarray, bandwidth: float | None = None) -> np.ndarray:
    """Gaussian kernel density estimate of `samples` at points `x` (Silverman's rule by default)."""
    s = np.asarray(samples, dtype=np.float64).ravel()
    n = len(s)
    if bandwidth is None:
        iqr = np.subtract(*np.percentile(s, [75, 25]))
        spread = min(s.std(), iqr / 1.349) if iqr > 0 else s.std()
        bandwidth = 0.9 * max(spread, 1e-3) * n**-0.2
    out = np.zeros_like(x, dtype=np.float64)
    for chunk in np.array_split(s, max(1, n // 2000)):  # bounded memory: (grid, 2000) at a time
        out += np.exp(-0.5 * ((x[:, None] - chunk[None, :]) / bandwidth) ** 2).sum(1)
    return out / (n * bandwidth * math.sqrt(2 * math.pi))


def optimal_d(p_data: np.ndarray, p_g: np.ndarray) -> np.ndarray:
    """D*(x) = p_data / (p_data + p_g); 1/2 where both densities vanish (any value is optimal there)."""
    total = p_data + p_g
    return np.divide(p_data, total, out=np.full_like(total, 0.5), where=total > 0)


def _xlogy(p: np.ndarray, y: np.ndarray) -> np.ndarray:
    """p * log(y) with 0 * log(0) = 0."""
    return np.where(p > 0, p * np.log(np.maximum(y, _TINY)), 0.0)


def value(x: np.ndarray, p_data: np.ndarray, p_g: np.ndarray, d: np.ndarray) -> float:
    """V(D, G) = ∫ p_data log D + ∫ p_g log(1 - D), on grid x."""
    return float(_trapezoid(_xlogy(p_data, d) + _xlogy(p_g, 1.0 - d), x))


def jsd(x: np.ndarray, p: np.ndarray, q: np.ndarray) -> float:
    """Jensen-Shannon divergence (nats) of densities p, q on grid x: ½ KL(p‖m) + ½ KL(q‖m), m = (p+q)/2."""
    m = 0.5 * (p + q)
    kl_pm = _xlogy(p, p) - _xlogy(p, m)
    kl_qm = _xlogy(q, q) - _xlogy(q, m)
    return float(0.5 * _trapezoid(kl_pm + kl_qm, x))


# ---------------------------------------------------------------- a discriminator fitted to optimality


def fit_discriminator(
    sample_real, sample_fake, iters: int = 400, batch: int = 1024, seed: int = 0, hidden: int = 64
) -> torch.nn.Module:
    """A fresh D trained to (near) optimality by BCE on fresh samples each iteration; no data is
    reused, so D cannot overfit and converges towards D*. `sample_*(n)` return (n, 1) tensors.
    The input is standardised with the data's mean and std (conditioning only)."""
    gen = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    net = torch.nn.Sequential(
        torch.nn.Linear(1, hidden),
        torch.nn.ELU(),
        torch.nn.Linear(hidden, hidden),
        torch.nn.ELU(),
        torch.nn.Linear(hidden, 1),
    )
    opt = torch.optim.Adam(net.parameters(), lr=5e-3)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, iters)
    bce = torch.nn.functional.binary_cross_entropy_with_logits
    for _ in range(iters):
        real, fake = sample_real(batch, gen), sample_fake(batch, gen)
        logits = net(torch.cat([real, fake]).sub(DATA_MEAN).div(DATA_STD))
        target = torch.cat([torch.ones(batch, 1), torch.zeros(batch, 1)])
        loss = bce(logits, target)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
    net.eval()

    class Fitted(torch.nn.Module):  # D(x) as a probability, on raw x
        def forward(self, x):
            return torch.sigmoid(net(x.sub(DATA_MEAN).div(DATA_STD)))

    return Fitted()


@torch.no_grad()
def monte_carlo_value(d, real: torch.Tensor, fake: torch.Tensor) -> float:
    """V(D, G) estimated by sample means: mean log D(x) + mean log(1 - D(G(z)))."""
    eps = 1e-12
    return float(d(real).clamp_min(eps).log().mean() + (1 - d(fake)).clamp_min(eps).log().mean())


# ---------------------------------------------------------------- snapshots along training


@dataclass
class Snapshot:
    step: int
    g_mean: float
    g_std: float
    jsd: float  # JSD(p_data ‖ p_g), p_g by KDE
    v_star: float  # V(D*, G) on the grid
    bound: float  # -log 4 + 2 JSD
    v_fit: float  # V(D_fit, G), Monte Carlo
    d_gap: float  # ∫ (p_data + p_g)/2 |D_fit - D*| dx: how far the fitted D is from D*
    d_half: float  # E_{p_data} |D_fit - 1/2|: how far from the equilibrium's 1/2
    x: list  # grid, and the curves on it (for the figure)
    p_data: list
    p_g: list
    d_star: list
    d_fit: list

    def summary(self) -> dict:
        return {k: v for k, v in asdict(self).items() if not isinstance(v, list)}


def snapshot(step: int, sample_fake, seed: int = 0, n: int = 10000, fit_iters: int = 400) -> Snapshot:
    """Compare the fitted and the optimal D for the generator behind `sample_fake(n, gen)`."""
    gen = torch.Generator().manual_seed(1000 + seed)

    def sample_real(k, g):
        return DATA_MEAN + DATA_STD * torch.randn(k, 1, generator=g)

    fake = sample_fake(n, gen).double().numpy().ravel()
    lo = min(DATA_MEAN - 8 * DATA_STD, fake.min() - 1.0)
    hi = max(DATA_MEAN + 8 * DATA_STD, fake.max() + 1.0)
    x = np.linspace(lo, hi, 2001)
    p_data = normal_pdf(x, DATA_MEAN, DATA_STD)
    p_g = kde(fake, x)
    d_star = optimal_d(p_data, p_g)
    j = jsd(x, p_data, p_g)
    d_fit_net = fit_discriminator(sample_real, sample_fake, iters=fit_iters, seed=seed + step)
    with torch.no_grad():
        d_fit = d_fit_net(torch.from_numpy(x).float()[:, None]).double().numpy().ravel()
    v_fit = monte_carlo_value(d_fit_net, sample_real(n, gen), sample_fake(n, gen))
    return Snapshot(
        step=step,
        g_mean=float(fake.mean()),
        g_std=float(fake.std()),
        jsd=j,
        v_star=value(x, p_data, p_g, d_star),
        bound=-LOG4 + 2 * j,
        v_fit=v_fit,
        d_gap=float(_trapezoid(0.5 * (p_data + p_g) * np.abs(d_fit - d_star), x)),
        d_half=float(_trapezoid(p_data * np.abs(d_fit - 0.5), x)),
        x=x[::5].tolist(),
        p_data=p_data[::5].tolist(),
        p_g=p_g[::5].tolist(),
        d_star=d_star[::5].tolist(),
        d_fit=d_fit[::5].tolist(),
    )


DEFAULT_STEPS = (0, 60, 200, 600, 2000)
THEORY_OVERRIDES = [
    "model.d_group=1",  # D judges single samples: the setting the theorem is about
    "model.noise=normal",  # G only has to learn an affine map, so a short run gets close to p_data
    "model.hidden=64",
    "train.batch_size=256",
    "optim.d.lr=2e-3",
    "optim.g.lr=5e-4",
    "train.log_every=100000",
]


def run_theory(steps=DEFAULT_STEPS, seed: int = 0, fit_iters: int = 400, progress=None) -> list[Snapshot]:
    """Train the gaussian-1d GAN (single-sample D, Gaussian noise) for max(steps) G steps with both
    learning rates on a cosine decay, which lets the game settle near its equilibrium; at each of
    `steps` take a snapshot. `progress(snapshot)` is called after each."""
    from .config import load_preset
    from .training.experiment import build
    from .training.loop import Trainer
    from .training.schedule import apply_lr_scale

    total = max(steps)
    # the trainer's own cosine schedule (train.lr_schedule), decaying to 0 at the last snapshot
    schedule = ["train.epochs=0", f"train.steps={max(total, 1)}", "train.lr_schedule=cosine"]
    cfg = load_preset("gaussian-1d", THEORY_OVERRIDES + [f"seed={seed}"] + schedule)
    trainer = Trainer(build(cfg), progress=False)

    def sample_fake(k, gen):
        return trainer.generate(trainer.noise(k, gen)).float().cpu()

    snaps, wanted = [], sorted(set(steps))
    groups = trainer.schedule.groups(trainer.loader, 0, 0, 0)
    step = 0
    while True:
        if wanted and step == wanted[0]:
            snaps.append(snapshot(step, sample_fake, seed, fit_iters=fit_iters))
            wanted.pop(0)
            if progress:
                progress(snaps[-1])
        if not wanted:
            return snaps
        step, _, _, group = next(groups)
        apply_lr_scale(trainer.schedule.lr_scale(step), trainer.opt_g, trainer.opt_d)
        trainer.train_group(group)
        step += 1


def plot_theory(snaps: list[Snapshot], path) -> None:
    """Top row: per snapshot, p_data and p_g, with D* and the fitted D. Bottom: V over snapshots."""
    from .plots import pyplot, save_fig

    plt = pyplot()
    n = len(snaps)
    fig = plt.figure(figsize=(3.2 * n, 6.4))
    grid = fig.add_gridspec(2, n, height_ratios=[1, 0.9], hspace=0.35)
    for i, s in enumerate(snaps):
        ax = fig.add_subplot(grid[0, i])
        x = np.array(s.x)
        keep = (np.array(s.p_data) + np.array(s.p_g)) > 1e-4
        span = x[keep] if keep.any() else x
        ax.fill_between(x, s.p_data, color="k", alpha=0.12, label="p_data")
        ax.fill_between(x, s.p_g, color="tab:orange", alpha=0.25, label="p_g (KDE)")
        ax.set_ylim(0, max(max(s.p_data), max(s.p_g)) * 1.1)
        ax.set_xlim(span.min(), span.max())
        ax.set_yticks([])
        ax2 = ax.twinx()
        ax2.plot(x, s.d_star, "k--", lw=1.5, label="D* = p_data/(p_data+p_g)")
        ax2.plot(x, s.d_fit, "tab:blue", lw=1.2, label="fitted D")
        ax2.axhline(0.5, color="grey", lw=0.6, ls=":")
        ax2.set_ylim(-0.02, 1.02)
        ax.set_title(f"step {s.step}: JSD {s.jsd:.3f}", fontsize=9)
        if i == 0:
            h1, l1 = ax.get_legend_handles_labels()
            h2, l2 = ax2.get_legend_handles_labels()
            ax.legend(h1 + h2, l1 + l2, fontsize=7, loc="upper left")
    half = max(1, (2 * n) // 3)
    bottom = fig.add_subplot(grid[1, :half])
    steps = [s.step for s in snaps]
    xs = np.arange(n)
    bottom.plot(xs, [s.v_star for s in snaps], "o-", label="V(D*, G) (grid integral)")
    bottom.plot(xs, [s.bound for s in snaps], "x--", ms=9, label="-log 4 + 2 JSD(p_data || p_g)")
    bottom.plot(xs, [s.v_fit for s in snaps], "s:", label="V(fitted D, G) (Monte Carlo)")
    bottom.axhline(-LOG4, color="k", lw=0.8, ls=":", label="-log 4 (global minimum)")
    bottom.set_xticks(xs, [str(t) for t in steps])
    bottom.set_xlabel("generator step (snapshot)")
    bottom.set_ylabel("value")
    bottom.legend(fontsize=8)
    bottom.grid(alpha=0.3)
    gap = fig.add_subplot(grid[1, half:])  # the same values as distances above -log 4, on a log scale
    gap.semilogy(xs, [max(s.v_star + LOG4, 1e-6) for s in snaps], "o-", label="V(D*, G) + log 4")
    gap.semilogy(xs, [max(2 * s.jsd, 1e-6) for s in snaps], "x--", ms=9, label="2 JSD")
    gap.semilogy(xs, [max(s.v_fit + LOG4, 1e-6) for s in snaps], "s:", label="V(fitted D, G) + log 4")
    gap.set_xticks(xs, [str(t) for t in steps])
    gap.set_xlabel("generator step (snapshot)")
    gap.set_title("distance above -log 4", fontsize=9)
    gap.legend(fontsize=7)
    gap.grid(alpha=0.3, which="both")
    fig.suptitle("Seed S2: the optimal discriminator and the -log 4 equilibrium on N(4, 1.25)")
    save_fig(fig, path)
