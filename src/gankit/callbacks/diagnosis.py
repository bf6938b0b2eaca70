"""The diagnosis during training: a trainer callback that runs the rules of `gankit.diagnosis.rules` on
each new stats record, says so once when a finding starts and once when it clears, records both
in stats.jsonl as {"event": "diagnosis", ...} lines ("change": "start" / "clear", and "end" at the
end of training for each finding still active, with its latest evidence) and sums up at the end.

    gankit.api.make_trainer(cfg, run, callbacks=[DiagnosisCallback(Context.from_config(cfg), run)]).fit()
"""

from __future__ import annotations

import sys

from ..diagnosis.rules import Context, Diagnoser, Finding
from ..errors import GankitError
from ..training.callbacks import Callback
from ..training.experiment import build
from ..training.loop import Trainer


def _say(text: str) -> None:
    from tqdm.auto import tqdm

    tqdm.write(text, file=sys.stderr)  # above the progress bar, not through it


def summary(findings: list[Finding]) -> str:
    if len(findings) == 1 and findings[0].kind == "healthy":
        return "diagnosis: healthy. " + findings[0].message
    if not findings:
        return "diagnosis: no statistics were logged"
    lines = [f"diagnosis: {len(findings)} finding(s) (details: gankit diagnose RUN)"]
    for f in findings:
        until = "end (still active)" if f.active else str(f.end_step)
        lines.append(f"  {f.kind}: steps {f.start_step} - {until}")
        lines.append(f"    remedies: {'; '.join(f.remedies)}")
    return "\n".join(lines)


class DiagnosisCallback(Callback):
    """The live diagnosis. Its measure() adds, at each log, D's outputs on fixed training and
    held-out real images (gankit.diagnosis.overfitting) for the overfitting_d rule; `measure_d`
    False leaves them out."""

    def __init__(
        self,
        ctx: Context | None = None,
        run=None,
        history: list[dict] | None = None,
        verbose: bool = True,
        data_root=None,
        measure_d: bool = True,
    ):
        self.diagnoser = Diagnoser(ctx)
        self.run = run
        self.verbose = verbose
        self.data_root = data_root
        self.measure_d = measure_d
        self._probe = None  # built at the first log: the held-out images are read once
        self._probe_noise = None
        self.detected: dict[str, int] = {}  # kind -> the step at which it was first announced
        for rec in history or []:  # a resumed run: earlier records count, silently
            self.diagnoser.update(rec)

    def measure(self, trainer, record: dict) -> dict | None:
        if not self.measure_d:
            return None
        if getattr(trainer, "num_classes", 0):  # the probe scores D(x) without labels: not for a conditional D yet
            return None
        if self._probe is None:
            import torch

            from ..diagnosis.overfitting import PROBE_IMAGES, build_probe

            self._probe = build_probe(trainer.cfg, trainer.dataset, self.data_root) or False
            self._probe_noise = trainer.noise(PROBE_IMAGES, torch.Generator().manual_seed(trainer.cfg.seed + 3))
        if not self._probe:  # no held-out images (an image folder without diagnosis.holdout)
            return None
        augment = getattr(getattr(trainer, "exp", None), "augment", None)  # D is judged as training sees it
        return self._probe(trainer.D, trainer.generate(self._probe_noise), trainer.objective, augment)

    def _announce(self, events, step: int) -> None:
        for change, finding in events:
            if change == "start":
                self.detected.setdefault(finding.kind, step)
            if self.verbose:
                if change == "start":
                    ev = ", ".join(
                        f"{k} {v:.3g}" if isinstance(v, float) else f"{k} {v}" for k, v in finding.evidence.items()
                    )
                    _say(
                        f"gankit: diagnosis at step {step}: {finding.kind} since step "
                        f"{finding.start_step}. {finding.message} ({ev}). Remedies: {'; '.join(finding.remedies)}"
                    )
                else:
                    _say(
                        f"gankit: diagnosis at step {step}: {finding.kind} cleared "
                        f"(held from step {finding.start_step} to {finding.end_step})"
                    )
            if self.run is not None:
                self.run.append_stats({"event": "diagnosis", "change": change, "step": step, **finding.to_dict()})

    def on_log(self, trainer, record: dict) -> None:
        self._announce(self.diagnoser.update(record), record["step"])

    def on_diverge(self, trainer, record: dict) -> None:
        self.on_log(trainer, record)
        self.on_train_end(trainer)

    def on_train_end(self, trainer) -> None:
        step = self.diagnoser.last_step
        step = step if step is not None else trainer.pos.step
        self._announce(self.diagnoser.finish(), step)
        if self.run is not None:  # the state of each finding still open: its evidence has moved on since "start"
            for finding in self.diagnoser.findings:
                if finding.active:
                    self.run.append_stats({"event": "diagnosis", "change": "end", "step": step, **finding.to_dict()})
        if self.verbose:
            _say("gankit: " + summary(self.diagnoser.result()))

    def findings(self) -> list[Finding]:
        return self.diagnoser.result()


def train_and_diagnose(cfg, data_root=None, verbose: bool = False) -> DiagnosisCallback:
    """Train `cfg` without a run directory and return the diagnosis callback (findings, detection
    steps). A run that diverges to NaN ends early; its diagnosis is still returned."""
    callback = DiagnosisCallback(Context.from_config(cfg), verbose=verbose, data_root=data_root)
    trainer = Trainer(build(cfg, data_root), None, [callback], progress=False)
    try:
        trainer.fit()
    except GankitError:
        if "divergence" not in callback.detected:
            raise
    return callback
