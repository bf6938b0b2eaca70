"""The decoded-data cache: the same tensors as a fresh decode, atomic entries, and damaged or
unwritable caches cost only time."""

from __future__ import annotations

import os

import pytest
import torch

from gankit.config import load_preset
from gankit.data import load_dataset


def _load(data_root):
    return load_dataset(load_preset("dcgan-mnist32").data, data_root)


def test_second_load_reads_the_cache_and_matches_a_fresh_decode(data_root, tmp_path, monkeypatch):
    monkeypatch.setenv("GANKIT_CACHE", str(tmp_path / "c"))
    first = _load(data_root)
    entries = list((tmp_path / "c").iterdir())
    assert [p.suffix for p in entries] == [".npz"]  # one entry, no temporary file left
    second = _load(data_root)
    assert torch.equal(first.data, second.data) and torch.equal(first.labels, second.labels)
    assert second.data.shape == (60000, 1, 32, 32) and second.data.dtype == torch.uint8


def test_damaged_entry_is_decoded_again(data_root, tmp_path, monkeypatch):
    monkeypatch.setenv("GANKIT_CACHE", str(tmp_path / "c"))
    want = _load(data_root)
    (entry,) = (tmp_path / "c").iterdir()
    entry.write_bytes(entry.read_bytes()[:1000])  # truncated, as by a crash of another writer
    again = _load(data_root)
    assert torch.equal(want.data, again.data)
    assert entry.stat().st_size > 1000  # rewritten whole


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="needs a non-root POSIX user")
def test_unwritable_cache_still_loads(data_root, tmp_path, monkeypatch):
    cache = tmp_path / "ro"
    cache.mkdir(mode=0o500)
    monkeypatch.setenv("GANKIT_CACHE", str(cache))
    assert len(_load(data_root)) == 60000


def test_cache_path_that_is_a_file_still_loads(data_root, tmp_path, monkeypatch):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("GANKIT_CACHE", str(blocker))
    assert len(_load(data_root)) == 60000
