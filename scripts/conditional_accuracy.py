"""Conditional accuracy of the conditional presets after a short CPU training (README, Conditional GANs).

    python scripts/conditional_accuracy.py --preset cgan-mnist --steps 3000 --seeds 0 1 2

Each seed trains the preset for --steps generator steps (gankit.train, metrics off during
training for speed), then draws --n samples, every class equally often, from the run's generator
and classifies them with the shipped classifier of the data set. Prints one Markdown row per seed:
conditional accuracy, the lowest per-class accuracy, classes covered (asked-for class the most
frequent prediction), and the per-class accuracies.
"""

from __future__ import annotations

import argparse
import json
import time

import torch


def measure(preset: str, steps: int, seed: int, n: int, data_root: str | None, out_root: str, extra: list[str]):
    import gankit
    from gankit.generation.latent import generate, latent_draw
    from gankit.generation.sampling import load_generator
    from gankit.metrics.classifier import load_classifier, to_classifier_input
    from gankit.metrics.conditional import conditional_accuracy, per_class_accuracy
    from gankit.nets import balanced_labels

    cfg = gankit.load_preset(
        preset,
        [
            f"train.steps={steps}",
            f"seed={seed}",
            "device=cpu",
            "eval.every=0",
            "log.tensorboard=off",
            "log.progress=off",
            *extra,
        ],
    )
    t0 = time.perf_counter()
    run = gankit.train(cfg, out=f"{out_root}/{preset}-s{seed}", data_root=data_root)
    train_s = time.perf_counter() - t0
    g, rcfg = load_generator(run.path)
    labels = balanced_labels(n, g.num_classes)
    x = generate(g, latent_draw(rcfg, n, seed=1000 + seed), labels=labels)
    with torch.no_grad():
        logits = load_classifier(rcfg.data.name)(to_classifier_input(x))
    values = conditional_accuracy(logits, labels)
    values["per_class"] = [round(float(a), 3) for a in per_class_accuracy(logits, labels)]
    values.update(preset=preset, seed=seed, steps=steps, train_s=round(train_s, 1), run=str(run.path))
    return values


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--preset", default="cgan-mnist")
    p.add_argument("--steps", type=int, default=3000)
    p.add_argument("--seeds", type=int, nargs="+", default=[0])
    p.add_argument("--n", type=int, default=1000, help="samples classified (default 1000, 100 per class)")
    p.add_argument("--data-root", default=None)
    p.add_argument("--out", default="runs/conditional-accuracy", help="folder of the runs")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--set", action="append", default=[], help="extra config overrides")
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    print("| preset | seed | steps | cond_acc | cond_acc_min | classes | per-class accuracy | train s |")
    print("|---|---|---|---|---|---|---|---|")
    for seed in args.seeds:
        v = measure(args.preset, args.steps, seed, args.n, args.data_root, args.out, args.set)
        print(
            f"| {v['preset']} | {seed} | {v['steps']} | {v['cond_acc']:.3f} | {v['cond_acc_min']:.3f} | "
            f"{v['cond_classes']}/10 | {' '.join(f'{a:.2f}' for a in v['per_class'])} | {v['train_s']} |",
            flush=True,
        )
        print("json " + json.dumps(v), flush=True)


if __name__ == "__main__":
    main()
