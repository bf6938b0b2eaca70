"""gankit sweep PRESET --seeds 0-9: train a preset over many seeds and summarise them (mean ± std).

    gankit sweep ring-2d --seeds 0-9                       # -> sweeps/ring-2d/seed-0 ... + summary
    gankit sweep grid-25-pacgan4 --seeds 0-9 --set train.epochs=40 --out sweeps/grid-pac4
    gankit sweep ring-2d --seeds 0-9                       # again: finished seeds are skipped

Each seed is a normal run directory trained by `gankit train` (the same code path); the toy MLP
presets are trained several seeds at once as one vectorised model unless --no-batch.
"""

from __future__ import annotations

from pathlib import Path

from ..errors import GankitError
from .config_args import add_config_arguments, resolve_config


def add_parser(sub) -> None:
    p = sub.add_parser("sweep", help="train a preset over many seeds; a table, JSON and page of mean ± std")
    add_config_arguments(p, "a config TOML file instead of a preset", "train.epochs=40")
    p.add_argument("--seeds", default="0-9", help="seeds to train, e.g. 0-9 or 0,3,5 (default 0-9)")
    p.add_argument("--out", help="sweep folder (default sweeps/<preset>); an existing sweep there continues")
    p.add_argument(
        "--no-batch",
        action="store_true",
        help="train the seeds one after another even where they could be trained at once",
    )
    p.add_argument("--data-root", help="folder holding mnist/ and fashion-mnist/ (default $GANKIT_DATA)")
    p.add_argument("--device", help="auto | cpu | cuda | cuda:N (overrides the config)")
    p.add_argument("--summary-only", action="store_true", help="train nothing; summarise the seeds there are")
    p.set_defaults(func=run)


def train_command(argv: list[str]) -> int:
    """`gankit train ARGV` in this process: the train command's own parser and code (a bad setting
    or a diverged seed is an exit status, as on the command line; a bug still raises)."""
    import argparse
    import sys

    from . import train

    parser = argparse.ArgumentParser(prog="gankit")
    train.add_parser(parser.add_subparsers(dest="command"))
    args = parser.parse_args(argv)
    try:
        return args.func(args) or 0
    except GankitError as e:
        print(f"gankit: error: {e}", file=sys.stderr)
        return 2


def run(args) -> int:
    from ..sweep.runner import SweepDir, SweepSpec, run_sweep
    from ..sweep.seeds import parse_seeds
    from ..sweep.summary import summarise

    if any(o.replace(" ", "").startswith("seed=") for o in args.overrides):
        raise GankitError("--set seed=... is what --seeds sets for each run; give the seeds with --seeds, e.g. 0-9")
    seeds = parse_seeds(args.seeds)
    cfg = resolve_config(args)  # a bad preset or --set fails here, before any folder is made
    overrides = list(args.overrides) + ([f"device={args.device}"] if args.device else [])
    spec = SweepSpec(
        args.preset if not args.config else None, str(Path(args.config).resolve()) if args.config else None, overrides
    )
    sweep = SweepDir.open_or_create(args.out or Path("sweeps") / cfg.name, spec, seeds)
    failed: dict = {}
    if not args.summary_only:
        outcome = run_sweep(
            sweep, spec, cfg, seeds, train=train_command, batch=not args.no_batch, data_root=args.data_root
        )
        failed = outcome.failed
        print(
            f"sweep {sweep.path}: {len(outcome.trained)} seeds trained ({len(outcome.batched)} of them at once), "
            f"{len(outcome.resumed)} resumed, {len(outcome.skipped)} already finished, {len(failed)} failed\n"
        )
    summary = summarise(sweep, seeds, failed)
    js, page = summary.write()
    print(summary.text())
    print(f"\nwrote {js} and {page}")
    return 0 if not summary.failed else 1
