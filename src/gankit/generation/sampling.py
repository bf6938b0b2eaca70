"""Drawing from a trained generator without loading its training data."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from .. import config as C
from ..data import sample_shape, to_uint8
from ..errors import GankitError
from ..nets import build_networks
from ..run import RunDir
from .latent import generate, latent_draw


def load_generator(run_path, checkpoint: str = "last", device: str = "cpu"):
    """(G in eval mode on `device`, the run's Config). G carries the moving average of its
    weights when the run kept one (train.ema > 0): that is the generator samples are meant from."""
    run = RunDir.open(run_path, need_checkpoint=False)
    if not run.checkpoint_path(checkpoint).is_file():
        raise GankitError(f"{run.path} has no checkpoint named '{checkpoint}' (looked for "
                          f"{run.checkpoint_path(checkpoint)})")
    state = run.load_checkpoint(checkpoint)
    cfg = C.from_saved(state["config"])
    g, _ = build_networks(cfg.model, sample_shape(cfg.data))
    g.load_state_dict(state.get("g_ema", state["g"]))
    return g.to(device).eval(), cfg


def draw(g, cfg: C.Config, n: int, seed: int = 0, device: str = "cpu") -> torch.Tensor:
    """n samples from latents drawn with `seed` (the same seed gives the same samples anywhere)."""
    return generate(g, latent_draw(cfg, n, seed), device, to_cpu=True)


def write_samples(samples: torch.Tensor, cfg: C.Config, out: Path) -> Path:
    """PNG grid (images) or plot (toy) for .png; raw array for .npy (uint8 images, float toy points)."""
    from ..data.toy import TOY_SETS
    from ..plots import save_grid, save_toy_plot
    from ..run import atomic_write_bytes

    out = Path(out)
    is_image = samples.dim() == 4
    if out.suffix == ".npy":
        import io

        arr = to_uint8(samples).numpy() if is_image else samples.float().numpy()
        buf = io.BytesIO()
        np.save(buf, arr)
        atomic_write_bytes(out, buf.getvalue())
    elif out.suffix.lower() == ".png":
        if is_image:
            save_grid(samples, out)
        else:
            save_toy_plot(samples, TOY_SETS[cfg.data.name](), out, f"{cfg.name}: {len(samples)} samples")
    else:
        raise GankitError(f"--out {out}: use a .png file (grid or plot) or a .npy file (raw samples)")
    return out
