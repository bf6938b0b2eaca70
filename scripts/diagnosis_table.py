"""The diagnosis on real runs: settings that produce each failure, and healthy defaults, over seeds.

    python scripts/diagnosis_table.py --data-root ../shared/data             # markdown table (about 50 min on 2 busy cores)
    python scripts/diagnosis_table.py --seeds 0 1 2 --only healthy d_overpowering
    python scripts/diagnosis_table.py --only ring2d_preset --seeds 0 1 2 3 4 5

Each row trains a short run (no run directory) and reports, per seed, the findings as
kind@step, the step being the log at which the live diagnosis announced it, and -end when the
finding cleared before the end of the run (end = the last step at which it held); for the
coverage findings, the modes or classes missing at the end.

Rows with a ground truth (`truth`) are scored against it rather than against a fixed expectation:
at the end of the run 2,000 samples from fixed noise are scored independently of the 256
diagnostic ones (modes by gankit.metrics.toy.mode_stats, classes by the shipped classifier); a
run ending with fewer than all modes or classes (or, for classes, a histogram as far from uniform
as the rule's CLASS_KL_LIMIT) must end with a mode_collapse or
partial_mode_collapse finding still active (else it is a miss), and one ending with all of them
must not (else a false alarm).

The RGB collapse rows are judged by the MS-SSIM of generated pairs against real pairs (the
AC-GAN criterion, gankit.diagnosis.sample_stats): a setting whose grid repeats one template must
be flagged; the preset on the same folder (the large_folder row) must not.

The overfitting rows build an image folder from Fashion-MNIST (as RGB PNGs): 300 training images
(small: D memorises them) or 6,000 (large), with 300 held-out test images for diagnosis.holdout.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import torch

from gankit.callbacks.diagnosis import DiagnosisCallback
from gankit.config import load_preset
from gankit.diagnosis.rules import CLASS_KL_LIMIT, Context
from gankit.errors import GankitError
from gankit.training.experiment import build
from gankit.training.loop import Trainer

RING = ["train.steps=400", "train.log_every=20", "data.size=16000"]
CRITIC = [
    "loss.kind=wgan-gp",
    "train.d_steps=5",
    "optim.g.lr=1e-4",
    "optim.d.lr=1e-4",
    "optim.g.beta1=0",
    "optim.d.beta1=0",
    "optim.g.beta2=0.9",
    "optim.d.beta2=0.9",
]
FOLDER = ["data.resolution=32", "data.flip=false", "train.epochs=100000", "train.steps=560", "train.log_every=40"]
# RGB collapse: the DCGAN paper's warning setting, Adam beta1 0.9 with 10x the learning rate: G falls
# into one checkered template (the grid the issue saw) while the pixel spread stays above 0.5
RGB_COLLAPSE = ["optim.g.beta1=0.9", "optim.d.beta1=0.9", "optim.g.lr=2e-3", "optim.d.lr=2e-3"]
RGB_SHORT = ["train.steps=360"]
COVERAGE = ("mode_collapse", "partial_mode_collapse")
# name -> (preset, overrides, the finding the setting is meant to produce, or "truth": judged by the end state)
SETTINGS = {
    "healthy": ("ring-2d", RING, "healthy"),
    "d_overpowering": ("ring-2d", RING + ["optim.d.lr=5e-3", "optim.g.lr=1e-4", "train.d_steps=5"], "d_overpowering"),
    "vanishing_g_gradients": (
        "ring-2d",
        RING + ["optim.d.lr=5e-3", "optim.g.lr=1e-4", "train.d_steps=5", "loss.g_form=minimax"],
        "vanishing_g_gradients",
    ),
    "g_overpowering": ("ring-2d", RING + ["optim.g.lr=1e-2", "optim.d.lr=1e-5"], "g_overpowering"),
    "mode_collapse": ("ring-2d", RING + ["optim.g.lr=5e-3", "optim.d.lr=5e-4"], "mode_collapse"),
    "divergence_nan": (
        "ring-2d",
        RING + ["optim.g.kind=sgd", "optim.d.kind=sgd", "optim.g.lr=10", "optim.d.lr=10"],
        "divergence",
    ),
    "divergence_explode": ("ring-2d", RING + ["optim.g.lr=0.5", "optim.d.lr=0.5"], "divergence"),
    "oscillation": (
        "ring-2d",
        RING + ["optim.g.lr=1e-2", "optim.d.lr=1e-2", "optim.g.beta1=0.9", "optim.d.beta1=0.9"],
        "oscillation",
    ),
    "healthy_1d": (
        "gaussian-1d",
        [
            "train.steps=400",
            "train.log_every=20",
            "model.d_group=1",
            "model.noise=normal",
            "model.hidden=64",
            "train.batch_size=256",
            "optim.d.lr=2e-3",
            "optim.g.lr=5e-4",
        ],
        "healthy",
    ),
    "seed_s1_preset": ("gaussian-1d", ["train.steps=400", "train.log_every=20"], None),
    # partial collapse: the presets as a user runs them, judged by how many modes / classes they end with
    "ring2d_preset": ("ring-2d", [], "truth"),
    "ring2d_stable": ("ring-2d-stable", [], "truth"),
    "mnist_collapse": ("mlp-mnist", ["train.steps=1000", "train.log_every=100"], "truth"),
    # critics: divergence judged on the critic gap and gradient norms
    "critic_divergence": ("ring-2d", RING + CRITIC[:1] + ["optim.g.lr=0.5", "optim.d.lr=0.5"], "divergence"),
    "critic_ring": ("ring-2d", RING + CRITIC + ["train.steps=1000"], None),
    # the small-data failure
    "overfit_small_folder": ("dcgan-rgb", FOLDER + ["data.root={small}", "diagnosis.holdout={held}"], "overfitting_d"),
    "large_folder": (
        "dcgan-rgb",
        FOLDER + ["data.root={large}", "diagnosis.holdout={held}"],
        "healthy",  # no overfitting_d, and no collapse by MS-SSIM either
    ),
    # RGB collapse, by the MS-SSIM of generated pairs against real pairs
    "rgb_collapse": ("dcgan-rgb", FOLDER + RGB_SHORT + RGB_COLLAPSE + ["data.root={large}"], "collapse"),
    # the class-histogram rule on a healthy MNIST DCGAN (false alarms counted on real samples)
    "mnist32_healthy": ("dcgan-mnist32", ["train.steps=500", "train.log_every=50"], "truth"),
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
    "ring2d_preset": "ring-2d preset, whole run (5000 steps)",
    "ring2d_stable": "ring-2d-stable preset, whole run (R1 + EMA)",
    "mnist_collapse": "mlp-mnist preset (seed S2), 1000 steps",
    "critic_divergence": "ring-2d, WGAN-GP, Adam lr 0.5",
    "critic_ring": "ring-2d, WGAN-GP (lr 1e-4, 5 critic steps), 1000 steps",
    "overfit_small_folder": "dcgan-rgb 32 px, 300 Fashion-MNIST images, 560 steps",
    "large_folder": "dcgan-rgb 32 px, 6,000 Fashion-MNIST images, 560 steps",
    "rgb_collapse": "dcgan-rgb 32 px, 6,000 images, Adam beta1 0.9, lr 2e-3, 360 steps",
    "mnist32_healthy": "dcgan-mnist32 preset, 500 steps",
}
TRUTH_SAMPLES = 2000


def fashion_png_folder(data_root, split: str, n: int, folder: Path) -> str:
    """The first n Fashion-MNIST images of `split` written to `folder` as RGB PNGs (an image folder)."""
    from PIL import Image

    from gankit.data.idx import load_idx_images

    images, _ = load_idx_images("fashion-mnist", data_root, split, download=False)
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        Image.fromarray(images[i, 0].numpy()).convert("RGB").save(folder / f"{i:05d}.png")
    return str(folder)


def build_folders(data_root, work: Path) -> dict:
    """{small, large, held}: folders of Fashion-MNIST images as RGB PNGs (train split; held-out: test)."""
    specs = (("small", "train", 300), ("large", "train", 6000), ("held", "test", 300))
    return {name: fashion_png_folder(data_root, split, n, work / name) for name, split, n in specs}


@torch.no_grad()
def end_state(trainer) -> tuple[int, int, float | None] | None:
    """(modes or classes covered, total, the classes' KL from uniform or None) by 2,000 samples
    from noise fixed apart from the diagnosis's."""
    samples = trainer.generate(trainer.noise(TRUTH_SAMPLES, torch.Generator().manual_seed(7))).cpu()
    dist = trainer.dataset.distribution
    if dist is not None and len(dist.means) > 1:
        from gankit.metrics.toy import mode_stats

        return mode_stats(samples.double().numpy(), dist)["modes"], len(dist.means), None
    if trainer.cfg.data.name in ("mnist", "fashion-mnist"):
        from gankit.metrics.classes import class_coverage
        from gankit.metrics.classifier import load_classifier, to_classifier_input

        logits = load_classifier(trainer.cfg.data.name)(to_classifier_input(samples))
        cov = class_coverage(logits.numpy())
        return cov["classes"], logits.shape[1], cov["class_kl"]
    return None


def train(cfg, data_root):
    cb = DiagnosisCallback(Context.from_config(cfg), verbose=False, data_root=data_root)
    trainer = Trainer(build(cfg, data_root), None, [cb], progress=False)
    try:
        trainer.fit()
    except GankitError:
        if "divergence" not in cb.detected:
            raise
    return cb, trainer


def cell(cb, truth) -> str:
    findings = cb.findings()
    if [f.kind for f in findings] == ["healthy"]:
        text = "healthy"
    else:
        first, last = {}, {}
        for f in findings:
            first.setdefault(f.kind, f)
            last[f.kind] = f
        parts = []
        for k, s in sorted(cb.detected.items(), key=lambda kv: kv[1]):
            part = f"{k}@{s}" + ("" if last[k].active else f"-{last[k].end_step}")
            ev = last[k].evidence
            missing = ev.get("modes_missing", ev.get("classes_missing"))
            if last[k].active and missing:
                part += f" (missing {','.join(missing)})"
            if k in COVERAGE and "msssim_generated" in ev:
                part += f" (MS-SSIM {ev['msssim_generated']:.2f} vs real {ev['msssim_real']:.2f})"
            if k == "overfitting_d":
                part += f" (r_v {ev['overfit_rv']:.2f}, r_t {ev.get('r_t', float('nan')):.2f})"
            parts.append(part)
        text = ", ".join(parts)
    if truth is not None:
        text += f"; end: {truth[0]}/{truth[1]}" + (f", KL {truth[2]:.2f}" if truth[2] is not None else "")
    return text


def judge(expected, cb, truth) -> str:
    """hit | miss | false alarm | ok (a healthy run called healthy) | '' (nothing expected)."""
    active = {f.kind for f in cb.findings() if f.active}
    if expected == "truth":
        if truth is None:
            return ""
        flagged = bool(active & set(COVERAGE))
        if truth[0] < truth[1] or (truth[2] is not None and truth[2] >= CLASS_KL_LIMIT):
            return "hit" if flagged else "miss"
        return "false alarm" if flagged else "ok"
    if expected == "healthy":
        return "ok" if [f.kind for f in cb.findings()] == ["healthy"] else "false alarm"
    if expected and expected.startswith("no "):
        return "false alarm" if set(expected[3:].split(", ")) & set(cb.detected) else "ok"
    if expected == "collapse":
        return "hit" if set(COVERAGE) & set(cb.detected) else "miss"
    if expected:
        return "hit" if expected in cb.detected else "miss"
    return ""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--only", nargs="+", choices=sorted(SETTINGS), help="rows to run")
    ap.add_argument("--data-root", default=None)
    args = ap.parse_args()
    torch.set_num_threads(1)
    rows = args.only or list(SETTINGS)
    folders = {}
    if any("{" in " ".join(SETTINGS[r][1]) for r in rows):
        folders = build_folders(args.data_root, Path(tempfile.mkdtemp(prefix="gankit-diagnosis-")))
    print("| setting | expected | " + " | ".join(f"seed {s}" for s in args.seeds) + " | scored |")
    print("|---|---|" + "---|" * len(args.seeds) + "---|")
    totals = {"hit": 0, "miss": 0, "false alarm": 0, "ok": 0}
    for name in rows:
        preset, overrides, expected = SETTINGS[name]
        overrides = [o.format(**folders) for o in overrides]
        cells, verdicts = [], []
        for seed in args.seeds:
            cfg = load_preset(preset, overrides + [f"seed={seed}"])
            t0 = time.perf_counter()
            cb, trainer = train(cfg, args.data_root)
            truth = end_state(trainer) if expected == "truth" else None
            verdict = judge(expected, cb, truth)
            verdicts.append(verdict)
            if verdict:
                totals[verdict] += 1
            mark = f" **{verdict}**" if verdict in ("miss", "false alarm") else ""
            cells.append(f"{cell(cb, truth)} ({time.perf_counter() - t0:.0f}s){mark}")
        scored = ", ".join(f"{verdicts.count(v)} {v}" for v in ("hit", "ok", "miss", "false alarm") if v in verdicts)
        print(f"| {DESCRIBE[name]} | {expected or '-'} | " + " | ".join(cells) + f" | {scored or '-'} |", flush=True)
    print(
        f"\n{totals['hit']} failures detected, {totals['miss']} missed; {totals['ok']} healthy runs called healthy, "
        f"{totals['false alarm']} false alarms"
    )


if __name__ == "__main__":
    main()
