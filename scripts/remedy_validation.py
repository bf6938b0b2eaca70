"""Do the remedies work? The failing settings of scripts/diagnosis_table.py, three ways each.

    python scripts/remedy_validation.py --data-root ../shared/data --seeds 0 1
    python scripts/remedy_validation.py --only d_overpowering mode_collapse --steps 1500

For every setting and seed: (1) the run as it is: what the diagnosis finds; (2) the same run with
the first remedy of the first finding applied as printed (its --set overrides), from scratch;
(3) the same run with train.balance = auto, the controller acting while it trains. A run is
healthy when no finding is still active at its end and, where there is a ground truth (toy
mixtures: modes of 2,000 independent samples; MNIST: classes by the shipped classifier), it ends
with every mode or class. Toy rows run `--steps` steps (the balance warm-up is 300, so the
controller needs a run longer than the diagnosis table's 400). Prints a markdown table and the
counts of rescued runs; the healthy settings report the controller's effect on a healthy run.
"""

from __future__ import annotations

import argparse
import importlib.util
import tempfile
import time
from pathlib import Path

import torch

from gankit.callbacks.balance import BalanceCallback
from gankit.config import load_preset
from gankit.diagnosis.remedies import remedy_list

HERE = Path(__file__).resolve().parent
_spec = importlib.util.spec_from_file_location("diagnosis_table", HERE / "diagnosis_table.py")
table = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(table)

FAILING = (
    "d_overpowering",
    "vanishing_g_gradients",
    "g_overpowering",
    "mode_collapse",
    "divergence_explode",
    "oscillation",
    "critic_divergence",
    "ring2d_preset",
    "mnist_collapse",
    "overfit_small_folder",
)
HEALTHY = ("healthy", "ring2d_stable")


def run(cfg, data_root, balance: bool):
    """(diagnosis callback, trainer, end state, balance actions)"""
    from gankit.callbacks.diagnosis import DiagnosisCallback
    from gankit.diagnosis.rules import Context
    from gankit.errors import GankitError
    from gankit.training.experiment import build
    from gankit.training.loop import Trainer

    cb = DiagnosisCallback(Context.from_config(cfg), verbose=False, data_root=data_root)
    callbacks = [cb, *([BalanceCallback(cb, verbose=False)] if balance else [])]
    trainer = Trainer(build(cfg, data_root), None, callbacks, progress=False)
    try:
        trainer.fit()
    except GankitError:
        if "divergence" not in cb.detected:
            raise
    diverged = not trainer.pos.finished
    truth = None if diverged else table.end_state(trainer)
    return cb, truth, diverged, callbacks[-1].actions if balance else []


def healthy(cb, truth, diverged) -> bool:
    if diverged or any(f.active for f in cb.findings()):
        return False
    return truth is None or truth[0] == truth[1]


def describe(cb, truth, diverged) -> str:
    active = sorted({f.kind for f in cb.findings() if f.active})
    text = "diverged" if diverged else (", ".join(active) or "healthy")
    return text + (f"; end {truth[0]}/{truth[1]}" if truth else "")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    ap.add_argument("--only", nargs="+", choices=FAILING + HEALTHY)
    ap.add_argument("--steps", type=int, default=1500, help="steps of the toy rows with 400 in the table")
    ap.add_argument("--data-root", default=None)
    args = ap.parse_args()
    torch.set_num_threads(1)
    rows = args.only or list(FAILING + HEALTHY)
    folders = {}
    if any("{" in " ".join(table.SETTINGS[r][1]) for r in rows):
        folders = table.build_folders(args.data_root, Path(tempfile.mkdtemp(prefix="gankit-remedies-")))
    print("| setting | seed | as it is | first remedy applied | result | train.balance = auto | result |")
    print("|---|---|---|---|---|---|---|")
    counts = {"remedy": [0, 0], "auto": [0, 0], "healthy_kept": [0, 0]}
    for name in rows:
        preset, overrides, _ = table.SETTINGS[name]
        overrides = [o.format(**folders) for o in overrides]
        if "train.steps=400" in overrides:
            overrides = overrides + ["train.epochs=100000", f"train.steps={args.steps}"]
        for seed in args.seeds:
            t0 = time.perf_counter()
            cfg = load_preset(preset, overrides + [f"seed={seed}"])
            plain = run(cfg, args.data_root, False)
            auto = run(load_preset(preset, overrides + [f"seed={seed}", "train.balance=auto"]), args.data_root, True)
            acts = "; ".join(f"{a['step']}: {a['action']}" for a in auto[3]) or "no action"
            if name in HEALTHY:
                was, kept = healthy(*plain[:3]), healthy(*auto[:3])
                if was:  # the controller's cost on a run that needs no help
                    counts["healthy_kept"][0] += kept
                    counts["healthy_kept"][1] += 1
                verdict = ("kept healthy" if kept else "made worse") if was else "not healthy as it is"
                print(
                    f"| {name} | {seed} | {describe(*plain[:3])} | - | - | {describe(*auto[:3])} ({acts}) | "
                    f"{verdict}{'; rescued' if kept and not was else ''} |",
                    flush=True,
                )
                continue
            found = sorted(plain[0].detected.items(), key=lambda kv: kv[1])
            if not found or healthy(*plain[:3]):
                print(f"| {name} | {seed} | {describe(*plain[:3])} (nothing to rescue) | | | {describe(*auto[:3])} | |")
                continue
            remedy = next((r for r in remedy_list(found[0][0], plain[0].diagnoser.ctx) if r.overrides), None)
            if remedy is None:
                fixed_text, fixed_ok = "no applicable remedy", False
            else:
                sets = [f"{k}={v}" for k, v in remedy.overrides.items()]
                fixed = run(load_preset(preset, overrides + [f"seed={seed}", *sets]), args.data_root, False)
                fixed_ok = healthy(*fixed[:3])
                fixed_text = f"{found[0][0]}: `{' '.join(sets)}` -> {describe(*fixed[:3])}"
            auto_ok = healthy(*auto[:3])
            for key, ok in (("remedy", fixed_ok), ("auto", auto_ok)):
                counts[key][0] += ok
                counts[key][1] += 1
            print(
                f"| {name} | {seed} | {describe(*plain[:3])} | {fixed_text} | {'rescued' if fixed_ok else 'not'} | "
                f"{describe(*auto[:3])} ({acts}) | {'rescued' if auto_ok else 'not'} | ({time.perf_counter() - t0:.0f}s)",
                flush=True,
            )
    print(
        f"\nfirst remedy rescued {counts['remedy'][0]} of {counts['remedy'][1]} failing runs; "
        f"train.balance = auto rescued {counts['auto'][0]} of {counts['auto'][1]}; "
        f"healthy runs kept healthy under auto: {counts['healthy_kept'][0]} of {counts['healthy_kept'][1]}"
    )


if __name__ == "__main__":
    main()
