"""Bad data: each case gives a clear GankitError (or is skipped with a warning) and damages nothing."""

from __future__ import annotations

import gzip
import os
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from gankit.cli import main
from gankit.data.folder import load_folder
from gankit.data.idx import ALL_FILES, load_idx_images, parse_idx
from gankit.errors import GankitError


def snapshot(folder: Path) -> dict:
    return {p: p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file() and not p.is_symlink()}


# ------------------------------------------------------------------ IDX data


def test_missing_data_root_names_the_folder_and_the_four_files(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("GANKIT_OFFLINE", "1")
    root = tmp_path / "nowhere"
    code = main(["train", "dcgan-mnist32", "--quiet", "--data-root", str(root), "--out", str(tmp_path / "run")])
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" not in err
    assert str(root / "mnist") in err
    for f in ALL_FILES:
        assert f in err
    assert not root.exists()  # nothing created where the data were looked for
    assert not (tmp_path / "run").exists()  # no empty run directory left behind


def _write_idx_set(folder: Path, images: bytes, labels: bytes | None = None) -> None:
    folder.mkdir(parents=True)
    labels = labels if labels is not None else bytes([0, 0, 8, 1]) + struct.pack(">I", 2) + bytes(2)
    for name in ALL_FILES:
        data = images if "images" in name else labels
        (folder / name).write_bytes(gzip.compress(data))


GOOD_IMAGES = bytes([0, 0, 8, 3]) + struct.pack(">III", 2, 28, 28) + bytes(2 * 28 * 28)


@pytest.mark.parametrize(
    "images, words",
    [
        (GOOD_IMAGES[:-100], "truncated"),
        (b"\x12\x34\x56\x78" + GOOD_IMAGES[4:], "bad magic number"),
        (GOOD_IMAGES[:10], "header is incomplete"),
        (GOOD_IMAGES + b"extra", "trailing bytes"),
    ],
)
def test_broken_idx_files_are_named_and_left_alone(tmp_path, images, words):
    folder = tmp_path / "mnist"
    _write_idx_set(folder, images)
    before = snapshot(tmp_path)
    with pytest.raises(GankitError, match=words) as e:
        load_idx_images("mnist", tmp_path, download=False)
    assert "train-images-idx3-ubyte.gz" in str(e.value)
    assert snapshot(tmp_path) == before


def test_a_cut_off_gzip_file_is_named(tmp_path):
    folder = tmp_path / "mnist"
    _write_idx_set(folder, GOOD_IMAGES)
    path = folder / "train-images-idx3-ubyte.gz"
    path.write_bytes(path.read_bytes()[:30])
    before = snapshot(tmp_path)
    with pytest.raises(GankitError, match="could not be read"):
        load_idx_images("mnist", tmp_path, download=False)
    assert snapshot(tmp_path) == before


def test_images_and_labels_that_do_not_pair_up(tmp_path):
    labels = bytes([0, 0, 8, 1]) + struct.pack(">I", 3) + bytes(3)
    _write_idx_set(tmp_path / "mnist", GOOD_IMAGES, labels)
    with pytest.raises(GankitError, match="do not form an image/label pair"):
        load_idx_images("mnist", tmp_path, download=False)


def test_parse_idx_reads_a_good_file():
    assert parse_idx(GOOD_IMAGES).shape == (2, 28, 28)


# ------------------------------------------------------------------ image folders


def test_empty_image_folder(tmp_path):
    (tmp_path / "imgs").mkdir()
    with pytest.raises(GankitError, match="holds no images"):
        load_folder(tmp_path / "imgs", 32)


def test_missing_image_folder(tmp_path):
    with pytest.raises(GankitError, match="does not exist"):
        load_folder(tmp_path / "nope", 32)


def test_folder_of_only_unreadable_files(tmp_path):
    folder = tmp_path / "imgs"
    folder.mkdir()
    (folder / "a.png").write_bytes(b"not an image")
    (folder / "b.jpg").write_bytes(b"\xff\xd8\xff garbage")
    (folder / "c.webp").write_bytes(b"")
    before = snapshot(folder)
    with pytest.raises(GankitError, match="none of the 3 image files"):
        load_folder(folder, 32)
    assert snapshot(folder) == before


def test_mixed_modes_grey_rgba_palette_16bit_all_load_as_rgb(tmp_path, caplog):
    folder = tmp_path / "imgs"
    folder.mkdir()
    rgb = (np.arange(40 * 40 * 3) % 256).astype(np.uint8).reshape(40, 40, 3)
    Image.fromarray(rgb).save(folder / "rgb.png")
    Image.fromarray(rgb).convert("L").save(folder / "grey.png")
    Image.fromarray(rgb).convert("RGBA").save(folder / "rgba.png")
    Image.fromarray(rgb).convert("P").save(folder / "palette.png")
    Image.fromarray(np.full((40, 40), 65535, dtype=np.uint16)).save(folder / "deep.png")  # 16-bit white
    (folder / "broken.png").write_bytes(b"nope")
    before = snapshot(folder)
    images = load_folder(folder, 32)
    assert images.shape == (5, 3, 32, 32) and images.dtype.is_floating_point is False
    assert Image.open(folder / "deep.png").mode.startswith("I")  # really a 16-bit file
    assert int(images[0].min()) == 255  # the 16-bit white image (sorted first once broken is skipped) stays white
    assert "skipped 1 unreadable" in caplog.text
    assert snapshot(folder) == before


def test_tiny_images_are_scaled_up(tmp_path):
    folder = tmp_path / "imgs"
    folder.mkdir()
    Image.new("RGB", (1, 1), (10, 200, 30)).save(folder / "dot.png")
    images = load_folder(folder, 32)
    assert images.shape == (1, 3, 32, 32)
    assert images[0, :, 16, 16].tolist() == [10, 200, 30]


def _bomb_png(path: Path, side: int = 100_000) -> None:
    """A PNG whose header claims side x side pixels, with almost no data: a decompression bomb."""

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    ihdr = struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")
    )


def test_decompression_bomb_is_skipped_not_decoded(tmp_path, caplog):
    folder = tmp_path / "imgs"
    folder.mkdir()
    _bomb_png(folder / "bomb.png")
    Image.new("RGB", (40, 40)).save(folder / "ok.png")
    images = load_folder(folder, 32)
    assert images.shape == (1, 3, 32, 32)
    assert "skipped 1 unreadable" in caplog.text
    (folder / "ok.png").unlink()
    with pytest.raises(GankitError, match="could be read"):
        load_folder(folder, 32)


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="no symbolic links here")
def test_symlink_loops_do_not_trap_the_scan(tmp_path):
    folder = tmp_path / "imgs"
    (folder / "sub").mkdir(parents=True)
    Image.new("RGB", (40, 40)).save(folder / "sub" / "ok.png")
    os.symlink(folder, folder / "sub" / "loop")  # a folder link back up
    os.symlink(folder / "a.png", folder / "b.png")  # file links in a circle
    os.symlink(folder / "b.png", folder / "a.png")
    images = load_folder(folder, 32)
    assert images.shape == (1, 3, 32, 32)
