"""How training reports itself besides the run directory: a progress bar on a terminal, plain
lines in log files (CI, batch jobs, `nohup`), and TensorBoard when it is installed.

    log.progress    auto | bar | plain | off    (--quiet = off; auto = bar on a terminal, else plain)
    log.tensorboard auto | on | off             (auto = on when `pip install 'gankit[tensorboard]'` is done)

Plain mode writes one line per `train.log_every` steps and never a carriage return, so a log file
reads top to bottom. TensorBoard gets every statistic, the metrics of metrics.jsonl and each
epoch's sample grid, in RUN/tb/ (`tensorboard --logdir runs`).
"""

from __future__ import annotations

import sys

from ..errors import GankitError
from ..training.callbacks import Callback
from ..training.progress import progress_mode
from .tensorboard import TensorBoardLog, tensorboard_available

__all__ = ["PlainProgress", "progress_mode", "standard_callbacks"]


def standard_callbacks(cfg, run, progress: bool = True) -> list[Callback]:
    callbacks: list[Callback] = []
    if progress_mode(cfg, progress) == "plain":
        callbacks.append(PlainProgress())
    wanted = cfg.log.tensorboard
    if wanted == "on" and not tensorboard_available():
        raise GankitError(
            "log.tensorboard = on, but TensorBoard is not installed: pip install 'gankit[tensorboard]', "
            "or --set log.tensorboard=off"
        )
    if run is not None and wanted != "off" and (wanted == "on" or tensorboard_available()):
        callbacks.append(TensorBoardLog(run))
    return callbacks


def _duration(seconds: float) -> str:
    seconds = int(max(seconds, 0))
    h, rest = divmod(seconds, 3600)
    return f"{h}:{rest // 60:02d}:{rest % 60:02d}" if h else f"{rest // 60}:{rest % 60:02d}"


class PlainProgress(Callback):
    """One self-contained line per logged step on stderr."""

    def __init__(self, stream=None):
        self.stream = stream

    def on_log(self, trainer, record: dict) -> None:
        stream = self.stream or sys.stderr
        total, step, t = trainer.total_steps, record["step"], trainer.cfg.train
        elapsed, rate = record.get("elapsed_s", 0.0), record.get("images_per_s", 0.0)
        # time left at the latest pace: each step reads batch_size * d_steps real images
        left = (
            f", ~{_duration((total - step) * t.batch_size * t.d_steps / rate)} left"
            if rate > 0 and step < total
            else ""
        )
        print(
            f"{trainer.cfg.name} step {step}/{total} ({100 * step / max(total, 1):.0f}%) epoch {record['epoch'] + 1}"
            f" | D {record['d_loss']:.4g} G {record['g_loss']:.4g} D(x) {record['d_real']:.3f}"
            f" D(G(z)) {record['d_fake']:.3f} | {record.get('images_per_s', 0):,.0f} img/s"
            f" | {_duration(elapsed)} elapsed{left}",
            file=stream,
            flush=True,
        )
