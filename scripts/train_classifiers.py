"""Train the feature networks that gankit ships for MNIST and Fashion-MNIST (reproducible: fixed seed).

    nice python scripts/train_classifiers.py --data-root ../shared/data            # both
    nice python scripts/train_classifiers.py --data-root ../shared/data --only mnist

Trains gankit.metrics.classifier.SmallCNN on the IDX train split, reports the test accuracy and
saves an fp16 state dict to src/gankit/weights/classifier-<name>.pt (about 0.3 MB each).
"""

from __future__ import annotations

import argparse
import io
import time

import torch
import torch.nn.functional as F

from gankit.data import to_unit_range
from gankit.data.idx import load_idx_images
from gankit.metrics.classifier import CLASSIFIER_SETS, SmallCNN, weights_path
from gankit.run import atomic_write_bytes

EPOCHS = {"mnist": 4, "fashion-mnist": 8}
SHIFT = {"mnist": 2, "fashion-mnist": 0}  # pixels of random translation (Fashion-MNIST: flips only)


def shift(x: torch.Tensor, gen: torch.Generator, pad: int = 2) -> torch.Tensor:
    """Random translations by up to `pad` pixels, one per image (cheap augmentation)."""
    n, _, h, w = x.shape
    padded = F.pad(x, (pad, pad, pad, pad), value=-1.0)
    dy = torch.randint(0, 2 * pad + 1, (n,), generator=gen)
    dx = torch.randint(0, 2 * pad + 1, (n,), generator=gen)
    rows = (dy[:, None] + torch.arange(h)[None])[:, None, :, None].expand(n, 1, h, w + 2 * pad)
    out = padded.gather(2, rows)
    cols = (dx[:, None] + torch.arange(w)[None])[:, None, None, :].expand(n, 1, h, w)
    return out.gather(3, cols)


@torch.no_grad()
def accuracy(net, images, labels, batch: int = 1000) -> float:
    net.eval()
    correct = sum(
        (net(to_unit_range(images[i : i + batch])).argmax(1) == labels[i : i + batch]).sum().item()
        for i in range(0, len(images), batch)
    )
    return correct / len(images)


def train(name: str, root, seed: int = 0, batch: int = 256) -> float:
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    x_train, y_train = load_idx_images(name, root, "train", download=False)
    x_test, y_test = load_idx_images(name, root, "test", download=False)
    net = SmallCNN()
    epochs = EPOCHS[name]
    steps = epochs * (len(x_train) // batch)
    opt = torch.optim.AdamW(net.parameters(), lr=3e-3, weight_decay=5e-4)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=3e-3, total_steps=steps, pct_start=0.2)
    started = time.time()
    for epoch in range(epochs):
        net.train()
        perm = torch.randperm(len(x_train), generator=gen)
        for i in range(len(x_train) // batch):
            idx = perm[i * batch : (i + 1) * batch]
            x = to_unit_range(x_train[idx])
            if SHIFT[name]:
                x = shift(x, gen, SHIFT[name])
            if name == "fashion-mnist":  # clothes are left-right symmetric; digits are not
                flip = torch.rand(len(x), generator=gen) < 0.5
                x = torch.where(flip[:, None, None, None], x.flip(-1), x)
            loss = F.cross_entropy(net(x), y_train[idx], label_smoothing=0.05)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            if i % 50 == 0:
                print(
                    f"  {name} epoch {epoch + 1} batch {i}: loss {loss.item():.4f} ({time.time() - started:.0f} s)",
                    flush=True,
                )
        acc = accuracy(net, x_test, y_test)
        print(
            f"{name} epoch {epoch + 1}/{epochs}: loss {loss.item():.4f}, test accuracy {acc:.4%} "
            f"({time.time() - started:.0f} s)",
            flush=True,
        )
    buf = io.BytesIO()
    torch.save({k: v.half() if v.is_floating_point() else v for k, v in net.state_dict().items()}, buf)
    atomic_write_bytes(weights_path(name), buf.getvalue())
    print(f"saved {weights_path(name)} ({len(buf.getvalue()) / 1e3:.0f} kB)", flush=True)
    return acc


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data-root", default=None, help="folder holding mnist/ and fashion-mnist/")
    p.add_argument("--only", choices=CLASSIFIER_SETS, help="train one classifier only")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=2)
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    for name in [args.only] if args.only else CLASSIFIER_SETS:
        train(name, args.data_root, args.seed)


if __name__ == "__main__":
    main()
