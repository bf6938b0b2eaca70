"""The run directory: one folder per training run, always laid out the same way.

    runs/<preset>-<YYYYmmdd-HHMMSS>/
        config.toml          the resolved config (gankit train --config it to repeat the run)
        stats.jsonl          one line per logged step
        samples/             epoch-0001.png ... from the fixed noise
        losses.png
        checkpoints/last.pt  everything a resume needs

Files are written atomically (temporary file, fsync, rename), so an interrupted write never
leaves a half-written checkpoint, config or image behind.
"""

from __future__ import annotations

import errno
import io
import json
import os
import re
import time
from pathlib import Path

import torch

from .errors import GankitError

CHECKPOINT_FORMAT = 1


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write `data` to `path` so that readers see the old file or the new one, never a mix."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException as e:  # also a second Ctrl-C: never leave the temporary file behind
        try:
            tmp.unlink()
        except OSError:
            pass
        if not isinstance(e, OSError):
            raise
        reason = {
            errno.ENOSPC: "the disk is full",
            errno.EROFS: "the file system is read-only",
            errno.EACCES: "permission denied",
            errno.EDQUOT: "the disk quota is exceeded",
        }.get(e.errno, e.strerror or str(e))
        raise GankitError(
            f"could not write {path}: {reason}. Any earlier version of the file is intact; "
            "free some space or choose another --out, then resume."
        ) from None
    try:  # make the rename itself durable
        fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
    except OSError:
        pass


def read_jsonl(path: Path) -> list[dict]:
    """The records (JSON objects) of a JSON-lines file; a line cut short by a kill is skipped."""
    path = Path(path)
    if not path.is_file():
        return []
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            rec = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(rec, dict):
            out.append(rec)
    return out


def append_jsonl(path: Path, records: list[dict]) -> None:
    """Append records, one JSON line each (NaN allowed: a diverged loss is logged as it was)."""
    path = Path(path)
    try:
        with open(path, "a", encoding="utf-8") as f:
            f.write("".join(json.dumps(r, allow_nan=True) + "\n" for r in records))
    except OSError as e:
        raise GankitError(f"could not append to {path}: {e.strerror or e}") from None


