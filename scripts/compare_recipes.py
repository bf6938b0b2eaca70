"""Seed preset vs modern preset, at equal images seen and at equal wall time (issue 17).

    PYTHONPATH=src GANKIT_DATA=../shared/data python scripts/compare_recipes.py \
        --pair mlp-mnist:mlp-mnist-modern --images 30000 --seeds 0,1,2
    python scripts/compare_recipes.py --images 32000 --score mlp-mnist-modern \
        --score mlp-mnist-modern,model.init=default --score mlp-mnist-modern,loss.kind=bce,loss.r1_gamma=0

For each seed: the modern preset trains `--images` images and is timed; the seed preset trains the
same number of images ("equal images"), then as many images as its own measured rate fits into the
modern run's wall time ("equal time", one more run). Each run is scored on `--n` samples (EMA
weights where the preset has them) against the held-out split with the shipped feature network:
FID and class coverage (classes of 10, and the KL of the class histogram from uniform).
Extra `--set key=value` overrides apply to both presets (e.g. device=cpu). Prints one table; with
`--grids DIR`, also saves 64 samples of each run (the same latents for every run) as DIR/*.png.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import torch

from gankit.api import make_trainer
from gankit.config import load_preset
from gankit.generation.latent import latent_draw
from gankit.metrics.evaluate import Evaluator
from gankit.plots import save_grid


def train_and_score(
    preset: str, seed: int, images: int, n: int, data_root, overrides: list[str], grid: Path | None = None
) -> dict:
    base = load_preset(preset, [f"seed={seed}", "eval.every=0", "log.tensorboard=off", "log.progress=off", *overrides])
    steps = max(1, images // base.train.batch_size)
    cfg = load_preset(
        preset,
        [
            f"seed={seed}",
            f"train.steps={steps}",
            f"train.log_every={min(steps, 100)}",
            "eval.every=0",
            "log.tensorboard=off",
            "log.progress=off",
            *overrides,
        ],
    )
    trainer = make_trainer(cfg, None, data_root, progress=False)
    start = time.perf_counter()
    trainer.fit()
    seconds = time.perf_counter() - start
    samples = torch.cat([trainer.generate(z.to(trainer.device)).cpu() for z in latent_draw(cfg, n, 12345).split(500)])
    values = Evaluator(cfg, data_root, n=n).evaluate(samples, ["fid", "classes"])
    if grid is not None:  # the first 64 of the scored samples (the same latents for every recipe)
        grid.mkdir(parents=True, exist_ok=True)
        name = "_".join([preset, *(o for o in overrides if o != "device=cpu")]).replace("=", "-")
        save_grid(samples[:64], grid / f"{name}_seed{seed}_{steps * cfg.train.batch_size}.png", nrow=8)
    return {"preset": preset, "seed": seed, "images": steps * cfg.train.batch_size, "seconds": seconds, **values}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pair", action="append", default=[], help="SEED_PRESET:MODERN_PRESET (repeatable)")
    ap.add_argument(
        "--score",
        action="append",
        default=[],
        help="PRESET[,key=value,...]: train and score this one recipe for --images (repeatable; ablations)",
    )
    ap.add_argument(
        "--images", type=int, default=30000, help="images the modern preset sees (and the seed's, equal images)"
    )
    ap.add_argument("--seeds", default="0", help="comma-separated seeds")
    ap.add_argument("--n", type=int, default=2000, help="generated samples per evaluation")
    ap.add_argument("--data-root", default=None)
    ap.add_argument("--set", dest="overrides", action="append", default=[], help="key=value for both presets")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--grids", type=Path, default=None, help="folder: save 64 samples of each run as a PNG grid")
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    seeds = [int(s) for s in args.seeds.split(",")]
    rows = []
    if not args.pair and not args.score:
        ap.error("give --pair SEED:MODERN or --score PRESET[,key=value,...]")
    for spec in args.score:
        preset, *extra = spec.split(",")
        for seed in seeds:
            r = train_and_score(
                preset, seed, args.images, args.n, args.data_root, [*args.overrides, *extra], args.grids
            )
            r["preset"] = spec[:40]
            rows.append({**r, "when": "equal images"})
            print(
                f"# {r['preset']} seed {seed}: {r['images']} images {r['seconds']:.0f}s "
                f"FID {r['fid']:.2f} classes {r['classes']} class_kl {r['class_kl']:.3f}",
                file=sys.stderr,
                flush=True,
            )
    for pair in args.pair:
        seed_preset, modern = pair.split(":")
        for seed in seeds:
            m = train_and_score(modern, seed, args.images, args.n, args.data_root, args.overrides, args.grids)
            s = train_and_score(seed_preset, seed, args.images, args.n, args.data_root, args.overrides, args.grids)
            rate = s["images"] / s["seconds"]
            t_images = int(rate * m["seconds"])
            t = train_and_score(seed_preset, seed, t_images, args.n, args.data_root, args.overrides, args.grids)
            for r, when in ((m, "equal images"), (s, "equal images"), (t, "equal time")):
                rows.append({**r, "when": when})
                print(
                    f"# {r['preset']} seed {seed} {when}: {r['images']} images {r['seconds']:.0f}s "
                    f"FID {r['fid']:.2f} classes {r['classes']} class_kl {r['class_kl']:.3f}",
                    file=sys.stderr,
                )
    print(f"{'preset':40} {'compared at':13} {'images':>7} {'seconds':>8} {'FID':>14} {'classes':>10} {'class_kl':>9}")
    for preset, when in dict.fromkeys((r["preset"], r["when"]) for r in rows):
        group = [r for r in rows if r["preset"] == preset and r["when"] == when]

        def mean_sd(key, fmt, group=group):
            vals = [float(r[key]) for r in group]
            sd = statistics.stdev(vals) if len(vals) > 1 else 0.0
            return f"{statistics.mean(vals):{fmt}} ± {sd:{fmt}}" if len(vals) > 1 else f"{vals[0]:{fmt}}"

        classes = "/".join(str(r["classes"]) for r in group)
        print(
            f"{preset:40} {when:13} {int(statistics.mean(r['images'] for r in group)):7d} "
            f"{statistics.mean(r['seconds'] for r in group):8.0f} {mean_sd('fid', '.2f'):>14} {classes:>10} "
            f"{mean_sd('class_kl', '.3f'):>9}"
        )
    print(
        f"(seeds {args.seeds}; {args.n} samples each; FID and classes with the shipped MNIST classifier's "
        "features against the test split; 'equal time' = the seed preset trained for the modern run's wall time)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
