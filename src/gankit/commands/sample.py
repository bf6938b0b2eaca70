"""gankit sample RUN: draw from a trained generator (the same --seed gives the same samples).

    gankit sample RUN --n 64 --out grid.png
    gankit sample RUN --truncation 1.0                 redraw latent entries with |z| > 1
    gankit sample RUN --interpolate --n 6 --steps 10   latent walks: walk.png grid + walk.gif
"""

from __future__ import annotations


def add_parser(sub) -> None:
    p = sub.add_parser("sample", help="draw samples from a trained generator, or walk its latent space")
    p.add_argument("run", help="run directory")
    p.add_argument("--n", type=int, default=None, help="number of samples (default 64), or of walks with "
                                                      "--interpolate (default 8)")
    p.add_argument("--seed", type=int, default=0, help="latent seed (default 0)")
    p.add_argument("--out", default=None, help=".png for a grid/plot, .npy for raw samples "
                                               "(default samples.png, or walk.png with --interpolate)")
    p.add_argument("--checkpoint", default="last", help="checkpoint name in RUN/checkpoints (default last)")
    p.add_argument("--device", default="cpu", help="cpu | cuda (default cpu)")
    p.add_argument("--truncation", type=float, default=None, metavar="T",
                   help="truncated sampling: redraw Gaussian latent entries with |z| > T (less variety, "
                        "more typical samples)")
    p.add_argument("--interpolate", action="store_true",
                   help="walk between random latent pairs (spherical for Gaussian latents, linear for uniform): "
                        "a grid with one walk per row, and an animated GIF next to it")
    p.add_argument("--steps", type=int, default=10, help="points along each walk (default 10)")
    p.set_defaults(func=run)


def run(args) -> int:
    from ..errors import GankitError
    from ..generation.explore import write_interpolation
    from ..generation.latent import generate, latent_draw
    from ..generation.sampling import draw, load_generator, write_samples

    n = args.n if args.n is not None else (8 if args.interpolate else 64)
    if n < 1:
        raise GankitError(f"--n must be at least 1 (got {n})")
    g, cfg = load_generator(args.run, args.checkpoint, args.device)
    if args.interpolate:
        grid, gif = write_interpolation(g, cfg, n, args.steps, args.seed, args.out or "walk.png",
                                        args.truncation, args.device)
        print(f"wrote {n} latent walks of {args.steps} steps to {grid} and {gif}")
        return 0
    if args.truncation is None:
        samples = draw(g, cfg, n, args.seed, args.device)
    else:
        samples = generate(g, latent_draw(cfg, n, args.seed, args.truncation), args.device, to_cpu=True)
    out = write_samples(samples, cfg, args.out or "samples.png")
    print(f"wrote {n} samples to {out}")
    return 0
