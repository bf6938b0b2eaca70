"""gankit sample RUN: draw from a trained generator (the same --seed gives the same samples)."""

from __future__ import annotations


def add_parser(sub) -> None:
    p = sub.add_parser("sample", help="draw samples from a trained generator")
    p.add_argument("run", help="run directory")
    p.add_argument("--n", type=int, default=64, help="number of samples (default 64)")
    p.add_argument("--seed", type=int, default=0, help="latent seed (default 0)")
    p.add_argument("--out", default="samples.png", help=".png for a grid/plot, .npy for raw samples")
    p.add_argument("--checkpoint", default="last", help="checkpoint name in RUN/checkpoints (default last)")
    p.add_argument("--device", default="cpu", help="cpu | cuda (default cpu)")
    p.set_defaults(func=run)


def run(args) -> int:
    from ..errors import GankitError
    from ..sampling import draw, load_generator, write_samples

    if args.n < 1:
        raise GankitError(f"--n must be at least 1 (got {args.n})")
    g, cfg = load_generator(args.run, args.checkpoint, args.device)
    out = write_samples(draw(g, cfg, args.n, args.seed, args.device), cfg, args.out)
    print(f"wrote {args.n} samples to {out}")
    return 0
