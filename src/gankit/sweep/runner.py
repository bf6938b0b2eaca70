"""Train a preset over many seeds into one folder, resumably.

    DIR/sweep.json     what is swept: preset or config file, the --set overrides, the seeds asked
    DIR/seed-N/        one ordinary run directory per seed (gankit train --out DIR/seed-N)

A seed is finished when its checkpoint's position says so. Running the same sweep again skips the
finished seeds, resumes an interrupted one with `gankit train --resume`, and starts over a seed
that stopped before its first checkpoint. Seeds are trained by `train(argv)`, which the command
passes in (the train command itself: the very code path of `gankit train`), or, for the toy MLP
presets, together as one vectorised model (batched.py) unless batching is turned off.
"""

from __future__ import annotations

import json
import logging
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import GankitError
from ..run import RunDir, atomic_write_bytes

log = logging.getLogger("gankit")
SPEC_FILE = "sweep.json"


@dataclass
class SweepSpec:
    preset: str | None
    config: str | None  # an absolute path when the sweep runs a config file
    overrides: list[str] = field(default_factory=list)

    def train_argv(self) -> list[str]:
        argv = ["train"] + ([self.preset] if self.preset else ["--config", self.config])
        for o in self.overrides:
            argv += ["--set", o]
        return argv

    def same_as(self, other: SweepSpec) -> bool:
        return (self.preset, self.config, list(self.overrides)) == (other.preset, other.config, list(other.overrides))

    def describe(self) -> str:
        what = self.preset or f"--config {self.config}"
        return " ".join([what, *(f"--set {o}" for o in self.overrides)])


class SweepDir:
    def __init__(self, path):
        self.path = Path(path)

    @property
    def spec_path(self) -> Path:
        return self.path / SPEC_FILE

    @classmethod
    def is_sweep(cls, path) -> bool:
        return (Path(path) / SPEC_FILE).is_file()

    def seed_path(self, seed: int) -> Path:
        return self.path / f"seed-{seed}"

    def read(self) -> dict:
        try:
            return json.loads(self.spec_path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as e:
            raise GankitError(f"{self.spec_path} cannot be read ({e}); it is not a gankit sweep") from None

    def spec(self) -> SweepSpec:
        data = self.read()
        return SweepSpec(data.get("preset"), data.get("config"), list(data.get("overrides", [])))

    def seeds(self) -> list[int]:
        """The seeds asked for last, else every seed-N folder present."""
        asked = self.read().get("seeds")
        if asked:
            return [int(s) for s in asked]
        return sorted(int(p.name[5:]) for p in self.path.glob("seed-*") if p.name[5:].isdigit())

    @classmethod
    def open_or_create(cls, path, spec: SweepSpec, seeds: list[int]) -> SweepDir:
        sweep = cls(path)
        if sweep.spec_path.is_file():
            before = sweep.spec()
            if not before.same_as(spec):
                raise GankitError(
                    f"{sweep.path} holds another sweep ({before.describe()}), not {spec.describe()}; "
                    "continue that one with its own settings, or choose a new --out"
                )
        elif sweep.path.exists() and (not sweep.path.is_dir() or any(sweep.path.iterdir())):
            raise GankitError(f"--out {sweep.path} exists and is not a sweep folder; choose a new --out")
        try:
            sweep.path.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise GankitError(f"could not create the sweep folder {sweep.path}: {e.strerror or e}") from None
        record = {
            "preset": spec.preset,
            "config": spec.config,
            "overrides": list(spec.overrides),
            "seeds": seeds,
            "updated": time.strftime("%Y-%m-%dT%H:%M:%S"),
        }
        atomic_write_bytes(sweep.spec_path, (json.dumps(record, indent=2) + "\n").encode("utf-8"))
        return sweep

    def status(self, seed: int) -> str:
        """finished | partial (a checkpoint short of the end) | empty (no checkpoint yet) | new."""
        path = self.seed_path(seed)
        if not path.exists():
            return "new"
        run = RunDir(path)
        if not run.checkpoint_path("last").is_file():
            return "empty"
        try:
            position = run.load_checkpoint().get("position", {})
        except GankitError:
            return "empty"  # a damaged checkpoint: the seed is trained again
        return "finished" if position.get("finished") else "partial"


@dataclass
class Outcome:
    trained: list[int] = field(default_factory=list)
    resumed: list[int] = field(default_factory=list)
    skipped: list[int] = field(default_factory=list)
    batched: list[int] = field(default_factory=list)
    failed: dict[int, str] = field(default_factory=dict)


def run_sweep(
    sweep: SweepDir,
    spec: SweepSpec,
    cfg,
    seeds: list[int],
    train: Callable[[list[str]], int],
    batch: bool = True,
    data_root=None,
    quiet: bool = True,
) -> Outcome:
    """Train every seed not yet finished; returns what was done to which seed."""
    out = Outcome()
    extra = (["--data-root", str(data_root)] if data_root else []) + (["--quiet"] if quiet else [])
    fresh = []
    for seed in seeds:
        state = sweep.status(seed)
        if state == "finished":
            out.skipped.append(seed)
        elif state == "partial":
            log.info("seed %d: resuming %s", seed, sweep.seed_path(seed))
            _record(out, seed, train(["train", "--resume", str(sweep.seed_path(seed)), *extra]), out.resumed)
        else:
            if state == "empty":  # stopped before its first checkpoint: nothing to keep
                shutil.rmtree(sweep.seed_path(seed))
            fresh.append(seed)
    if batch and len(fresh) > 1:
        fresh = _train_batched(sweep, cfg, fresh, data_root, out)
    for seed in fresh:
        log.info("seed %d: gankit %s", seed, " ".join(spec.train_argv()))
        argv = spec.train_argv() + ["--set", f"seed={seed}", "--out", str(sweep.seed_path(seed)), *extra]
        _record(out, seed, train(argv), out.trained)
    return out


def _record(out: Outcome, seed: int, rc: int, done: list[int]) -> None:
    if rc == 0:
        done.append(seed)
    else:
        out.failed[seed] = f"gankit train exited with status {rc} (its message is above)"


def _train_batched(sweep: SweepDir, cfg, seeds: list[int], data_root, out: Outcome) -> list[int]:
    """Train `seeds` as one vectorised group where the config allows; returns the seeds left to train
    one by one (all of them when it does not apply)."""
    from .batched import BatchedSeeds, unsupported

    reason = unsupported(cfg)
    if reason:
        log.info("seeds one after another: %s", reason)
        return seeds
    log.info(
        "seeds %s: trained at once as one vectorised model (--no-batch trains them one by one)",
        ", ".join(map(str, seeds)),
    )
    started = time.perf_counter()
    group = BatchedSeeds(cfg, seeds, data_root)
    runs = {s: RunDir.create(cfg.name, sweep.seed_path(s)) for s in seeds}
    group.fit()
    finished = group.write_runs(runs)
    out.batched += finished
    out.trained += finished
    for seed, why in group.diverged.items():
        out.failed[seed] = why
    log.info("batched group: %d seeds, %d steps each, in %.1f s", len(seeds), group.step, time.perf_counter() - started)
    return []
