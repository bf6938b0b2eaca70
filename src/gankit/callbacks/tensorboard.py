"""Statistics, metrics and sample grids into RUN/tb/ with torch's SummaryWriter, when TensorBoard is
installed (pip install 'gankit[tensorboard]'); `tensorboard --logdir runs`."""

from __future__ import annotations

import json

from ..training.callbacks import Callback


def tensorboard_available() -> bool:
    try:
        import tensorboard  # noqa: F401
        from torch.utils.tensorboard import SummaryWriter  # noqa: F401
    except ImportError:
        return False
    return True


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
            self.writer = SummaryWriter(log_dir=str(self.run.tensorboard_dir), purge_step=step, flush_secs=30)
        return self.writer

    def on_log(self, trainer, record: dict) -> None:
        w = self._open(record["step"])
        for key, value in record.items():
            if key not in ("step", "epoch") and isinstance(value, (int, float)) and not isinstance(value, bool):
                w.add_scalar(f"train/{key}", value, record["step"])
        self._metrics()

    def on_epoch_end(self, trainer, epoch: int) -> None:
        path = self.run.sample_path(epoch)
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
        path = self.run.metrics_path
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
