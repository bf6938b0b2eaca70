"""gankit bench PRESET: images/s of the real training step (after warm-up) and the time of one epoch.

gankit bench dcgan-mnist32 --batch 256 --steps 100 --device cuda
gankit bench dcgan-mnist32 --set speed.amp=off --set speed.compile=off
"""

from __future__ import annotations

from ..errors import GankitError
from .config_args import add_config_arguments, resolve_config


def add_parser(sub) -> None:
    p = sub.add_parser("bench", help="measure training speed (images/s, time of one epoch); writes nothing")
    add_config_arguments(p, set_example="speed.amp=off")
    p.add_argument("--batch", type=int, help="batch size (default: the preset's)")
    p.add_argument("--steps", type=int, default=50, help="timed generator steps (default 50)")
    p.add_argument("--warmup", type=int, default=5, help="untimed steps first (default 5; 20 when compiling)")
    p.add_argument("--device", help="auto | cpu | cuda | cuda:N (overrides the config)")
    p.add_argument("--data-root", help="folder holding mnist/ and fashion-mnist/")
    p.set_defaults(func=run)


def run(args) -> int:
    import torch

    from ..training.experiment import build
    from ..training.loop import Trainer
    from ..training.timing import time_trainer

    if args.steps < 1 or args.warmup < 0:
        raise GankitError("--steps must be at least 1 and --warmup 0 or more")
    if args.batch is not None:
        if args.batch < 1:
            raise GankitError(f"--batch must be at least 1 (got {args.batch})")
        args.overrides = [*args.overrides, f"train.batch_size={args.batch}"]
    cfg = resolve_config(args)
    trainer = Trainer(build(cfg, args.data_root), progress=False)
    warmup = max(args.warmup, 20) if trainer.speed.compile and args.warmup == 5 else args.warmup
    t = time_trainer(trainer, args.steps, warmup)
    epoch = len(trainer.dataset)
    print(f"{cfg.name} on {trainer.device}, batch {cfg.train.batch_size}, {cfg.train.d_steps} D step(s) per G step")
    print(f"settings: {trainer.speed.describe()}, {torch.get_num_threads()} CPU thread(s)")
    print(
        f"{t.steps} steps after {warmup} warm-up: {t.images_per_s:,.0f} images/s; "
        f"one epoch ({epoch:,} images): {epoch / t.images_per_s:,.1f} s"
    )
    return 0
