"""gankit's training step against a conventional PyTorch loop, in one process, same networks,
batch, objective and device.

The conventional loop is written here in the style of the seeds' own code: a map-style dataset
that turns each stored image into a PIL image and runs per-sample transforms (Resize, ToTensor,
Normalize), a DataLoader (shuffle, default collate, num_workers=0 as in the seeds), label tensors
built every step, D not frozen during G's update, and a `.item()` of both losses every step.

    python benchmarks/bench_vs_conventional.py dcgan-mnist32 --batch 64 --steps 20 --device cpu
    python benchmarks/bench_vs_conventional.py dcgan-mnist32 --sweep --device cuda   # batch 64/256/1024
    python benchmarks/bench_vs_conventional.py dcgan-rgb --set data.root=IMAGES --set data.resolution=64

For an image folder the conventional loop decodes each file per item (the ImageFolder way:
PIL open, Resize, CenterCrop, flip, ToTensor, Normalize), gankit decodes the folder once.

Counted images are real images read, as `gankit bench` counts them. Needs the MNIST IDX files
(--data-root, $GANKIT_DATA or ~/.cache/gankit).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import torch
from PIL import Image
from torch.utils.data import DataLoader
from torchvision import transforms

from gankit.api import make_trainer
from gankit.config import load_preset
from gankit.data.folder import find_images
from gankit.data.idx import load_idx_images
from gankit.losses import make_objective
from gankit.nets import build_networks
from gankit.training.experiment import resolve_device
from gankit.training.timing import synchronize, time_trainer


class PILImages(torch.utils.data.Dataset):
    """The torchvision MNIST way: one PIL image per __getitem__, then the transforms."""

    def __init__(self, images: torch.Tensor, labels: torch.Tensor, transform):
        self.images, self.labels, self.transform = images.squeeze(1).numpy(), labels, transform

    def __len__(self):
        return len(self.images)

    def __getitem__(self, i):
        img = Image.fromarray(self.images[i], mode="L")
        return self.transform(img), int(self.labels[i])


class ImageFiles(torch.utils.data.Dataset):
    """The torchvision ImageFolder way: open and decode one file per __getitem__, then the transforms."""

    def __init__(self, paths, transform):
        self.paths, self.transform = paths, transform

    def __len__(self):
        return len(self.paths)

    def __getitem__(self, i):
        with Image.open(self.paths[i]) as img:
            return self.transform(img.convert("RGB")), 0


def conventional_dataset(cfg, data_root):
    r = cfg.data.resolution
    if cfg.data.name == "folder":
        tfs = (
            [transforms.Resize(r), transforms.CenterCrop(r)]
            + ([transforms.RandomHorizontalFlip()] if cfg.data.flip else [])
            + [transforms.ToTensor(), transforms.Normalize([0.5] * 3, [0.5] * 3)]
        )
        return ImageFiles(find_images(Path(cfg.data.root)), transforms.Compose(tfs))
    images, labels = load_idx_images(cfg.data.name, data_root, "train", download=False)
    tfs = ([transforms.Resize(r)] if r else []) + [transforms.ToTensor(), transforms.Normalize([0.5], [0.5])]
    return PILImages(images, labels, transforms.Compose(tfs))


def conventional(cfg, data_root, device, workers: int):
    """A function run(steps, warmup) -> images/s of the conventional loop (images read by timed steps / time)."""
    loader = DataLoader(
        conventional_dataset(cfg, data_root),
        batch_size=cfg.train.batch_size,
        shuffle=True,
        drop_last=True,
        num_workers=workers,
        pin_memory=device.type == "cuda",
    )
    channels = 3 if cfg.data.name == "folder" else 1
    torch.manual_seed(cfg.seed)
    G, D = build_networks(cfg.model, (channels, cfg.data.resolution or 28, cfg.data.resolution or 28))
    G, D = G.to(device), D.to(device)
    o = cfg.optim
    opt_g = torch.optim.Adam(G.parameters(), lr=o.g.lr, betas=(o.g.beta1, o.g.beta2))
    opt_d = torch.optim.Adam(D.parameters(), lr=o.d.lr, betas=(o.d.beta1, o.d.beta2))
    obj = make_objective(cfg.loss)
    latent = cfg.model.latent_dim

    def d_update(real, fake):
        opt_d.zero_grad()
        loss = obj.d_loss(D(real), D(fake))
        loss.backward()
        opt_d.step()
        return loss

    def g_update(fake):
        opt_g.zero_grad()
        loss = obj.g_loss(D(fake))  # D's weights get gradients too (the seeds do not freeze D)
        loss.backward()
        opt_g.step()
        return loss

    def step(real):
        real = real.to(device)
        z = torch.randn(real.shape[0], latent, device=device)
        fake = G(z)
        if cfg.train.order == "g-first":
            g_loss = g_update(fake)
            d_loss = d_update(real, fake.detach())
        else:
            d_loss = d_update(real, fake.detach())
            g_loss = g_update(fake)
        return d_loss.item(), g_loss.item()  # the per-step host read of the seeds' logging

    if cfg.train.d_steps != 1:
        raise SystemExit("the conventional loop here does one D step per G step; pick a preset with train.d_steps = 1")

    def run(steps: int, warmup: int) -> float:
        done, n_images, start = 0, 0, time.perf_counter()
        while done < warmup + steps:
            for real, _ in loader:
                if done == warmup:
                    synchronize(device)
                    start = time.perf_counter()
                step(real)
                done += 1
                if done > warmup:
                    n_images += real.shape[0]
                if done == warmup + steps:
                    break
        synchronize(device)
        return n_images / (time.perf_counter() - start)

    return run


def compare(cfg, data_root, device, steps: int, warmup: int, rounds: int, workers: int):
    """Best images/s of each over `rounds` alternating measurements: on a shared machine the best
    round is the one least disturbed by other processes, and alternating exposes both to the same load."""
    conv = conventional(cfg, data_root, device, workers)
    trainer = make_trainer(cfg, run=None, data_root=data_root, progress=False)
    c, g = [], []
    for r in range(rounds):
        c.append(conv(steps, warmup if r == 0 else 1))
        g.append(time_trainer(trainer, steps, warmup if r == 0 else 1).images_per_s)
    return max(c), max(g), trainer.speed.describe()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("preset", nargs="?", default="dcgan-mnist32")
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--sweep", action="store_true", help="batch 64, 256 and 1024")
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--rounds", type=int, default=3, help="alternating measurements of each; the best is kept")
    ap.add_argument("--device", default="auto")
    ap.add_argument(
        "--workers",
        type=int,
        default=0,
        help="DataLoader workers of the conventional loop (default 0, as in the seeds)",
    )
    ap.add_argument("--data-root")
    ap.add_argument("--set", dest="overrides", action="append", default=[], help="gankit config KEY=VALUE")
    args = ap.parse_args()
    device = resolve_device(args.device)
    print(f"device {device}, {torch.get_num_threads()} CPU thread(s), torch {torch.__version__}")
    print(
        f"{'preset':<16} {'device':<6} {'batch':>5} {'conventional img/s':>19} {'gankit img/s':>13} {'ratio':>6}  gankit settings"
    )
    for batch in (64, 256, 1024) if args.sweep else (args.batch,):
        cfg = load_preset(args.preset, [f"train.batch_size={batch}", f"device={device}", *args.overrides])
        conv, ours, settings = compare(cfg, args.data_root, device, args.steps, args.warmup, args.rounds, args.workers)
        print(
            f"{args.preset:<16} {device.type:<6} {batch:>5} {conv:>19,.0f} {ours:>13,.0f} {ours / conv:>5.2f}x  {settings}",
            flush=True,
        )


if __name__ == "__main__":
    main()
