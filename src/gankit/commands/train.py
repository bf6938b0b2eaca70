"""gankit train: train a preset or a config file into a run directory, or resume one."""

from __future__ import annotations

import logging

from ..errors import GankitError
from .config_args import add_config_arguments, resolve_config

log = logging.getLogger("gankit")


def add_parser(sub) -> None:
    p = sub.add_parser("train", help="train a GAN (a preset, a config file, or --resume a run)")
    add_config_arguments(p, "a config TOML file, e.g. a run's config.toml", "train.epochs=3 --set optim.d.lr=2e-4")
    p.add_argument("--resume", metavar="RUN", help="continue a run from its last checkpoint")
    p.add_argument("--out", help="run directory to create (default runs/<preset>-<time>)")
    p.add_argument(
        "--data-root", help="folder holding mnist/ and fashion-mnist/ (default $GANKIT_DATA, else ~/.cache/gankit)"
    )
    p.add_argument("--device", choices=None, help="auto | cpu | cuda | cuda:N (overrides the config)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument(
        "--gpus",
        type=int,
        default=0,
        metavar="N",
        help="train on N processes of this machine (one per GPU) through torchrun; "
        "train.batch_size stays the global batch",
    )
    p.set_defaults(func=run)


def launch_torchrun(args) -> int:
    """`gankit train ... --gpus N`: the same command under torchrun, one process per GPU."""
    import subprocess
    import sys

    if args.gpus < 1:
        raise GankitError(f"--gpus must be at least 1 (got {args.gpus})")
    argv = ["train"] + ([args.preset] if args.preset else [])
    for flag, value in (
        ("--config", args.config),
        ("--resume", args.resume),
        ("--out", args.out),
        ("--data-root", args.data_root),
        ("--device", args.device),
    ):
        if value:
            argv += [flag, str(value)]
    for o in args.overrides:
        argv += ["--set", o]
    if args.quiet:
        argv.append("--quiet")
    cmd = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--standalone",
        f"--nproc_per_node={args.gpus}",
        "-m",
        "gankit",
        *argv,
    ]
    log.info("launching: %s", " ".join(cmd))
    return subprocess.call(cmd)


def run(args) -> int:
    from .. import distributed

    if getattr(args, "gpus", 0) and not distributed.launched_by_torchrun():
        return launch_torchrun(args)
    try:
        return _run(args)
    except GankitError as e:
        if distributed.lost_peers():  # a broken process group may abort in its destructors: leave at once
            import os
            import sys

            print(f"gankit: error: {e}", file=sys.stderr, flush=True)
            os._exit(2)
        raise
    finally:
        distributed.shutdown()


def _run(args) -> int:
    from .. import distributed
    from ..api import make_trainer, resume
    from ..config import from_saved, read_toml, to_toml
    from ..run import RunDir

    if args.resume:
        if args.preset or args.config or args.out:
            raise GankitError(
                "--resume RUN continues that run as configured; drop the preset/--config/--out "
                "(only --set train.epochs=/train.steps= and --device may change)"
            )
        run_dir = RunDir.open(args.resume)
        if distributed.launched_by_torchrun():
            _join(from_saved(read_toml(run_dir.config_path)), args)
        trainer = resume(run_dir, args.data_root, args.overrides, args.device, progress=not args.quiet, diagnose=True)
        log.info("resuming %s at step %d of %d", run_dir.path, trainer.pos.step, trainer.total_steps)
    else:
        cfg = resolve_config(args)
        if distributed.launched_by_torchrun():
            _join(cfg, args)
            if not distributed.is_main():  # rank 0 alone writes the run directory
                make_trainer(cfg, None, args.data_root, progress=False).fit()
                distributed.barrier()  # wait for rank 0's report: gloo may abort if a peer leaves first
                return 0
        run_dir = RunDir.create(cfg.name, args.out)
        run_dir.write_text("config.toml", to_toml(cfg))
        try:
            trainer = make_trainer(cfg, run_dir, args.data_root, progress=not args.quiet, diagnose=True)
        except GankitError:  # bad data or settings: leave no empty run directory behind
            run_dir.remove_if_unused()
            raise
        log.info("%s", trainer.describe())
        log.info("run directory: %s", run_dir.path)
    trainer.fit()
    distributed.barrier()  # no rank tears the process group down while another still uses it
    if not distributed.is_main():
        return 0
    last = next((r for r in reversed(run_dir.read_stats()) if "d_loss" in r), {})
    summary = ", ".join(f"{k} {last[k]:.4g}" for k in ("d_loss", "g_loss", "d_real", "d_fake") if k in last)
    log.info("finished %d steps: %s", trainer.pos.step, summary)
    log.info("samples in %s, losses in %s", run_dir.samples_dir, run_dir.loss_plot_path)
    if run_dir.report_path.is_file():
        log.info("report: file://%s", run_dir.report_path.resolve())
    return 0


def _join(cfg, args) -> None:
    """Started by torchrun: join the other processes (NCCL on GPUs, gloo on the CPU)."""
    from .. import distributed

    d = distributed.init_from_env(args.device or cfg.device, cfg.train.dist_timeout)
    if not d.is_main:  # one copy of each log line, from rank 0
        logging.getLogger("gankit").setLevel(logging.WARNING)
