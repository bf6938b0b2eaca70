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


def load_generator(run_path, checkpoint: str = "last", device: str = "cpu", ema: bool = True):
    """(G in eval mode on `device`, the run's Config). G carries the moving average of its
    weights when the run kept one (train.ema > 0): that is the generator samples are meant from;
    `ema=False` loads G's own weights instead (to see what the average adds).
    `run_path` may also be a file of `gankit export`: .safetensors weights or a .pt2 program."""
    suffix = Path(run_path).suffix.lower()
    if suffix in (".safetensors", ".pt2") and Path(run_path).is_file():
        if not ema:
            raise GankitError(f"{run_path} is an exported generator; G's own weights are in the run's checkpoints")
        from .export import load_exported, load_safetensors

        return load_safetensors(run_path, device) if suffix == ".safetensors" else load_exported(run_path, device)
    run = RunDir.open(run_path, need_checkpoint=False)
    if not run.checkpoint_path(checkpoint).is_file():
        raise GankitError(
            f"{run.path} has no checkpoint named '{checkpoint}' (looked for {run.checkpoint_path(checkpoint)})"
        )
    state = run.load_checkpoint(checkpoint)
    cfg = C.from_saved(state["config"])
    g, _ = build_networks(cfg.model, sample_shape(cfg.data))
    g.load_state_dict(state.get("g_ema", state["g"]) if ema else state["g"])
    return g.to(device).eval(), cfg


def draw(g, cfg: C.Config, n: int, seed: int = 0, device: str = "cpu", labels=None) -> torch.Tensor:
    """n samples from latents drawn with `seed` (the same seed gives the same samples anywhere).
    A conditional G draws the classes `labels` (default: every class in turn)."""
    return generate(g, latent_draw(cfg, n, seed), device, to_cpu=True, labels=labels)


CLASSES_FILE = "classes.json"  # class names of a conditional run, in label order


def class_names(run_path, cfg: C.Config) -> list[str]:
    """The names of a conditional run's classes: its classes.json (written at training time: an
    image folder's subfolder names), else the data set's names (MNIST digits, Fashion-MNIST's
    clothes), else the label numbers."""
    import json

    from ..data.labels import CLASS_NAMES

    k = cfg.model.num_classes
    path = Path(run_path) / CLASSES_FILE
    if path.is_file():
        try:
            names = json.loads(path.read_text(encoding="utf-8"))
            if isinstance(names, list) and len(names) == k:
                return [str(n) for n in names]
        except ValueError:
            pass
    names = CLASS_NAMES.get(cfg.data.name)
    return list(names) if names and len(names) == k else [str(i) for i in range(k)]


def parse_class(text: str, g, names: list[str]) -> list[int]:
    """--class value -> the labels it asks for: 'all' (every class), a label number, or a class name."""
    from ..errors import did_you_mean
    from ..nets import is_conditional

    if not is_conditional(g):
        raise GankitError(
            "--class needs a conditional run (trained with model.conditional = true or auto on "
            "labelled data); this generator is unconditional"
        )
    k = g.num_classes
    if text == "all":
        return list(range(k))
    if text.lstrip("-").isdigit():
        c = int(text)
        if not 0 <= c < k:
            raise GankitError(
                f"--class {c} is beyond this run's classes: it was trained on {k} "
                f"(0..{k - 1}: {', '.join(names[:10])}{', ...' if k > 10 else ''})"
            )
        return [c]
    if text in names:
        return [names.index(text)]
    raise GankitError(
        f"--class {text!r} is not one of this run's classes{did_you_mean(text, names)}; give a "
        f"number 0..{k - 1}, a name ({', '.join(names[:10])}{', ...' if k > 10 else ''}) or all"
    )


def labelled_grid(samples: torch.Tensor, per_row: int, row_names: list[str]):
    """Images in [-1, 1] as a PIL grid of `per_row` columns with each row's name written on its left."""
    from PIL import Image, ImageDraw

    from ..plots import grid_image

    grid = grid_image(samples, per_row).convert("RGB")
    side = samples.shape[-2] + 2  # make_grid's padding of 2
    draw_ = ImageDraw.Draw(Image.new("RGB", (1, 1)))
    width = 6 + max(int(draw_.textlength(name)) for name in row_names)
    out = Image.new("RGB", (grid.width + width, grid.height), "white")
    out.paste(grid, (width, 0))
    pen = ImageDraw.Draw(out)
    for i, name in enumerate(row_names):
        pen.text((3, 2 + i * side + side // 2 - 6), name, fill="black")
    return out


def write_samples(samples: torch.Tensor, cfg: C.Config, out: Path, row_names: list[str] | None = None) -> Path:
    """PNG grid (images) or plot (toy) for .png; raw array for .npy (uint8 images, float toy points).
    With `row_names` the grid has one row per name (e.g. per class), each named on its left."""
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
        if is_image and row_names:
            from ..plots import png_bytes

            atomic_write_bytes(out, png_bytes(labelled_grid(samples, len(samples) // len(row_names), row_names)))
        elif is_image:
            save_grid(samples, out)
        else:
            save_toy_plot(samples, TOY_SETS[cfg.data.name](), out, f"{cfg.name}: {len(samples)} samples")
    else:
        raise GankitError(f"--out {out}: use a .png file (grid or plot) or a .npy file (raw samples)")
    return out
