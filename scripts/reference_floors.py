"""Reference floors: each image metric for real training images scored as if generated, against the
reference `gankit eval` uses, i.e. what a perfect generator scores with gankit's networks and n.

    nice python scripts/reference_floors.py --data-root ../shared/data                  # MNIST, Fashion, 28 px
    nice python scripts/reference_floors.py --data-root ../shared/data --resolution 32  # as dcgan-mnist32
    nice python scripts/reference_floors.py --folder DIR --resolution 32                # an RGB folder
    nice python scripts/reference_floors.py --make-shapes DIR --count 20000             # a synthetic one

MNIST/Fashion-MNIST: --n training images (seed 1) through the training loader (the resize to
--resolution included) vs min(--n, 10000) test images prepared the same way. An RGB folder: it is
split in halves by data.holdout = 0.5 (seed 0); the kept half, as the loader prepares it, is scored
against the held-out half (SWD and MS-SSIM; the Inception metrics too where the weights are here).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import torch

from gankit.config import load_preset
from gankit.data import load_dataset, to_unit_range
from gankit.metrics.evaluate import Evaluator, format_table


def idx_floors(name: str, root, n: int, resolution: int) -> tuple[dict, Evaluator]:
    preset = "dcgan-mnist32" if resolution == 32 else "mlp-mnist"
    cfg = load_preset(preset, [f"data.name={name}"])
    ev = Evaluator(cfg, root, n)
    train = load_dataset(cfg.data, root)
    pick = torch.randperm(len(train), generator=torch.Generator().manual_seed(1))[:n]
    return ev.evaluate(to_unit_range(train.take(pick)), ev.metrics("")), ev


def folder_floors(folder: str, n: int, resolution: int, contrast: bool = False) -> tuple[dict, Evaluator]:
    cfg = load_preset("dcgan-rgb", [f"data.root={folder}", f"data.resolution={resolution}", "data.holdout=0.5"])
    ev = Evaluator(cfg, None, n)
    train = load_dataset(cfg.data, seed=cfg.seed)
    pick = torch.randperm(len(train), generator=torch.Generator().manual_seed(1))[:n]
    real = train.take(pick)
    if cfg.data.flip:  # the loader's flips, as the reference has them
        mask = torch.rand(len(real), generator=torch.Generator().manual_seed(2)) < 0.5
        real = torch.where(mask[:, None, None, None], real.flip(-1), real)
    names = ev.metrics("")
    values = ev.evaluate(to_unit_range(real), names)
    if contrast:  # the same images made worse, for a sense of scale
        from shapes import blur

        for tag, worse in (
            ("blur1", blur(real, 1.0)),
            ("blur2", blur(real, 2.0)),
            ("copies10", real[torch.arange(len(real)) % 10]),
        ):
            values.update({f"{k}[{tag}]": v for k, v in ev.evaluate(to_unit_range(worse), names).items()})
    return values, ev


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data-root", default=None)
    p.add_argument("--n", type=int, default=10_000)
    p.add_argument("--resolution", type=int, default=0, help="0: native 28x28 (folders: 32); 32: like dcgan-mnist32")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--only", choices=("mnist", "fashion-mnist"), help="one data set only")
    p.add_argument("--folder", help="an RGB image folder instead of MNIST/Fashion-MNIST")
    p.add_argument("--make-shapes", metavar="DIR", help="write --count synthetic 40x40 RGB images into DIR and stop")
    p.add_argument("--count", type=int, default=20_000)
    p.add_argument(
        "--contrast",
        action="store_true",
        help="folders: also score the same images blurred (sigma 1 and 2 px) and 10 of them copied",
    )
    p.add_argument("--json", help="also write the values to this file")
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))  # tests/shapes.py
    if args.make_shapes:
        from shapes import write_folder

        write_folder(Path(args.make_shapes), args.count, 40)
        print(f"wrote {args.count} images to {args.make_shapes}")
        return
    out = {}
    sets = (
        [("folder", args.folder)]
        if args.folder
        else [(s, None) for s in ([args.only] if args.only else ("mnist", "fashion-mnist"))]
    )
    for name, folder in sets:
        t = time.time()
        if folder:
            values, ev = folder_floors(folder, args.n, args.resolution or 32, args.contrast)
        else:
            values, ev = idx_floors(name, args.data_root, args.n, args.resolution)
        out[name] = values
        ref = ev.reference_images()
        print(
            f"\n{folder or name}: train ({args.n}, {args.resolution or (32 if folder else 28)} px) vs "
            f"{ev.reference_split} ({len(ref)}), {time.time() - t:.0f} s:"
        )
        print(format_table(values, ev, args.n), flush=True)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(out, f, indent=1)


if __name__ == "__main__":
    main()
