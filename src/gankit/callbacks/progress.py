"""How training reports itself besides the run directory: a progress bar on a terminal, plain
lines in log files (CI, batch jobs, `nohup`), and TensorBoard when it is installed.

    log.progress    auto | bar | plain | off    (--quiet = off; auto = bar on a terminal, else plain)
    log.tensorboard auto | on | off             (auto = on when `pip install 'gankit[tensorboard]'` is done)

Plain mode writes one line per `train.log_every` steps and never a carriage return, so a log file
reads top to bottom. TensorBoard gets every statistic, the metrics of metrics.jsonl and each
epoch's sample grid, in RUN/tb/ (`tensorboard --logdir runs`).
"""

from __future__ import annotations

import json
import sys

from ..errors import GankitError
from ..training.callbacks import Callback


def progress_mode(cfg, progress: bool = True, stream=None) -> str:
    """'bar', 'plain' or 'off' for this config, the --quiet flag and the output stream."""
    mode = cfg.log.progress
    if not progress or mode == "off":
        return "off"
    if mode == "auto":
        stream = stream or sys.stderr
        return "bar" if getattr(stream, "isatty", lambda: False)() else "plain"
    return mode


def tensorboard_available() -> bool:
    try:
        import tensorboard  # noqa: F401
        from torch.utils.tensorboard import SummaryWriter  # noqa: F401
    except ImportError:
        return False
    return True


def standard_callbacks(cfg, run, progress: bool = True) -> list[Callback]:
    callbacks: list[Callback] = []
    if progress_mode(cfg, progress) == "plain":
        callbacks.append(PlainProgress())
    wanted = cfg.log.tensorboard
    if wanted == "on" and not tensorboard_available():
        raise GankitError("log.tensorboard = on, but TensorBoard is not installed: pip install 'gankit[tensorboard]', "
                          "or --set log.tensorboard=off")
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
        left = (f", ~{_duration((total - step) * t.batch_size * t.d_steps / rate)} left"
                if rate > 0 and step < total else "")
        print(f"{trainer.cfg.name} step {step}/{total} ({100 * step / max(total, 1):.0f}%) epoch {record['epoch'] + 1}"
              f" | D {record['d_loss']:.4g} G {record['g_loss']:.4g} D(x) {record['d_real']:.3f}"
              f" D(G(z)) {record['d_fake']:.3f} | {record.get('images_per_s', 0):,.0f} img/s"
              f" | {_duration(elapsed)} elapsed{left}", file=stream, flush=True)


class TensorBoardLog(Callback):
    """Statistics, metrics and sample grids into RUN/tb/ with torch's SummaryWriter."""

    def __init__(self, run):
        self.run = run
        self.writer = None
        self.metrics_offset = 0

    def _open(self, step: int):
        if self.writer is None:
            from torch.utils.tensorboard import SummaryWriter

            # purge_step: after a resume, drop what an interrupted session logged past its checkpoint
            self.writer = SummaryWriter(log_dir=str(self.run.path / "tb"), purge_step=step, flush_secs=30)
        return self.writer

    def on_log(self, trainer, record: dict) -> None:
        w = self._open(record["step"])
        for key, value in record.items():
            if key not in ("step", "epoch") and isinstance(value, (int, float)) and not isinstance(value, bool):
                w.add_scalar(f"train/{key}", value, record["step"])
        self._metrics()

    def on_epoch_end(self, trainer, epoch: int) -> None:
        path = self.run.samples_dir / f"epoch-{epoch:04d}.png"
        if path.is_file():
            import numpy as np
            from PIL import Image

            img = np.asarray(Image.open(path).convert("RGB"))
            self._open(trainer.pos.step).add_image("samples", img, trainer.pos.step, dataformats="HWC")
        self._metrics()

    def on_train_end(self, trainer) -> None:
        self._metrics()
        if self.writer is not None:
            self.writer.close()
            self.writer = None

    def _metrics(self) -> None:
        """Forward the lines added to metrics.jsonl since the last call (whoever wrote them)."""
        path = self.run.path / "metrics.jsonl"
        if self.writer is None or not path.is_file():
            return
        with open(path, "rb") as f:
            f.seek(self.metrics_offset)
            data = f.read()
        end = data.rfind(b"\n") + 1  # leave a half-written last line for next time
        self.metrics_offset += end
        for line in data[:end].splitlines():
            try:
                rec = json.loads(line)
                self.writer.add_scalar(f"metrics/{rec['metric']}", float(rec["value"]), int(rec["step"]))
            except (ValueError, KeyError, TypeError):
                continue
