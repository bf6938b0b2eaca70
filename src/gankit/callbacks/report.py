"""The run's pictures and page as callbacks: the loss plot and report.html, written at the end
of training (the page last, so final metrics and findings from the other callbacks are on it)."""

from __future__ import annotations

import logging

from ..plots import save_loss_plot
from ..reports.page import write_report
from ..training.callbacks import Callback

log = logging.getLogger("gankit")


class LossPlot(Callback):
    def on_train_end(self, trainer) -> None:
        if trainer.run:
            save_loss_plot(trainer.run.read_stats(), trainer.run.loss_plot_path)


class ReportPage(Callback):
    def on_train_end(self, trainer) -> None:
        if not trainer.run:
            return
        try:
            write_report(trainer.run.path)
        except Exception as e:  # the run itself is saved; a page is not worth failing it for
            log.warning("could not write report.html (%s); write it with: gankit report %s", e, trainer.run.path)
