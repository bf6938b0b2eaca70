"""A disk cache of decoded (and resized) IDX data sets: gunzip + parse + antialiased resize of
60,000 MNIST images takes seconds on a CPU; reading the decoded uint8 arrays back takes a fraction.

Entries live in $GANKIT_CACHE, else <user cache>/gankit/decoded, one .npz per (data set, split,
resolution), named after the source files' size and modification time, so replaced files are
decoded afresh. Entries are written atomically and read with allow_pickle=False; an unreadable
or inconsistent entry is ignored (decoded again), and a cache that cannot be written only costs
the time it would have saved.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
from pathlib import Path

import numpy as np
import torch

log = logging.getLogger("gankit")
VERSION = 1  # bump when the decoding or resizing changes what an entry holds


def cache_dir() -> Path:
    env = os.environ.get("GANKIT_CACHE")
    if env:
        return Path(env).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "gankit" / "decoded"


def _key(name: str, split: str, resolution: int, sources: list[Path]) -> str:
    parts = [str(VERSION), name, split, str(resolution)]
    for p in sources:
        st = p.stat()
        parts += [str(p.resolve()), str(st.st_size), str(st.st_mtime_ns)]
    return f"{name}-{split}-{resolution or 28}-{hashlib.sha256('|'.join(parts).encode()).hexdigest()[:16]}.npz"


def load_cached(name: str, split: str, resolution: int, sources: list[Path], decode):
    """(images, labels) from the cache, or from decode() (then stored for next time)."""
    try:
        path = cache_dir() / _key(name, split, resolution, sources)
    except OSError:
        return decode()
    try:
        with np.load(path, allow_pickle=False) as z:
            images, labels = z["images"], z["labels"]
        if images.dtype == np.uint8 and images.ndim == 4 and labels.ndim == 1 and len(images) == len(labels):
            return torch.from_numpy(images), torch.from_numpy(labels)
    except Exception:  # absent, truncated (BadZipFile), foreign: whatever it is, decode again
        pass
    images, labels = decode()
    _store(path, images, labels)
    return images, labels


def _store(path: Path, images: torch.Tensor, labels: torch.Tensor) -> None:
    tmp = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".npz")
        with os.fdopen(fd, "wb") as f:
            np.savez(f, images=images.numpy(), labels=labels.numpy())
        os.replace(tmp, path)  # readers see the whole entry or none
    except OSError as e:
        log.debug("decoded-data cache not written (%s)", e)
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)
