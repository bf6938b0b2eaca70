"""What a training run reports, as callbacks (gankit.training.callbacks.Callback):

    progress      plain progress lines (the bar itself belongs to the loop)
    tensorboard   statistics, metrics and sample grids into RUN/tb/
    diagnosis     the live diagnosis: findings as they start and clear
    evaluation    metrics every eval.every epochs, best.pt
    report        losses.png and report.html at the end

default_callbacks() is the set `gankit train` and gankit.train() use.
"""

from __future__ import annotations

from ..diagnosis.rules import Context
from .diagnosis import DiagnosisCallback
from .evaluation import EvalCallback
from .progress import standard_callbacks
from .report import LossPlot, ReportPage


def basic_callbacks(cfg, run, progress: bool = True, extra=()) -> list:
    """`extra`, progress lines and TensorBoard, then the loss plot and the report page (last)."""
    return [*extra, *standard_callbacks(cfg, run, progress), LossPlot(), ReportPage()]


def default_callbacks(cfg, run, data_root=None, history: list[dict] | None = None, metrics: bool = True) -> list:
    """The diagnosis (going on from `history`, a resumed run's earlier records) and the metrics."""
    return [
        DiagnosisCallback(Context.from_config(cfg), run, history=history, data_root=data_root),
        *([EvalCallback(cfg, data_root)] if metrics else []),
    ]
