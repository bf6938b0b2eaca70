"""gankit eval RUN: score a trained generator against held-out data and append to RUN/metrics.jsonl."""

from __future__ import annotations


def add_parser(sub) -> None:
    from ..metrics import REGISTRY

    p = sub.add_parser("eval", help="score a trained generator (FID, KID, precision/recall, modes, ...)",
                       description="Score the generator of RUN against the held-out data: the test split for "
                                   "MNIST/Fashion-MNIST, the true distribution for toy sets, the training folder "
                                   "for RGB folders. Prints a table and appends the values to RUN/metrics.jsonl.")
    p.add_argument("run", help="run directory")
    p.add_argument("--metrics", default="", help=f"comma-separated, from: {', '.join(REGISTRY)} "
                                                 "(default: all that apply to the run's data)")
    p.add_argument("--n", type=int, default=10_000, help="generated samples, and held-out samples at most (default 10000)")
    p.add_argument("--checkpoint", default="last", help="last | best (default last)")
    p.add_argument("--seed", type=int, default=0, help="latent seed (default 0)")
    p.add_argument("--data-root", help="folder holding mnist/ and fashion-mnist/ (default $GANKIT_DATA, else ~/.cache/gankit)")
    p.add_argument("--device", default="cpu", help="cpu | cuda (default cpu)")
    p.set_defaults(func=run)


def run(args) -> int:
    from ..errors import GankitError
    from ..metrics.evaluate import Evaluator, append_records, format_table, records
    from ..run import RunDir
    from ..generation.sampling import draw, load_generator

    if args.n < 2:
        raise GankitError(f"--n must be at least 2 (got {args.n})")
    g, cfg = load_generator(args.run, args.checkpoint, args.device)
    evaluator = Evaluator(cfg, args.data_root, args.n, args.device)
    names = evaluator.metrics(args.metrics)  # checked before any work is done
    step = RunDir(args.run).load_checkpoint(args.checkpoint)["position"]["step"]
    values = evaluator.evaluate(draw(g, cfg, args.n, args.seed, args.device), names)
    append_records(args.run, records(values, step, evaluator.feature_net, args.n, "eval", args.checkpoint))
    print(f"{args.run} ({args.checkpoint} checkpoint, step {step}):")
    print(format_table(values, evaluator.feature_net, args.n))
    return 0
