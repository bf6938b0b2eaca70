"""Shared fixtures. Real data come from ../shared/data (or $GANKIT_DATA); tests that need it skip
with a clear reason when it is absent, except in CI where its absence is a failure."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"

torch.set_num_threads(min(2, os.cpu_count() or 1))


def _data_root() -> Path | None:
    env = os.environ.get("GANKIT_DATA")
    for root in ([Path(env)] if env else []) + [SHARED_DATA]:
        if (root / "mnist" / "train-images-idx3-ubyte.gz").is_file():
            return root
    return None


@pytest.fixture
def one_thread():
    """For tiny networks: one thread is fastest, and far faster on a shared, busy CPU."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="session")
def data_root() -> Path:
    root = _data_root()
    if root is None:
        if os.environ.get("CI"):
            pytest.fail("MNIST not found: CI must provide ../shared/data or $GANKIT_DATA")
        pytest.skip("MNIST not found in ../shared/data or $GANKIT_DATA")
    return root


@pytest.fixture
def image_folder(tmp_path) -> Path:
    """A small folder of generated RGB images in mixed formats and modes."""
    from PIL import Image

    folder = tmp_path / "images"
    (folder / "sub").mkdir(parents=True)
    gen = torch.Generator().manual_seed(0)
    for i in range(24):
        arr = (torch.rand(40 + i, 48, 3, generator=gen) * 255).to(torch.uint8).numpy()
        img = Image.fromarray(arr)
        if i % 4 == 1:
            img = img.convert("L")
        elif i % 4 == 2:
            img = img.convert("RGBA")
        elif i % 4 == 3:
            img = img.convert("P")
        ext = ("png", "jpg", "webp", "png")[i % 4]
        if ext == "jpg" and img.mode not in ("RGB", "L"):
            img = img.convert("RGB")
        img.save(folder / ("sub" if i % 2 else "") / f"img{i}.{ext}")
    (folder / "broken.png").write_bytes(b"not an image")
    return folder
