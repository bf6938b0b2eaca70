"""MNIST and Fashion-MNIST from the standard gzipped IDX files.

The data root is, in order: the `--data-root` flag, `$GANKIT_DATA`, the user cache
(~/.cache/gankit). Each data set lives in `<root>/<name>/`. Missing files are fetched
through torchvision when the network allows; otherwise the error names the folder and
the four files it expects.
"""

from __future__ import annotations

import gzip
import math
import os
from pathlib import Path

import numpy as np
import torch

from ..errors import GankitError

FILES = {
    "train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
    "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
}
ALL_FILES = FILES["train"] + FILES["test"]
IDX_DTYPES = {
    0x08: np.uint8,
    0x09: np.int8,
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}


def default_data_root() -> Path:
    env = os.environ.get("GANKIT_DATA")
    if env:
        return Path(env).expanduser()
    cache = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(cache) / "gankit"


def read_idx(path: Path) -> np.ndarray:
    """Decode one IDX file (gzipped or plain); malformed files raise GankitError naming the file."""
    path = Path(path)
    try:
        raw = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
    except (OSError, EOFError, gzip.BadGzipFile) as e:
        raise GankitError(f"{path} could not be read ({e}); delete it and fetch the data set again") from None
    return parse_idx(raw, str(path))


def parse_idx(raw: bytes, name: str = "IDX data") -> np.ndarray:
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in IDX_DTYPES or raw[3] == 0:
        raise GankitError(f"{name} is not an IDX file (bad magic number); delete it and fetch the data set again")
    dtype, ndim = np.dtype(IDX_DTYPES[raw[2]]), raw[3]
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise GankitError(f"{name} is truncated (its header is incomplete); delete it and fetch the data set again")
    dims = [int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim)]
    count = math.prod(dims)  # Python ints: a forged header cannot overflow the count
    if len(raw) - header != count * dtype.itemsize:
        raise GankitError(
            f"{name} is truncated or has trailing bytes: the header announces {dims} values of "
            f"{dtype.itemsize} byte(s) but {len(raw) - header} bytes follow; "
            "delete it and fetch the data set again"
        )
    try:
        return np.frombuffer(raw, dtype=dtype, offset=header).reshape(dims).astype(dtype.newbyteorder("="))
    except ValueError:  # e.g. a zero-sized shape whose other sides exceed what numpy can address
        raise GankitError(
            f"{name} announces an impossible shape {dims}; delete it and fetch the data set again"
        ) from None


def _try_download(name: str, folder: Path) -> bool:
    """Fetch through torchvision into `folder`; False when the network does not allow it."""
    from torchvision import datasets

    cls = {"mnist": datasets.MNIST, "fashion-mnist": datasets.FashionMNIST}[name]
    tmp = folder.parent / f".{name}-download"
    try:
        for train in (True, False):
            cls(str(tmp), train=train, download=True)
    except Exception:  # any network failure means: not available here
        return False
    raw = tmp / cls.__name__ / "raw"
    folder.mkdir(parents=True, exist_ok=True)
    for f in ALL_FILES:
        os.replace(raw / f, folder / f)
    return True


def locate(name: str, root: str | os.PathLike | None, download: bool = True) -> Path:
    """The folder holding data set `name`'s four IDX files; fetches them or explains what is missing."""
    base = Path(root).expanduser() if root else default_data_root()
    folder = base / name
    missing = [f for f in ALL_FILES if not (folder / f).is_file()]
    if missing and download and os.environ.get("GANKIT_OFFLINE") != "1" and _try_download(name, folder):
        missing = [f for f in ALL_FILES if not (folder / f).is_file()]
    if missing:
        raise GankitError(
            f"the {name} data set is not in {folder} and could not be downloaded.\n"
            f"  Expected these four files there: {', '.join(ALL_FILES)}\n"
            f"  Missing: {', '.join(missing)}\n"
            f"  Put them there, or point --data-root (or $GANKIT_DATA) at a folder that has {name}/ inside."
        )
    return folder


def load_idx_images(name: str, root=None, split: str = "train", download: bool = True):
    """(images uint8 (N, 1, 28, 28), labels int64 (N,)) for `split` of MNIST or Fashion-MNIST."""
    folder = locate(name, root, download)
    img_file, lab_file = FILES[split]
    images = read_idx(folder / img_file)
    labels = read_idx(folder / lab_file)
    if images.ndim != 3 or labels.ndim != 1 or len(images) != len(labels):
        raise GankitError(
            f"{folder}: {img_file} and {lab_file} do not form an image/label pair "
            f"(shapes {images.shape} and {labels.shape})"
        )
    return torch.from_numpy(images.copy()).unsqueeze(1), torch.from_numpy(labels.astype(np.int64))
