"""Run directories for the report and tool tests: fabricated ones (no training, any length) and
tiny trained ones (a real checkpoint in a few seconds)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import torch


def fake_run(
    path: Path,
    toy: bool = False,
    epochs: int = 20,
    steps_per_epoch: int = 10,
    metrics: bool = True,
    findings: bool = True,
) -> Path:
    """A run directory as training leaves it (config, stats, metrics, samples), without a checkpoint."""
    from gankit.config import load_preset, to_toml
    from gankit.data.toy import ring_2d
    from gankit.plots import save_grid, save_toy_plot
    from gankit.run import RunDir

    run = RunDir.create("fake", out=path)
    cfg = load_preset("ring-2d" if toy else "dcgan-mnist32")
    run.write_text("config.toml", to_toml(cfg))
    gen = torch.Generator().manual_seed(0)
    step = 0
    for epoch in range(epochs):
        for _ in range(steps_per_epoch):
            step += 1
            t = step / (epochs * steps_per_epoch)
            run.append_stats(
                {
                    "step": step,
                    "epoch": epoch,
                    "d_loss": 1.4 - 0.6 * t + 0.05 * math.sin(step),
                    "g_loss": 0.7 + 0.8 * t,
                    "d_real": 0.5 + 0.3 * t,
                    "d_fake": 0.5 - 0.3 * t,
                    "d_acc": 0.5 + 0.4 * t,
                    "d_grad_norm": 1 + t,
                    "g_grad_norm": 0.1 + t,
                    "images_per_s": 5000.0 + step,
                    "elapsed_s": 0.5 * step,
                    "d_loss_min": 1.2 - 0.6 * t,
                    "d_loss_max": 1.6 - 0.6 * t,
                    "diversity": 1 - 0.5 * t,
                }
            )
        if findings and epoch == epochs // 2:
            run.append_stats(
                {
                    "event": "diagnosis",
                    "change": "start",
                    "step": step,
                    "kind": "d-too-strong",
                    "start_step": step - 5,
                    "end_step": step,
                    "evidence": {"d_acc": 0.97123},
                    "message": "D accuracy above 95 % for 200 steps",
                    "remedies": ["lower optim.d.lr", "train D less often"],
                    "active": True,
                }
            )
        if toy:
            save_toy_plot(
                ring_2d().sample(500, gen) * (0.3 + t),
                ring_2d(),
                run.samples_dir / f"epoch-{epoch + 1:04d}.png",
                f"epoch {epoch + 1}",
            )
        else:
            save_grid(torch.rand(16, 1, 32, 32, generator=gen) * 2 - 1, run.samples_dir / f"epoch-{epoch + 1:04d}.png")
        if metrics:
            with open(run.path / "metrics.jsonl", "a") as f:
                f.write(json.dumps({"step": step, "metric": "fid", "value": 100 / (epoch + 1)}) + "\n")
                f.write(json.dumps({"step": step, "metric": "precision", "value": 0.1 * epoch / epochs + 0.5}) + "\n")
    return run.path


def trained_run(path: Path, image_root: Path | None = None, steps: int = 3) -> Path:
    """A real, tiny run with a checkpoint: ring-2d, or 16x16 RGB images from `image_root` with MLPs."""
    from gankit.api import make_trainer
    from gankit.config import load_preset, to_toml
    from gankit.run import RunDir

    sets = [f"train.steps={steps}", "train.log_every=1", "device=cpu"]
    if image_root is None:
        cfg = load_preset("ring-2d", sets + ["data.size=1024", "train.sample_grid=200"])
    else:
        cfg = load_preset(
            "ring-2d",
            sets
            + [
                "data.name=folder",
                f"data.root={json.dumps(str(image_root))}",
                "data.resolution=16",
                "data.size=0",
                "name=tiny-folder",
                "description='16x16 RGB images, MLP networks (a test run)'",
                "model.latent_dim=8",
                "model.hidden=32",
                "train.batch_size=8",
                "train.sample_grid=16",
            ],
        )
    run = RunDir.create(cfg.name, out=path)
    run.write_text("config.toml", to_toml(cfg))
    make_trainer(cfg, run, progress=False).fit()
    return run.path


def image_folder(path: Path, n: int = 16, seed: int = 0) -> Path:
    """n random 20x20 RGB PNGs."""
    from PIL import Image

    path.mkdir(parents=True, exist_ok=True)
    gen = torch.Generator().manual_seed(seed)
    for i in range(n):
        Image.fromarray((torch.rand(20, 20, 3, generator=gen) * 255).to(torch.uint8).numpy()).save(path / f"{i}.png")
    return path


_SHARED: dict[str, Path] = {}


def shared_run(tmp_path_factory, kind: str) -> Path:
    """One tiny trained run per kind ("toy" or "image") for the whole test session; tests only read it."""
    if kind not in _SHARED:
        root = tmp_path_factory.mktemp(f"shared-{kind}")
        images = image_folder(root / "images") if kind == "image" else None
        _SHARED[kind] = trained_run(root / "run", image_root=images, steps=2)
    return _SHARED[kind]
