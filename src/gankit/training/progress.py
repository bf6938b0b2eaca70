"""How a run shows its progress: log.progress = auto | bar | plain | off (--quiet = off; auto = a
bar on a terminal, plain lines otherwise, so a log file reads top to bottom)."""

from __future__ import annotations

import sys


def progress_mode(cfg, progress: bool = True, stream=None) -> str:
    """'bar', 'plain' or 'off' for this config, the --quiet flag and the output stream."""
    mode = cfg.log.progress
    if not progress or mode == "off":
        return "off"
    if mode == "auto":
        stream = stream or sys.stderr
        return "bar" if getattr(stream, "isatty", lambda: False)() else "plain"
    return mode


def progress_bar(cfg, progress: bool, total: int, initial: int):
    """A tqdm bar over the run's steps, or None when progress is not shown as a bar."""
    if progress_mode(cfg, progress) != "bar":
        return None
    from tqdm.auto import tqdm

    return tqdm(
        total=total, initial=initial, desc=cfg.name, unit="step", dynamic_ncols=True, mininterval=0.5, file=sys.stderr
    )
