"""Reference floors: each image metric for real training images against the held-out test split,
i.e. what a perfect generator would score with gankit's feature networks and sample counts.

    nice python scripts/reference_floors.py --data-root ../shared/data
    nice python scripts/reference_floors.py --data-root ../shared/data --resolution 32   # via 32x32

The training images are a random subset of --n (seed 0), the reference is what `gankit eval`
uses: min(--n, 10000) test images from its fixed permutation.
"""

from __future__ import annotations

import argparse
import json

import torch

from gankit.config import load_preset
from gankit.data import resize_images, to_unit_range
from gankit.data.idx import load_idx_images
from gankit.metrics.evaluate import Evaluator, format_table


def floors(name: str, root, n: int, resolution: int) -> tuple[dict, str]:
    preset = "dcgan-mnist32" if resolution == 32 else "mlp-mnist"
    cfg = load_preset(preset, [f"data.name={name}"])
    ev = Evaluator(cfg, root, n)
    images, _ = load_idx_images(name, root, "train", download=False)
    pick = torch.randperm(len(images), generator=torch.Generator().manual_seed(0))[:n]
    samples = images[pick]
    if resolution:
        samples = resize_images(samples, resolution)  # what a 32x32 generator's data look like
    return ev.evaluate(to_unit_range(samples), ""), ev.feature_net


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data-root", default=None)
    p.add_argument("--n", type=int, default=10_000)
    p.add_argument("--resolution", type=int, default=0, help="0: native 28x28; 32: resized like dcgan-mnist32")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--only", choices=("mnist", "fashion-mnist"), help="one data set only")
    p.add_argument("--json", help="also write the values to this file")
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    out = {}
    for name in [args.only] if args.only else ("mnist", "fashion-mnist"):
        values, net = floors(name, args.data_root, args.n, args.resolution)
        out[name] = values
        print(f"\n{name} train ({args.n}, {args.resolution or 28}px) vs test:")
        print(format_table(values, net, args.n), flush=True)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(out, f, indent=1)


if __name__ == "__main__":
    main()
