"""Training from Python, exactly as `gankit train` does it on the command line.

    import gankit
    run = gankit.train(gankit.load_preset("ring-2d", ["train.epochs=5"]))    # -> RunDir
    run = gankit.train(cfg, G=my_generator, D=my_critic, data=my_uint8_images)
    trainer = gankit.resume("runs/ring-2d-20261123-101500"); trainer.fit()

make_trainer() is the one place a Trainer is put together from a config: the experiment from
training.experiment.build, the progress/TensorBoard/report callbacks, and (with diagnose=True,
as `gankit train` and train() use it) the live diagnosis and the metrics.
"""

from __future__ import annotations

import logging

from . import config as C
from . import distributed
from .callbacks import basic_callbacks, default_callbacks
from .callbacks.balance import with_balance
from .errors import GankitError
from .run import RunDir
from .training.experiment import build
from .training.loop import Trainer

log = logging.getLogger("gankit")

RESUMABLE = {
    "train.epochs",
    "train.steps",
    "device",
    "log.tensorboard",
    "log.progress",
    "train.on_nan",
    "train.max_rollbacks",
    "train.rollback_lr_factor",
    "train.dist_timeout",
    "speed.amp",
    "speed.channels_last",
    "speed.compile",
    "speed.fused_adam",
    "speed.cuda_graphs",
    "data.stream",
    "data.workers",
}  # what may change on resume: the end, the device, how it is logged, speed


def make_trainer(
    cfg: C.Config,
    run: RunDir | None = None,
    data_root=None,
    progress: bool = True,
    callbacks=None,
    diagnose: bool = False,
    history: list[dict] | None = None,
    **parts,
) -> Trainer:
    """A Trainer for `cfg` writing into `run` (None: nothing written). `parts` (G, D, loss, data)
    replace what the config would build; `callbacks` are added to the standard ones; diagnose adds
    the live diagnosis and the training-time metrics."""
    exp = build(cfg, data_root, **parts)
    # metrics score against the config's data set: not a reference for a user's own tensor
    metrics = parts.get("data") is None
    if diagnose and not metrics and cfg.eval.every:
        log.info(
            "metrics during training are off: data= replaces the config's data set, which the metrics "
            "would have used as their reference"
        )
    if exp.cfg is not cfg:  # model.conditional resolved from the data (true/auto): the run keeps what it trains
        cfg = exp.cfg
        _write_classes(run, exp)
    extra = [*(default_callbacks(cfg, run, data_root, history, metrics) if diagnose else []), *(callbacks or [])]
    extra = with_balance(cfg, extra, run, data_root, history=history)  # train.balance = auto: after the diagnosis
    return Trainer(exp, run, basic_callbacks(cfg, run, progress, extra), progress)


def _write_classes(run: RunDir | None, exp) -> None:
    """A conditional run's resolved config.toml and its class names (classes.json, in label order)."""
    import json

    from .generation.sampling import CLASSES_FILE, class_names

    if run is None or not distributed.is_main():
        return
    run.write_text("config.toml", C.to_toml(exp.cfg))
    if exp.cfg.model.conditional == "true":
        names = getattr(exp.dataset, "classes", None) or class_names(run.path, exp.cfg)
        run.write_text(CLASSES_FILE, json.dumps(list(names)[: exp.cfg.model.num_classes]))


def train(cfg: C.Config, out=None, data_root=None, progress: bool = False, callbacks=None, **parts) -> RunDir:
    """Train `cfg` into a new run directory (`out`, or runs/<name>-<time>) and return it: the same
    run directory `gankit train` leaves (samples, stats, metrics, diagnosis, checkpoints, report).
    G, D, loss and data may be your own (see make_trainer)."""
    run = RunDir.create(cfg.name, out)
    run.write_text("config.toml", C.to_toml(cfg))
    try:
        trainer = make_trainer(cfg, run, data_root, progress, callbacks, diagnose=True, **parts)
    except GankitError:  # bad data or settings: leave no empty run directory behind
        run.remove_if_unused()
        raise
    trainer.fit()
    return run


def resume(
    run: RunDir | str,
    data_root=None,
    overrides: list[str] | None = None,
    device: str | None = None,
    progress: bool = True,
    callbacks=None,
    diagnose: bool = False,
    **parts,
) -> Trainer:
    """A trainer restored from `run`'s last checkpoint. Only the end of training (train.epochs,
    train.steps), the device, logging and speed settings may change on resume. A run trained with
    your own parts (G, D, loss, data) resumes with the same parts passed again."""
    run = run if isinstance(run, RunDir) else RunDir.open(run)
    state = run.load_checkpoint()
    saved = state["config"]
    data = C.apply_overrides(C.from_saved(saved).to_dict(), overrides or [])
    # against the saved config with today's defaults filled in: keys added since it was saved are no change
    before = C.flatten(C.from_saved(saved).to_dict())
    changed = {k for k, v in C.flatten(data).items() if before.get(k) != v} - RESUMABLE
    if changed:
        now = C.flatten(data)
        diff = "; ".join(f"{k}: run {before.get(k)!r}, asked {now[k]!r}" for k in sorted(changed))
        raise GankitError(
            f"on resume only {', '.join(sorted(RESUMABLE))} may change; not {diff}. "
            "Start a new run for a different configuration."
        )
    if device:
        data["device"] = device
    cfg = C.from_saved(data)
    # the diagnosis (and the balance controller) go on from the earlier records
    history = run.read_stats() if diagnose or cfg.train.balance == "auto" else None
    trainer = make_trainer(cfg, run, data_root, progress, callbacks, diagnose=diagnose, history=history, **parts)
    trainer.load_state_dict(state)
    if trainer.pos.step < trainer.total_steps:
        trainer.pos.finished = False
    if not distributed.is_main():  # the other ranks only read the run
        return trainer
    run.truncate_stats(trainer.pos.step)  # steps logged after the checkpoint are trained, and logged, again
    if cfg != C.from_saved(saved):
        run.write_text("config.toml", C.to_toml(cfg))
    return trainer
