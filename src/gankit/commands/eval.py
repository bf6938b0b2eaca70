"""gankit eval RUN: score a trained generator against real data and append to RUN/metrics.jsonl."""

from __future__ import annotations


def add_parser(sub) -> None:
    from ..metrics import REGISTRY

    p = sub.add_parser(
        "eval",
        help="score a trained generator (FID, KID, precision/recall, SWD, modes, ...)",
        description="Score the generator of RUN against real data prepared exactly as its training "
        "data (eval.reference: the test split for MNIST/Fashion-MNIST; for image folders "
        "the held-out files when data.holdout > 0, else the training files), or against "
        "the true distribution for toy sets. Prints a table and appends the values, each "
        "naming its network, weights hash, n, reference and resize, to RUN/metrics.jsonl.",
    )
    p.add_argument("run", help="run directory")
    p.add_argument(
        "--metrics",
        default="",
        help=f"comma-separated, from: {', '.join(REGISTRY)} "
        "(default: all that apply to the run's data and can run here)",
    )
    p.add_argument(
        "--n", type=int, default=10_000, help="generated samples, and reference samples at most (default 10000)"
    )
    p.add_argument("--checkpoint", default="last", help="last | best (default last)")
    p.add_argument("--seed", type=int, default=0, help="latent seed (default 0)")
    p.add_argument(
        "--no-ema",
        action="store_true",
        help="score G's own weights, not their moving average (runs with train.ema > 0)",
    )
    p.add_argument(
        "--data-root", help="folder holding mnist/ and fashion-mnist/ (default $GANKIT_DATA, else ~/.cache/gankit)"
    )
    p.add_argument(
        "--reference",
        choices=("auto", "train", "holdout"),
        help="which real images to score against (default: the run's eval.reference)",
    )
    p.add_argument(
        "--device", default="auto", help="auto | cpu | cuda | cuda:N (default auto: a GPU when there is one)"
    )
    p.set_defaults(func=run)


def resolve_device(name: str) -> str:
    import torch

    from ..errors import GankitError

    if name == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise GankitError(f"--device {name} but no CUDA GPU is visible here; use --device cpu (or auto)")
    if name != "cpu" and not name.startswith("cuda"):
        raise GankitError(f"--device {name!r} is not a device; use auto, cpu, cuda or cuda:N")
    return name


def run(args) -> int:
    import dataclasses

    from ..errors import GankitError
    from ..generation.sampling import draw, load_generator
    from ..metrics.evaluate import Evaluator, append_records, format_table, records
    from ..nets import balanced_labels, is_conditional
    from ..run import RunDir

    if args.n < 2:
        raise GankitError(f"--n must be at least 2 (got {args.n})")
    device = resolve_device(args.device)
    g, cfg = load_generator(args.run, args.checkpoint, device, ema=not args.no_ema)
    if args.reference:
        cfg = cfg.replace(eval=dataclasses.replace(cfg.eval, reference=args.reference))
    evaluator = Evaluator(cfg, args.data_root, args.n, device)
    names = evaluator.metrics(args.metrics)  # checked (and the network loaded) before any work is done
    step = RunDir(args.run).load_checkpoint(args.checkpoint)["position"]["step"]
    # a conditional run: every class equally often, scored against the classes asked for
    labels = balanced_labels(args.n, g.num_classes) if is_conditional(g) else None
    values = evaluator.evaluate(draw(g, cfg, args.n, args.seed, device, labels), names, labels)
    weights = "g" if args.no_ema or cfg.train.ema == 0 else "g_ema"
    append_records(args.run, records(values, step, evaluator, args.n, "eval", args.checkpoint, weights))
    print(
        f"{args.run} ({args.checkpoint} checkpoint, step {step}, {'G' if weights == 'g' else 'the EMA of G'}; "
        f"reference: {evaluator.reference_split}, "
        f"{len(evaluator.reference_images()) if evaluator.domain == 'image' else 'true distribution'}):"
    )
    print(format_table(values, evaluator, args.n))
    return 0
