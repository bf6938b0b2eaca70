"""Streaming image folders (data.stream): DataLoader workers give the same batches as the in-memory
path, so a streamed run trains bit for bit like an in-memory one; unreadable files are replaced and
reported; `auto` streams only a folder too large for memory."""

from __future__ import annotations

import logging

import pytest
import torch

from gankit.api import make_trainer
from gankit.config import load_preset
from gankit.data import Dataset, DeviceLoader, load_dataset
from gankit.data.stream import FolderFiles, StreamLoader
from gankit.errors import GankitError
from gankit.training.loop import Trainer


@pytest.fixture
def clean_folder(image_folder):
    (image_folder / "broken.png").unlink()  # the in-memory path drops unreadable files: compare without one
    return image_folder


def _data_cfg(folder, stream: str):
    return load_preset("dcgan-rgb", [f"data.root='{folder}'", "data.resolution=32", f"data.stream={stream}"]).data


@pytest.mark.parametrize("workers", [0, 2])
def test_streamed_batches_equal_the_in_memory_ones(clean_folder, workers):
    streamed = load_dataset(_data_cfg(clean_folder, "on"))
    in_memory = load_dataset(_data_cfg(clean_folder, "off"))
    assert isinstance(streamed, FolderFiles) and isinstance(in_memory, Dataset)
    torch.manual_seed(0)
    a = list(StreamLoader(streamed, 8, seed=3, device="cpu", flip=True, workers=workers).epoch(2, start=1))
    torch.manual_seed(0)
    b = list(DeviceLoader(in_memory, 8, seed=3, device="cpu", flip=True).epoch(2, start=1))
    assert len(a) == len(b) == 2  # 24 images, batch 8, from batch 1 on
    for x, y in zip(a, b):
        assert x.shape == (8, 3, 32, 32) and x.dtype == torch.float32
        assert torch.equal(x, y)


def test_streamed_run_trains_exactly_like_an_in_memory_run(clean_folder):
    def train(stream: str) -> Trainer:
        cfg = load_preset(
            "dcgan-rgb",
            [
                f"data.root='{clean_folder}'",
                "data.resolution=32",
                f"data.stream={stream}",
                "data.workers=0",
                "train.batch_size=8",
                "train.steps=3",
                "train.log_every=1",
                "device=cpu",
                "eval.every=0",
            ],
        )
        trainer = make_trainer(cfg, progress=False)
        trainer.fit()
        return trainer

    streamed, in_memory = train("on"), train("off")
    assert isinstance(streamed.dataset, FolderFiles)
    for a, b in zip(streamed.G.state_dict().values(), in_memory.G.state_dict().values()):
        assert torch.equal(a, b)


def test_unreadable_file_is_replaced_by_the_next_and_reported(image_folder, caplog):
    files = load_dataset(_data_cfg(image_folder, "on"))
    broken = [i for i, p in enumerate(files.paths) if p.name == "broken.png"][0]
    with caplog.at_level(logging.WARNING, logger="gankit"):
        image = files[broken]
    assert torch.equal(image, files[(broken + 1) % len(files)])
    assert "broken.png" in caplog.text


def test_folder_of_only_unreadable_files_is_a_clear_error(tmp_path):
    for i in range(3):
        (tmp_path / f"bad{i}.png").write_bytes(b"nope")
    files = load_dataset(_data_cfg(tmp_path, "on"))
    with pytest.raises(GankitError, match="could not be read"):
        files[0]


def test_auto_streams_only_a_folder_over_the_memory_budget(clean_folder, monkeypatch):
    assert isinstance(load_dataset(_data_cfg(clean_folder, "auto")), Dataset)
    monkeypatch.setattr("gankit.data.memory_budget", lambda device=None: 1000)  # bytes: 24 images do not fit
    assert isinstance(load_dataset(_data_cfg(clean_folder, "auto")), FolderFiles)
    assert isinstance(load_dataset(_data_cfg(clean_folder, "off")), Dataset)


def test_bad_worker_count_is_a_clear_error():
    with pytest.raises(GankitError, match="data.workers"):
        load_preset("dcgan-rgb", ["data.workers=-2"])
