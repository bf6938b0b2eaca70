"""gankit sample RUN: draw from a trained generator (the same --seed gives the same samples).

gankit sample RUN --n 64 --out grid.png
gankit sample RUN --truncation 1.0                 redraw latent entries with |z| > 1
gankit sample RUN --interpolate --n 6 --steps 10   latent walks: walk.png grid + walk.gif
gankit sample RUN --class 3                        a conditional run: 64 samples of class 3
gankit sample RUN --class all --n 10               one row of 10 per class, named on the left
"""

from __future__ import annotations


def add_parser(sub) -> None:
    p = sub.add_parser("sample", help="draw samples from a trained generator, or walk its latent space")
    p.add_argument("run", help="run directory")
    p.add_argument(
        "--n", type=int, default=None, help="number of samples (default 64), or of walks with --interpolate (default 8)"
    )
    p.add_argument("--seed", type=int, default=0, help="latent seed (default 0)")
    p.add_argument(
        "--out",
        default=None,
        help=".png for a grid/plot, .npy for raw samples (default samples.png, or walk.png with --interpolate)",
    )
    p.add_argument("--checkpoint", default="last", help="checkpoint name in RUN/checkpoints (default last)")
    p.add_argument("--device", default="cpu", help="cpu | cuda (default cpu)")
    p.add_argument(
        "--truncation",
        type=float,
        default=None,
        metavar="T",
        help="truncated sampling: redraw Gaussian latent entries with |z| > T (less variety, more typical samples)",
    )
    p.add_argument(
        "--interpolate",
        action="store_true",
        help="walk between random latent pairs (spherical for Gaussian latents, linear for uniform): "
        "a grid with one walk per row, and an animated GIF next to it",
    )
    p.add_argument("--steps", type=int, default=10, help="points along each walk (default 10)")
    p.add_argument(
        "--class",
        dest="cls",
        default=None,
        metavar="C",
        help="conditional runs: the class to draw (a number or a class name), or 'all' for one row "
        "per class of --n samples each (default 10); walks stay within the class",
    )
    p.set_defaults(func=run)


def run(args) -> int:
    import torch

    from ..errors import GankitError
    from ..generation.explore import write_interpolation
    from ..generation.latent import generate, latent_draw
    from ..generation.sampling import class_names, load_generator, parse_class, write_samples

    every_class = args.cls == "all"
    n = args.n if args.n is not None else (8 if args.interpolate else 10 if every_class else 64)
    if n < 1:
        raise GankitError(f"--n must be at least 1 (got {n})")
    g, cfg = load_generator(args.run, args.checkpoint, args.device)
    classes = parse_class(args.cls, g, class_names(args.run, cfg)) if args.cls is not None else None
    names = class_names(args.run, cfg) if classes is not None else None
    if args.interpolate:
        # one walk per row; with --class all, n walks for every class; else within the one class
        rows = n * len(classes) if every_class else n
        row_labels = (
            torch.tensor(classes).repeat_interleave(n)
            if every_class
            else torch.full((n,), classes[0])
            if classes
            else None
        )
        grid, gif = write_interpolation(
            g,
            cfg,
            rows,
            args.steps,
            args.seed,
            args.out or "walk.png",
            args.truncation,
            args.device,
            row_labels=row_labels,
        )
        print(f"wrote {rows} latent walks of {args.steps} steps to {grid} and {gif}")
        return 0
    # --class all: n per class, class by class (one grid row each); --class C: all n of class C
    labels = None if classes is None else torch.tensor(classes).repeat_interleave(n if every_class else 1)
    if classes is not None and not every_class:
        labels = labels.expand(n).clone()
    total = len(labels) if labels is not None else n
    samples = generate(g, latent_draw(cfg, total, args.seed, args.truncation), args.device, to_cpu=True, labels=labels)
    row_names = [names[c] for c in classes] if every_class else None
    out = write_samples(samples, cfg, args.out or "samples.png", row_names)
    what = (
        f" of class {names[classes[0]]}" if classes and not every_class else (f", {n} per class" if every_class else "")
    )
    print(f"wrote {total} samples{what} to {out}")
    return 0
