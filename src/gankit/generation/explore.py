"""Walking a generator's latent space: truncated draws, interpolations, animations.

    z = latent_draw(cfg, 16, seed=0, truncation=1.5)          # |z_i| <= 1.5 by resampling
    zs = interpolation(cfg, z[:1], z[1:2], steps=10)          # slerp for N(0, I), lerp for uniform
    write_interpolation(g, cfg, rows=6, steps=10, seed=0, out="walk.png")   # + walk.gif

Why spherical for Gaussian latents: N(0, I) vectors in d dimensions lie near the sphere of radius
sqrt(d); a straight line between two of them passes through the low-norm middle, which G has
hardly ever seen. Uniform latents fill a cube, where straight lines stay in the training region.
"""

from __future__ import annotations

import io
from pathlib import Path

import torch

from .. import config as C
from ..errors import GankitError
from ..nets import balanced_labels, is_conditional
from ..plots import grid_image, png_bytes, pyplot
from ..run import atomic_write_bytes
from .latent import generate, latent_draw


def slerp(a: torch.Tensor, b: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """Spherical interpolation per row: a (N, D), b (N, D), t (T,) -> (N, T, D). Norms are
    interpolated linearly, directions along the great circle; (anti)parallel rows fall back to lerp."""
    t = t.view(1, -1, 1)
    na, nb = a.norm(dim=1, keepdim=True), b.norm(dim=1, keepdim=True)
    ua, ub = a / na.clamp_min(1e-12), b / nb.clamp_min(1e-12)
    omega = torch.arccos((ua * ub).sum(1, keepdim=True).clamp(-1, 1)).unsqueeze(1)  # (N, 1, 1)
    so = torch.sin(omega)
    safe = so.abs() > 1e-6
    so = torch.where(safe, so, torch.ones_like(so))
    direction = torch.where(
        safe,
        (torch.sin((1 - t) * omega) * ua.unsqueeze(1) + torch.sin(t * omega) * ub.unsqueeze(1)) / so,
        (1 - t) * ua.unsqueeze(1) + t * ub.unsqueeze(1),
    )
    norm = (1 - t) * na.unsqueeze(1) + t * nb.unsqueeze(1)
    return direction * norm


def lerp(a: torch.Tensor, b: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    t = t.view(1, -1, 1)
    return (1 - t) * a.unsqueeze(1) + t * b.unsqueeze(1)


def interpolation(cfg: C.Config, a: torch.Tensor, b: torch.Tensor, steps: int) -> torch.Tensor:
    """(N, steps, D) latents from a to b: spherical for Gaussian latents, linear for uniform ones."""
    if steps < 2:
        raise GankitError(f"--steps must be at least 2 (got {steps})")
    t = torch.linspace(0, 1, steps)
    return (lerp if cfg.model.noise == "uniform" else slerp)(a, b, t)


def _gif_bytes(frames: list, duration_ms: int) -> bytes:
    """Frames (PIL images) as a looping GIF that plays forward, then back."""
    loop = frames + frames[-2:0:-1]
    buf = io.BytesIO()
    loop[0].save(buf, format="GIF", save_all=True, append_images=loop[1:], duration=duration_ms, loop=0)
    return buf.getvalue()


def _grid_image(images: torch.Tensor, nrow: int):
    from PIL import Image

    img = grid_image(images, nrow)
    if img.width < 256:  # small images (28x28) are hard to see: enlarge without smoothing
        scale = -(-256 // img.width)
        img = img.resize((img.width * scale, img.height * scale), Image.NEAREST)
    return img


def _toy_frames(points: torch.Tensor, cfg: C.Config, title: str) -> tuple[bytes, list]:
    """Toy sets: the paths G traces in data space (PNG), and frames of the points moving along them."""
    from PIL import Image

    plt = pyplot()

    from ..data.toy import TOY_SETS

    dist = TOY_SETS[cfg.data.name]()
    means = torch.tensor(dist.means, dtype=torch.float32)
    rows, steps, dim = points.shape
    if dim == 1:  # 1D: plot each path against its step
        points = torch.cat([torch.linspace(0, 1, steps).view(1, -1, 1).expand(rows, -1, -1), points], dim=2)

    def draw(upto: int | None):
        fig, ax = plt.subplots(figsize=(4.5, 4.5))
        if dim == 2:
            ax.scatter(means[:, 0], means[:, 1], s=40, c="k", marker="x", label="modes")
        for i in range(rows):
            path = points[i]
            ax.plot(path[:, 0], path[:, 1], "-", alpha=0.35 if upto is not None else 0.9, lw=1.5, color=f"C{i % 10}")
            if upto is not None:
                ax.plot(path[upto, 0], path[upto, 1], "o", color=f"C{i % 10}", ms=7)
        shown = torch.cat([points.reshape(-1, 2), means]) if dim == 2 else points.reshape(-1, 2)
        lo, hi = shown.min(0).values, shown.max(0).values
        pad = (hi - lo) * 0.1 + 0.1
        ax.set_xlim(float(lo[0] - pad[0]), float(hi[0] + pad[0]))
        ax.set_ylim(float(lo[1] - pad[1]), float(hi[1] + pad[1]))
        ax.set_xlabel("interpolation t" if dim == 1 else "x1")
        ax.set_ylabel("G(z)" if dim == 1 else "x2")
        ax.set_title(title)
        fig.tight_layout()
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=80)
        plt.close(fig)
        return buf.getvalue()

    still = draw(None)
    frames = [Image.open(io.BytesIO(draw(k))).convert("P", palette=Image.ADAPTIVE) for k in range(steps)]
    return still, frames


def write_interpolation(
    g,
    cfg: C.Config,
    rows: int,
    steps: int,
    seed: int,
    out,
    truncation: float | None = None,
    device: str = "cpu",
    duration_ms: int = 120,
    row_labels=None,
) -> tuple[Path, Path]:
    """A grid (one row per pair of random endpoints, `steps` columns) at `out` (.png) and an
    animation of the same walk at out.gif. Returns both paths. A conditional G walks within one
    class per row: `row_labels` (default: row i walks class i mod k)."""
    out = Path(out)
    if out.suffix.lower() != ".png":
        raise GankitError(f"--out {out}: the interpolation grid is a .png (the animation goes next to it as .gif)")
    if rows < 1:
        raise GankitError(f"--n must be at least 1 (got {rows})")
    ends = latent_draw(cfg, 2 * rows, seed, truncation)
    z = interpolation(cfg, ends[:rows], ends[rows:], steps)  # (rows, steps, D)
    labels = None
    if is_conditional(g):  # the label is held fixed along each walk
        per_row = balanced_labels(rows, g.num_classes) if row_labels is None else torch.as_tensor(row_labels)
        labels = per_row.repeat_interleave(steps)
    samples = generate(g, z.reshape(rows * steps, -1), device, to_cpu=True, labels=labels)
    gif = out.with_suffix(".gif")
    if samples.dim() == 4:
        atomic_write_bytes(out, png_bytes(_grid_image(samples, nrow=steps)))
        per_step = samples.view(rows, steps, *samples.shape[1:]).transpose(0, 1)  # (steps, rows, C, H, W)
        frames = [_grid_image(per_step[k], nrow=rows) for k in range(steps)]
    else:
        still, frames = _toy_frames(samples.view(rows, steps, -1), cfg, f"{cfg.name}: latent walks")
        atomic_write_bytes(out, still)
    atomic_write_bytes(gif, _gif_bytes(frames, duration_ms))
    return out, gif
