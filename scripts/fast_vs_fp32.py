"""Does the fast path lose quality? Train one preset with the `auto` speed settings and with every
speed setting off (plain fp32), from the same seeds and for the same epochs, then score both.

    python scripts/fast_vs_fp32.py dcgan-mnist32 --epochs 1 --seeds 0 1 --out /tmp/fast_vs_fp32

The fp32 runs of different seeds give the run-to-run noise that the fast-vs-fp32 gap is judged
against. Prints one row per run (settings, images/s, wall time, FID, classes covered) and the gaps.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from gankit.cli import main as gankit

FP32 = ["speed.amp=off", "speed.channels_last=off", "speed.compile=off", "speed.fused_adam=off"]


def train_and_score(preset: str, out: Path, seed: int, epochs: int, extra: list[str], n: int) -> dict:
    overrides = [f"seed={seed}", f"train.epochs={epochs}", "eval.every=0", "log.progress=plain", *extra]
    start = time.perf_counter()
    gankit(["train", preset, "--out", str(out), *[a for o in overrides for a in ("--set", o)]])
    seconds = time.perf_counter() - start
    gankit(["eval", str(out), "--metrics", "fid,pr,classes", "--n", str(n)])
    return {**read_scores(out), "seconds": seconds}


def read_scores(out: Path) -> dict:
    """The last `gankit eval` values and the mean logged images/s of the run in `out`."""
    scores = {"seconds": float("nan")}
    for line in (out / "metrics.jsonl").read_text().splitlines():
        rec = json.loads(line)
        if rec.get("source") == "eval":
            scores[rec["metric"]] = rec["value"]
    rates = [json.loads(line).get("images_per_s") for line in (out / "stats.jsonl").read_text().splitlines()]
    rates = [r for r in rates if r]
    return {"images_per_s": sum(rates) / max(len(rates), 1), **scores}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("preset", nargs="?", default="dcgan-mnist32")
    ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    ap.add_argument("--n", type=int, default=10_000, help="samples scored per run")
    ap.add_argument("--out", type=Path, default=Path("fast_vs_fp32"))
    ap.add_argument(
        "--paths",
        nargs="+",
        choices=("fp32", "fast"),
        default=["fp32", "fast"],
        help="which paths to train (a later run can redo one; the table reads both from --out)",
    )
    ap.add_argument(
        "--set", dest="overrides", action="append", default=[], help="gankit config KEY=VALUE for both paths"
    )
    args = ap.parse_args()
    rows = []
    for seed in args.seeds:
        for path, extra in (("fp32", FP32), ("fast", [])):
            out = args.out / f"{path}-seed{seed}"
            if path in args.paths:
                res = train_and_score(args.preset, out, seed, args.epochs, [*args.overrides, *extra], args.n)
            else:
                res = read_scores(out)
            rows.append((path, seed, res))
    print(f"\n{args.preset}, {args.epochs} epoch(s), FID on {args.n} samples against the held-out split")
    cols = ("fid", "precision", "recall", "classes", "class_kl")
    print(f"{'path':<5} {'seed':>4} {'img/s':>8} {'wall s':>7} " + " ".join(f"{c:>9}" for c in cols))
    for path, seed, r in rows:
        print(
            f"{path:<5} {seed:>4} {r['images_per_s']:>8,.0f} {r['seconds']:>7.0f} "
            + " ".join(f"{r.get(c, float('nan')):>9.3f}" for c in cols)
        )
    fid = {(p, s): r.get("fid") for p, s, r in rows}
    for seed in args.seeds:
        print(f"seed {seed}: fast - fp32 FID = {fid['fast', seed] - fid['fp32', seed]:+.2f}")
    fp32 = [fid["fp32", s] for s in args.seeds]
    print(f"run-to-run spread of fp32 FID over seeds: {max(fp32) - min(fp32):.2f}")


if __name__ == "__main__":
    main()
