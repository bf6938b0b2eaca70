"""The diagnosis on real runs: settings that produce each failure, and healthy defaults, over seeds.

    python scripts/diagnosis_table.py                 # markdown table on stdout (several minutes on CPU)
    python scripts/diagnosis_table.py --seeds 0 1 2 --only healthy d_overpowering

Each row trains a short run (no run directory) and reports, per seed, the findings as
kind@step, the step being the log at which the live diagnosis announced it, and -end when the
finding cleared before the end of the run (end = the last step at which it held).
"""

from __future__ import annotations

import argparse
import time

import torch

from gankit.config import load_preset
from gankit.callbacks.diagnosis import train_and_diagnose

RING = ["train.steps=400", "train.log_every=20", "data.size=16000"]
# name -> (preset, overrides, the finding the setting is meant to produce)
SETTINGS = {
    "healthy": ("ring-2d", RING, "healthy"),
    "d_overpowering": ("ring-2d", RING + ["optim.d.lr=5e-3", "optim.g.lr=1e-4", "train.d_steps=5"], "d_overpowering"),
    "vanishing_g_gradients": ("ring-2d", RING + ["optim.d.lr=5e-3", "optim.g.lr=1e-4", "train.d_steps=5",
                                                 "loss.g_form=minimax"], "vanishing_g_gradients"),
    "g_overpowering": ("ring-2d", RING + ["optim.g.lr=1e-2", "optim.d.lr=1e-5"], "g_overpowering"),
    "mode_collapse": ("ring-2d", RING + ["optim.g.lr=5e-3", "optim.d.lr=5e-4"], "mode_collapse"),
    "divergence_nan": ("ring-2d", RING + ["optim.g.kind=sgd", "optim.d.kind=sgd", "optim.g.lr=10", "optim.d.lr=10"],
                       "divergence"),
    "divergence_explode": ("ring-2d", RING + ["optim.g.lr=0.5", "optim.d.lr=0.5"], "divergence"),
    "oscillation": ("ring-2d", RING + ["optim.g.lr=1e-2", "optim.d.lr=1e-2", "optim.g.beta1=0.9",
                                       "optim.d.beta1=0.9"], "oscillation"),
    "healthy_1d": ("gaussian-1d", ["train.steps=400", "train.log_every=20", "model.d_group=1", "model.noise=normal",
                                   "model.hidden=64", "train.batch_size=256", "optim.d.lr=2e-3", "optim.g.lr=5e-4"],
                   "healthy"),
    "seed_s1_preset": ("gaussian-1d", ["train.steps=400", "train.log_every=20"], None),
}
DESCRIBE = {
    "healthy": "ring-2d preset",
    "d_overpowering": "ring-2d, D lr 5e-3, G lr 1e-4, 5 D steps",
    "vanishing_g_gradients": "same, minimax G loss",
    "g_overpowering": "ring-2d, G lr 1e-2, D lr 1e-5",
    "mode_collapse": "ring-2d, G lr 5e-3, D lr 5e-4",
    "divergence_nan": "ring-2d, SGD lr 10",
    "divergence_explode": "ring-2d, Adam lr 0.5",
    "oscillation": "ring-2d, lr 1e-2, Adam beta1 0.9",
    "healthy_1d": "gaussian-1d, single-sample D, normal noise",
    "seed_s1_preset": "gaussian-1d preset (D on groups of 100)",
}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--only", nargs="+", choices=sorted(SETTINGS), help="rows to run")
    ap.add_argument("--data-root", default=None)
    args = ap.parse_args()
    torch.set_num_threads(1)
    rows = args.only or list(SETTINGS)
    print(f"| setting | steps | expected | " + " | ".join(f"seed {s}" for s in args.seeds) + " | detected |")
    print("|---|---|---|" + "---|" * len(args.seeds) + "---|")
    for name in rows:
        preset, overrides, expected = SETTINGS[name]
        cells, hits = [], 0
        for seed in args.seeds:
            cfg = load_preset(preset, overrides + [f"seed={seed}"])
            t0 = time.perf_counter()
            cb = train_and_diagnose(cfg, args.data_root)
            findings = cb.findings()
            if [f.kind for f in findings] == ["healthy"]:
                cell = "healthy"
            else:
                first = {}
                for f in findings:
                    first.setdefault(f.kind, f)
                cell = ", ".join(f"{k}@{s}" + ("" if first[k].active else f"-{first[k].end_step}")
                                 for k, s in sorted(cb.detected.items(), key=lambda kv: kv[1]))
            cells.append(f"{cell} ({time.perf_counter() - t0:.0f}s)")
            hits += expected is not None and (expected in cb.detected or cell == expected)
        steps = next(o.split("=")[1] for o in overrides if o.startswith("train.steps="))
        detected = f"{hits}/{len(args.seeds)}" if expected else "-"
        print(f"| {DESCRIBE[name]} | {steps} | {expected or '-'} | " + " | ".join(cells) + f" | {detected} |", flush=True)


if __name__ == "__main__":
    main()