class RunDir:
    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)

    # -- layout
    @property
    def config_path(self) -> Path:
        return self.path / "config.toml"

    @property
    def stats_path(self) -> Path:
        return self.path / "stats.jsonl"

    @property
    def samples_dir(self) -> Path:
        return self.path / "samples"

    @property
    def checkpoint_dir(self) -> Path:
        return self.path / "checkpoints"

    def checkpoint_path(self, name: str = "last") -> Path:
        return self.checkpoint_dir / f"{name}.pt"

    def sample_path(self, epoch: int) -> Path:
        return self.samples_dir / f"epoch-{epoch:04d}.png"

    def sample_paths(self) -> list[Path]:
        """The per-epoch sample grids, in epoch order."""
        return sorted(self.samples_dir.glob("epoch-*.png")) if self.samples_dir.is_dir() else []

    @property
    def metrics_path(self) -> Path:
        return self.path / "metrics.jsonl"

    @property
    def loss_plot_path(self) -> Path:
        return self.path / "losses.png"

    @property
    def report_path(self) -> Path:
        return self.path / "report.html"

    @property
    def tensorboard_dir(self) -> Path:
        return self.path / "tb"

    # -- creation and opening
    @classmethod
    def create(cls, name: str, out: str | os.PathLike | None = None, root: str | os.PathLike = "runs") -> RunDir:
        """A new run directory: `out` if given (must be new or empty), else runs/<name>-<time>."""
        if out:
            path = Path(out).expanduser().resolve()
            if path.exists() and (not path.is_dir() or any(path.iterdir())):
                raise GankitError(
                    f"--out {path} already exists and is not empty; choose a new folder, "
                    f"or continue that run with: gankit train --resume {path}"
                )
        else:
            stamp = time.strftime("%Y%m%d-%H%M%S")
            # the name comes from a config: keep it one plain folder name inside `root`
            name = re.sub(r"[^A-Za-z0-9._-]+", "-", name).lstrip(".-") or "run"
            path = Path(root) / f"{name}-{stamp}"
            n = 2
            while path.exists():
                path = Path(root) / f"{name}-{stamp}-{n}"
                n += 1
        try:
            for sub in (path, path / "samples", path / "checkpoints"):
                sub.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise GankitError(f"could not create the run directory {path}: {e.strerror or e}") from None
        return cls(path)

    @classmethod
    def open(cls, path: str | os.PathLike, need_checkpoint: bool = True) -> RunDir:
        run = cls(path)
        if not run.path.is_dir():
            raise GankitError(f"run directory {run.path} does not exist")
        if need_checkpoint and not run.checkpoint_path("last").is_file():
            raise GankitError(
                f"{run.path} holds no checkpoint (checkpoints/last.pt); "
                "it is not a gankit run, or it stopped before its first checkpoint"
            )
        run.remove_stale_temporaries()
        return run

    def remove_if_unused(self) -> None:
        """Delete a run directory that holds nothing but its config (training never started)."""
        expected = {self.config_path, self.samples_dir, self.checkpoint_dir}
        try:
            entries = set(self.path.iterdir())
            if entries <= expected and not any(self.samples_dir.iterdir()) and not any(self.checkpoint_dir.iterdir()):
                for p in (self.config_path,):
                    p.unlink(missing_ok=True)
                for d in (self.samples_dir, self.checkpoint_dir, self.path):
                    d.rmdir()
        except OSError:
            pass  # best effort: never fail the real error because of the tidying

    def remove_stale_temporaries(self) -> None:
        """Delete temporary files a killed process left half-written (the real files are intact)."""
        for folder in (self.path, self.samples_dir, self.checkpoint_dir):
            for tmp in folder.glob(".*.tmp-*") if folder.is_dir() else ():
                try:
                    pid = int(tmp.name.rsplit("-", 1)[1])
                    os.kill(pid, 0)  # its writer still runs (another process on this run): leave it
                    if pid != os.getpid():
                        continue
                except (ValueError, ProcessLookupError):
                    pass
                except PermissionError:
                    continue
                try:
                    tmp.unlink()
                except OSError:
                    pass

    # -- writing
    def write_text(self, relpath: str, text: str) -> None:
        atomic_write_bytes(self.path / relpath, text.encode("utf-8"))

    def append_stats(self, record: dict) -> None:
        append_jsonl(self.stats_path, [record])

    def truncate_stats(self, step: int) -> None:
        """Keep only the records up to `step` (on resume or rollback those after it are logged again)."""
        if not self.stats_path.is_file():
            return
        lines = self.stats_path.read_text(encoding="utf-8").splitlines()
        kept = []
        for line in lines:
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                continue  # a line cut short by a kill
            if not isinstance(record, dict) or record.get("step", 0) <= step:
                kept.append(line)
        if kept != lines:
            atomic_write_bytes(self.stats_path, "".join(s + "\n" for s in kept).encode("utf-8"))

    def read_stats(self) -> list[dict]:
        return read_jsonl(self.stats_path)

    def read_metrics(self) -> list[dict]:
        return read_jsonl(self.metrics_path)

    def save_checkpoint(self, state: dict, name: str = "last") -> Path:
        buf = io.BytesIO()
        torch.save({"format": CHECKPOINT_FORMAT, **state}, buf)
        path = self.checkpoint_path(name)
        atomic_write_bytes(path, buf.getvalue())
        return path

    def load_checkpoint(self, name: str = "last", map_location="cpu") -> dict:
        return load_checkpoint_file(self.checkpoint_path(name), map_location)


def load_checkpoint_file(path: Path, map_location="cpu") -> dict:
    """Load a checkpoint without ever executing code from it (weights_only=True)."""
    path = Path(path)
    if not path.is_file():
        raise GankitError(f"checkpoint {path} does not exist")
    try:
        state = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as e:  # unpickling refused, truncated zip, ...
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise GankitError(
            f"{path} is not a loadable gankit checkpoint ({first[:300]}). It may be damaged, "
            "or come from elsewhere; gankit only loads plain tensors and never runs code "
            "stored in a checkpoint."
        ) from None
    if not isinstance(state, dict) or state.get("format") != CHECKPOINT_FORMAT:
        raise GankitError(
            f"{path} is not a gankit checkpoint (format {state.get('format') if isinstance(state, dict) else '?'})"
        )
    return state
