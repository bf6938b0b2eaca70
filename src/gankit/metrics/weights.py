"""Pretrained weights that evaluation needs but gankit does not ship: found in the user cache,
downloaded there on first use, always checked against their SHA-256.

    path = fetch(INCEPTION)     # the file, after its hash was checked; or a GankitError saying what to do

Where a file is looked for, in order: the path in the spec's environment variable (e.g.
$GANKIT_INCEPTION_WEIGHTS), <user cache>/gankit/weights/<file> ($GANKIT_CACHE/weights/ when set),
then torch's hub cache under each name the file is known by (pytorch-fid and torch-fidelity users
already have it there). Nothing is downloaded when $GANKIT_OFFLINE is 1; a failed download or a
wrong hash is an error that names the file, its hash and where to put it. No other file is ever
used in its place.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from ..errors import GankitError

log = logging.getLogger("gankit")


@dataclass(frozen=True)
class WeightsSpec:
    what: str  # for messages: "the FID Inception-v3 weights"
    file: str  # the name in gankit's cache
    sha256: str
    size: int  # bytes, for messages
    urls: tuple[str, ...]  # tried in order
    env: str  # environment variable that points at a local copy
    aliases: tuple[str, ...] = ()  # other names of the same bytes in torch's hub cache


# The Inception-v3 graph of TF's 2015-12-05 release ported to PyTorch (the network behind published
# FIDs); pytorch-fid and torch-fidelity publish the same bytes under two names.
INCEPTION = WeightsSpec(
    what="the FID Inception-v3 weights (TF 2015-12-05 graph, as pytorch-fid, torch-fidelity and clean-fid use)",
    file="pt_inception-2015-12-05-6726825d.pth",
    sha256="6726825d0af5f729cebd5821db510b11b1cfad8faad88a03f1befd49fb9129b2",
    size=95_628_359,
    urls=(
        "https://github.com/mseitzer/pytorch-fid/releases/download/fid_weights/pt_inception-2015-12-05-6726825d.pth",
        "https://github.com/toshas/torch-fidelity/releases/download/v0.2.0/weights-inception-2015-12-05-6726825d.pth",
    ),
    env="GANKIT_INCEPTION_WEIGHTS",
    aliases=("weights-inception-2015-12-05-6726825d.pth",),
)


def weights_dir() -> Path:
    env = os.environ.get("GANKIT_CACHE")
    if env:
        return Path(env).expanduser() / "weights"
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "gankit" / "weights"


def offline() -> bool:
    return os.environ.get("GANKIT_OFFLINE") == "1"


def candidates(spec: WeightsSpec) -> list[Path]:
    """Where the file may be, in the order they are tried."""
    env = os.environ.get(spec.env)
    if env:  # an explicit path is the only place looked at: no surprise from another copy
        return [Path(env).expanduser()]
    import torch

    hub = Path(torch.hub.get_dir()) / "checkpoints"
    return [weights_dir() / spec.file] + [hub / name for name in (spec.file, *spec.aliases)]


def located(spec: WeightsSpec) -> Path | None:
    """The first candidate file that exists (its hash not yet checked), or None."""
    return next((p for p in candidates(spec) if p.is_file()), None)


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def how_to_provide(spec: WeightsSpec) -> str:
    return (
        f"  Download {spec.urls[0]}\n"
        f"  ({spec.size:,} bytes, SHA-256 {spec.sha256}) on a machine with network access and put it at\n"
        f"  {weights_dir() / spec.file}, or point ${spec.env} at the file."
    )


def check(spec: WeightsSpec, path: Path) -> Path:
    got = sha256_of(path)
    if got != spec.sha256:
        raise GankitError(
            f"{path} is not {spec.what}: its SHA-256 is {got}, expected {spec.sha256}. "
            f"Delete it and fetch the file again.\n{how_to_provide(spec)}"
        )
    return path


def download(spec: WeightsSpec, dest: Path) -> Path:
    """Fetch the file into `dest` (atomically: a partial download never takes its name)."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    errors = []
    for url in spec.urls:
        fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=".part-")
        try:
            h = hashlib.sha256()
            with os.fdopen(fd, "wb") as f, urllib.request.urlopen(url, timeout=60) as r:
                for block in iter(lambda: r.read(1 << 20), b""):
                    h.update(block)
                    f.write(block)
            if h.hexdigest() != spec.sha256:
                errors.append(f"{url}: wrong SHA-256 {h.hexdigest()}")
                continue
            os.replace(tmp, dest)
            return dest
        except OSError as e:  # URLError, HTTPError and timeouts are OSErrors
            errors.append(f"{url}: {getattr(e, 'reason', None) or e}")
        finally:
            Path(tmp).unlink(missing_ok=True)
    raise GankitError(f"could not download {spec.what} ({'; '.join(errors)}).\n{how_to_provide(spec)}")


def fetch(spec: WeightsSpec) -> Path:
    """The checked file: found where it is looked for, else downloaded into the user cache."""
    path = located(spec)
    if path is not None:
        return check(spec, path)
    if os.environ.get(spec.env):
        raise GankitError(
            f"${spec.env} points at {os.environ[spec.env]}, which does not exist.\n{how_to_provide(spec)}"
        )
    if offline():
        raise GankitError(
            f"{spec.what} are not here and GANKIT_OFFLINE=1 forbids downloading them "
            f"(looked in: {', '.join(str(p) for p in candidates(spec))}).\n{how_to_provide(spec)}"
        )
    dest = weights_dir() / spec.file
    log.warning("downloading %s (%.0f MB) into %s", spec.what, spec.size / 1e6, dest)
    return download(spec, dest)
