"""The published mode-coverage comparison: 10 seeds per row with `gankit sweep`, next to the papers.

    PYTHONPATH=src OMP_NUM_THREADS=1 python scripts/published_comparison.py            # ring and grid
    PYTHONPATH=src OMP_NUM_THREADS=1 python scripts/published_comparison.py --only ring --seeds 0-2
    PYTHONPATH=src python scripts/published_comparison.py --summary-only      # the table of what is trained
    PYTHONPATH=src OMP_NUM_THREADS=1 python scripts/published_comparison.py --only stacked --seeds 0-1 \
        --stacked-steps 300 --stacked-n 10000          # Stacked MNIST, shortened for a CPU

Every row is one sweep folder under --out (resumable: run the script again after a kill), and the
markdown table (mean ± sample std over the seeds, 2,500 samples each, metrics of
gankit.metrics.toy.mode_stats) is printed and written to OUT/table.md. The papers' rows are
PacGAN's Table 1 (Lin et al. 2018: GAN and PacGAN on the same ring and grid, 10 trials; their
networks are larger MLPs trained 400 epochs of 100,000 samples, ours the toy MLPs of ring-2d
trained 20 epochs of 64,000). The modern-loss rows are the *-modern presets: R3GAN's relativistic
loss with R1 and R2, an EMA of G and a cosine decay of both learning rates.

Stacked MNIST (only with --only stacked: each seed is a DCGAN trained on its own, not batched) is
scored on eval.n samples with the MNIST classifier per channel (gankit.metrics.stacked): modes of
1,000 and KL(P_G || uniform); the papers' rows are PacGAN's Table 3 (DCGAN, PacDCGAN2) and R3GAN's
Table 2, both 26,000 samples. --stacked-steps and --stacked-n shorten it for a CPU.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from gankit.cli import main as gankit

# ring-2d-stable's remedies, and a cosine decay of both learning rates so that the game settles
STABLE = ["loss.r1_gamma=0.1", "train.ema=0.999", "train.lr_schedule=cosine"]
ROWS = {
    "ring": [
        ("GAN", "ring-pacgan", []),
        ("PacGAN2", "ring-pacgan2", []),
        ("GAN + R1 + EMA + cosine", "ring-pacgan", STABLE),
        ("RpGAN + R1 + R2 + EMA + cosine", "ring-pacgan-modern", []),
    ],
    "grid": [
        ("GAN", "grid-25", []),
        ("PacGAN4", "grid-25-pacgan4", []),
        ("GAN + R1 + EMA + cosine", "grid-25", STABLE),
        ("RpGAN + R1 + R2 + EMA + cosine", "grid-25-modern", []),
    ],
    "stacked": [
        ("DCGAN", "stacked-mnist", []),
        ("PacDCGAN2", "stacked-mnist-pacgan", []),
        ("DCGAN, RpGAN + R1 + R2 + EMA", "stacked-mnist-modern", []),
    ],
}
DEFAULT_BENCHES = ("ring", "grid")  # Stacked MNIST trains DCGANs one seed at a time: asked for with --only
PUBLISHED = {  # PacGAN, Table 1 (as quoted in gankit issue 16): modes, high-quality samples (%), reverse KL
    "ring": [("GAN (PacGAN paper)", "6.3 ± 0.5", "98.2", "0.45"), ("PacGAN2 (PacGAN paper)", "7.9", "95.6", "0.07")],
    "grid": [("GAN (PacGAN paper)", "17.3", "94.8", "0.70"), ("PacGAN4 (PacGAN paper)", "24.8", "93.6", "0.04")],
    "stacked": [  # PacGAN Table 3 and R3GAN Table 2: modes (of 1,000), KL; no high-quality fraction
        ("DCGAN (PacGAN paper)", "99", "", "3.4"),
        ("PacDCGAN2 (PacGAN paper)", "1000", "", "0.06"),
        ("R3GAN's loss (R3GAN paper)", "1000", "", "0.078"),
    ],
}


def cell(summary: dict, key: str, scale: float = 1.0, digits: int = 2) -> str:
    m = summary.get(key)
    return f"{m['mean'] * scale:.{digits}f} ± {m['std'] * scale:.{digits}f}" if m else "missing"


def folder(label: str) -> str:
    return label.lower().replace(", ", "-").replace(" + ", "-").replace(" ", "-")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seeds", default="0-9")
    p.add_argument("--only", choices=sorted(ROWS), action="append")
    p.add_argument("--out", default="sweeps/published")
    p.add_argument("--set", dest="overrides", action="append", default=[], help="added to every row")
    p.add_argument("--summary-only", action="store_true", help="train nothing: the table of the seeds there are")
    p.add_argument("--stacked-steps", type=int, default=0, help="Stacked MNIST: G steps per seed (0 = the presets')")
    p.add_argument("--stacked-n", type=int, default=0, help="Stacked MNIST: samples scored (0 = the presets' 26,000)")
    args = p.parse_args()
    shortened = [f"train.steps={args.stacked_steps}"] * bool(args.stacked_steps)
    shortened += [f"eval.n={args.stacked_n}"] * bool(args.stacked_n)
    lines = [
        "| set | method | modes | high quality (%) | reverse KL | seeds | command |",
        "|---|---|---|---|---|---|---|",
    ]
    for bench in args.only or DEFAULT_BENCHES:
        for label, preset, sets in ROWS[bench]:
            sets = sets + (shortened if bench == "stacked" else [])
            out = Path(args.out) / bench / folder(label)
            shown = ["sweep", preset, "--seeds", args.seeds] + [a for o in sets + args.overrides for a in ("--set", o)]
            gankit(
                shown
                + ["--set", "log.tensorboard=off", "--out", str(out)]
                + (["--summary-only"] if args.summary_only else [])
            )
            s = json.loads((out / "summary.json").read_text())["summary"]
            n = s["modes"]["n"] if "modes" in s else 0
            command = "gankit " + " ".join(shown)
            hq = cell(s, "hq", 100, 1) if bench != "stacked" else ""
            lines.append(
                f"| {bench} | {label} (gankit) | {cell(s, 'modes', digits=1)} | {hq} | "
                f"{cell(s, 'mode_kl', digits=3)} | {n} | `{command}` |"
            )
        for row in PUBLISHED[bench]:
            lines.append(f"| {bench} | {row[0]} | {row[1]} | {row[2]} | {row[3]} | 10 | |")
    table = "\n".join(lines)
    Path(args.out).mkdir(parents=True, exist_ok=True)
    (Path(args.out) / "table.md").write_text(table + "\n")
    print(table)


if __name__ == "__main__":
    main()
