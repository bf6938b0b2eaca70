"""Pictures of a run: sample grids, toy-set plots against the true density, loss curves.
Every file is written atomically; matplotlib is imported only when a plot is drawn."""

from __future__ import annotations

import io
import math
from pathlib import Path

import torch

from .run import atomic_write_bytes


def pyplot():
    """matplotlib's pyplot on the Agg backend (files only, no display), imported on first use."""
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt


def figure_png(fig) -> bytes:
    """A figure as PNG bytes; the figure is closed."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100, bbox_inches="tight")
    pyplot().close(fig)
    return buf.getvalue()


def save_fig(fig, path: Path) -> None:
    atomic_write_bytes(Path(path), figure_png(fig))


def grid_image(images: torch.Tensor, nrow: int | None = None):
    """Images in [-1, 1] (N, C, H, W) as one PIL image, `nrow` per row (square by default)."""
    from PIL import Image
    from torchvision.utils import make_grid

    images = images.detach().float().cpu()
    nrow = nrow or max(1, int(math.ceil(math.sqrt(len(images)))))
    grid = make_grid(images, nrow=nrow, padding=2, normalize=True, value_range=(-1, 1), pad_value=1.0)
    arr = grid.mul(255).add_(0.5).clamp_(0, 255).to(torch.uint8).permute(1, 2, 0).numpy()
    return Image.fromarray(arr[:, :, 0] if arr.shape[2] == 1 else arr)


def png_bytes(img) -> bytes:
    """A PIL image as PNG bytes."""
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


def save_grid(images: torch.Tensor, path: Path, nrow: int | None = None) -> None:
    """Images in [-1, 1] (N, C, H, W) as one PNG grid file."""
    atomic_write_bytes(Path(path), png_bytes(grid_image(images, nrow)))


def save_toy_plot(samples: torch.Tensor, distribution, path: Path, title: str = "") -> None:
    """1D: histogram of samples over the true density. 2D: scatter of samples over the mixture's modes.
    Points of unknown density (distribution None, e.g. a user's own tensor): the first two coordinates."""
    plt = pyplot()
    samples = samples.detach().float().cpu()
    fig, ax = plt.subplots(figsize=(5, 4))
    if distribution is None:
        if samples.shape[1] == 1:
            ax.hist(samples[:, 0].numpy(), bins=60, density=True, alpha=0.6, label="generated")
        else:
            ax.scatter(samples[:, 0].numpy(), samples[:, 1].numpy(), s=3, alpha=0.4, label="generated")
        ax.legend(loc="upper right")
    elif samples.shape[1] == 1:
        x = samples[:, 0]
        centre, spread = float(torch.tensor(distribution.means).mean()), distribution.std
        lo = min(float(x.min()), centre - 4 * spread)
        hi = max(float(x.max()), centre + 4 * spread)
        grid = torch.linspace(lo, hi, 400)
        ax.hist(x.numpy(), bins=60, range=(lo, hi), density=True, alpha=0.6, label="generated")
        ax.plot(grid.numpy(), distribution.log_density(grid[:, None]).exp().numpy(), "k-", label="target")
        ax.set_xlabel("x")
        ax.set_ylabel("density")
        ax.legend(loc="upper right")
    else:
        means = torch.tensor(distribution.means)
        ax.scatter(samples[:, 0].numpy(), samples[:, 1].numpy(), s=3, alpha=0.4, label="generated")
        ax.scatter(means[:, 0].numpy(), means[:, 1].numpy(), s=40, c="k", marker="x", label="modes")
        reach = float(means.abs().max()) * 1.5 + 0.5
        ax.set_xlim(-reach, reach)
        ax.set_ylim(-reach, reach)
        ax.set_aspect("equal")
        ax.legend(loc="upper right")
    ax.set_title(title)
    save_fig(fig, path)


def save_loss_plot(stats: list[dict], path: Path) -> None:
    """D and G losses over steps, and D(x) / D(G(z)) below them."""
    stats = [s for s in stats if "d_loss" in s]
    if not stats:
        return
    plt = pyplot()
    steps = [s["step"] for s in stats]
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(7, 6), sharex=True)
    top.plot(steps, [s["d_loss"] for s in stats], label="D loss")
    top.plot(steps, [s["g_loss"] for s in stats], label="G loss")
    top.set_ylabel("loss")
    top.legend()
    top.grid(alpha=0.3)
    bottom.plot(steps, [s["d_real"] for s in stats], label="D(x)")
    bottom.plot(steps, [s["d_fake"] for s in stats], label="D(G(z))")
    bottom.set_xlabel("generator step")
    bottom.set_ylabel("D output")
    bottom.legend()
    bottom.grid(alpha=0.3)
    save_fig(fig, path)
