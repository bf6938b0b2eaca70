"""Augmentation on a small image folder: rgb-small with and without its DiffAugment (issue 17).

    PYTHONPATH=src python scripts/small_data_augmentation.py --data-root ../shared/data --seeds 0 1 2
    python scripts/small_data_augmentation.py --images 1000 --resolution 64 --steps 1500 --seeds 0
    python scripts/small_data_augmentation.py --preset dcgan-rgb --images 300 --steps 600

Builds a folder of `--images` Fashion-MNIST training images as RGB PNGs and a held-out folder of as
many test images, then trains `--preset` (rgb-small by default; any folder preset) on the first
once per seed and `--variants` entry: `diffaugment` (DiffAugment's colour, translation and cutout
on every image D sees, as rgb-small ships); `plain`, with augmentation off (everything else the
same); `ada`, the same ops with ADA's adaptive p (from 0, toward r_t = 0.6).
Each run has the live diagnosis with the held-out folder (`diagnosis.holdout`), so the
overfitting rule can compare D's outputs on training and held-out images. At the end the EMA
generator draws `--n` samples from fixed noise, scored against the held-out folder:
- SWD (x 1e3, the folder metric that needs no downloaded weights), against the held-out images;
- FID on the shipped Fashion-MNIST classifier's features (samples made grey), against the test split.
Prints one Markdown row per run and the means; `--out` also saves each run's sample grid.
`--score-every K` also scores the run every K steps on the way (one row per point: when do the
augmented and plain runs cross?).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch
from diagnosis_table import fashion_png_folder  # the script beside this one

from gankit.callbacks.diagnosis import DiagnosisCallback
from gankit.config import load_preset
from gankit.diagnosis.rules import Context
from gankit.metrics.evaluate import Evaluator
from gankit.plots import save_grid
from gankit.training.callbacks import Callback
from gankit.training.experiment import build
from gankit.training.loop import Trainer

POLICY = "color,translation,cutout"  # rgb-small's
VARIANTS = {  # --variants key -> (row name, overrides of the preset)
    # DiffAugment as its paper runs it (and rgb-small ships it): every op on every image, whatever D's state
    "diffaugment": ("DiffAugment, p fixed at 1", [f"augment.policy={POLICY}", "augment.ada_target=0", "augment.p=1"]),
    "plain": ("no augmentation", ["augment.policy=", "augment.ada_target=0"]),
    "ada": ("ADA, p from 0 toward r_t 0.6", [f"augment.policy={POLICY}", "augment.p=0", "augment.ada_target=0.6"]),
}


class Scorer:
    """SWD against the held-out folder and FID on the Fashion-MNIST classifier's features, for
    `n` samples from fixed noise."""

    def __init__(self, args, held_dir: str):
        self.n = args.n
        held_cfg = load_preset(
            args.preset, [f"data.root={held_dir}", f"data.resolution={args.resolution}", "data.flip=false"]
        )
        grey_cfg = load_preset("dcgan-mnist32", ["data.name=fashion-mnist", f"data.resolution={args.resolution}"])
        self.swd = Evaluator(held_cfg, args.data_root, n=args.n)
        self.fid = Evaluator(grey_cfg, args.data_root, n=args.n)

    @torch.no_grad()
    def __call__(self, trainer) -> tuple[float, float, torch.Tensor]:
        samples = trainer.generate(trainer.noise(self.n, torch.Generator().manual_seed(12345))).cpu()
        swd = self.swd.evaluate(samples, ["swd"])["swd"]
        fid = self.fid.evaluate(samples.mean(1, keepdim=True), ["fid"])["fid"]
        return swd, fid, samples


class ScoreOnTheWay(Callback):
    """Scores the run every `every` steps (at the log that reaches it), with D's overfitting ratio
    r_v from that log; training is unchanged, since the samples come from a noise generator of
    their own."""

    def __init__(self, scorer: Scorer, every: int):
        self.scorer, self.every, self.points = scorer, every, []

    def on_log(self, trainer, record: dict) -> None:
        step = trainer.pos.step
        if step % self.every == 0 and step < trainer.total_steps:
            swd, fid, _ = self.scorer(trainer)
            self.points.append((step, swd, fid, record.get("overfit_rv"), record.get("overfit_rv_raw")))
            # at once on stderr too (the table comes at the end of the run): an interrupted run keeps these
            print(
                f"step {step}: SWD {swd:.1f}, FID {fid:.2f}, r_v {record.get('overfit_rv')}",
                file=sys.stderr,
                flush=True,
            )


def run(seed: int, variant: list[str], args, train_dir: str, held_dir: str, scorer: Scorer) -> dict:
    cfg = load_preset(
        args.preset,
        [
            f"seed={seed}",
            f"data.root={train_dir}",
            f"data.resolution={args.resolution}",
            f"diagnosis.holdout={held_dir}",
            "train.epochs=100000",  # --steps decides: the presets' epochs of a 300-image folder end sooner
            f"train.steps={args.steps}",
            f"train.log_every={args.log_every}",
            "eval.every=0",
            "log.tensorboard=off",
            "log.progress=off",
            "data.flip=false",  # flips are augmentation too: off in both, so the two runs differ by D's only
            "device=cpu",
            *variant,
            *args.overrides,  # after the variant's: --set augment.policy=translation changes diffaugment's ops
        ],
    )
    cb = DiagnosisCallback(Context.from_config(cfg), verbose=False, data_root=args.data_root)
    on_the_way = ScoreOnTheWay(scorer, args.score_every)
    callbacks = [cb, on_the_way] if args.score_every else [cb]
    trainer = Trainer(build(cfg, args.data_root), None, callbacks, progress=False)
    start = time.perf_counter()
    trainer.fit()
    seconds = time.perf_counter() - start
    swd, fid, samples = scorer(trainer)
    overfit = [f for f in cb.findings() if f.kind == "overfitting_d"]
    return {
        "seconds": seconds,
        "swd": swd,
        "fid": fid,
        "overfit_at": cb.detected.get("overfitting_d"),
        "overfit_active": bool(overfit and overfit[-1].active),
        "findings": sorted(cb.detected),
        "p": float(trainer.exp.augment.p) if trainer.exp.augment.enabled else 0.0,
        "samples": samples[:64],
        "points": on_the_way.points,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--preset", default="rgb-small", help="a folder preset (rgb-small, dcgan-rgb)")
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--images", type=int, default=1000, help="training images (and as many held out)")
    ap.add_argument("--resolution", type=int, default=32)
    ap.add_argument("--steps", type=int, default=600, help="generator steps per run")
    ap.add_argument("--log-every", type=int, default=40)
    ap.add_argument("--n", type=int, default=1000, help="samples scored per run")
    ap.add_argument("--data-root", default=None)
    ap.add_argument("--out", default="", help="folder for each run's sample grid (PNG)")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument(
        "--score-every", type=int, default=0, help="also score every K steps on the way (0: at the end only)"
    )
    ap.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        help="key=value for every run (applied after the variant's)",
    )
    ap.add_argument(
        "--variants", nargs="+", choices=list(VARIANTS), default=["diffaugment", "plain"], help="which runs per seed"
    )
    args = ap.parse_args()
    if args.score_every < 0 or args.score_every % args.log_every:  # scored at logs: others would never come
        ap.error(f"--score-every must be a multiple of --log-every ({args.log_every}), or 0; got {args.score_every}")
    torch.set_num_threads(args.threads)
    work = Path(tempfile.mkdtemp(prefix="gankit-small-"))
    train_dir = fashion_png_folder(args.data_root, "train", args.images, work / "train")
    held_dir = fashion_png_folder(args.data_root, "test", args.images, work / "test")
    scorer = Scorer(args, held_dir)
    print(
        f"{args.preset} at {args.resolution} px on {args.images} Fashion-MNIST images (RGB), {args.steps} steps, "
        f"{args.n} samples scored against {args.images} held-out images\n"
    )
    print("| variant | seed | SWD x1e3 | FID (classifier) | overfitting_d | other findings | final p | seconds |")
    print("|---|---|---|---|---|---|---|---|")
    chosen = {VARIANTS[k][0]: (k, VARIANTS[k][1]) for k in args.variants}
    rows = {name: [] for name in chosen}
    for seed in args.seeds:
        for name, (key, variant) in chosen.items():
            r = run(seed, variant, args, train_dir, held_dir, scorer)
            for step, swd, fid, rv, raw in r["points"]:
                at = "" if rv is None else f"r_v {rv:.2f}" + ("" if raw is None else f" (un-augmented {raw:.2f})")
                print(f"| {name} | {seed} (step {step}) | {swd:.1f} | {fid:.2f} | {at} | | | |", flush=True)
            rows[name].append(r)
            if args.out:
                Path(args.out).mkdir(parents=True, exist_ok=True)
                save_grid(r["samples"], Path(args.out) / f"seed{seed}-{key}.png", nrow=8)
            over = f"from step {r['overfit_at']}" if r["overfit_at"] is not None else "no"
            if r["overfit_at"] is not None and not r["overfit_active"]:
                over += " (cleared)"
            others = ", ".join(k for k in r["findings"] if k != "overfitting_d") or "-"
            print(
                f"| {name} | {seed} | {r['swd']:.1f} | {r['fid']:.2f} | {over} | {others} | {r['p']:.2f} "
                f"| {r['seconds']:.0f} |",
                flush=True,
            )
    print()
    for name, group in rows.items():

        def stat(key, group=group):
            vals = [r[key] for r in group]
            return f"{statistics.mean(vals):.2f}" + (f" ± {statistics.stdev(vals):.2f}" if len(vals) > 1 else "")

        flagged = sum(r["overfit_at"] is not None for r in group)
        print(f"{name}: SWD {stat('swd')}, FID {stat('fid')}, overfitting_d in {flagged}/{len(group)} runs")


if __name__ == "__main__":
    main()
