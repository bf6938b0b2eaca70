"""The everyday path through the command line: train -> resume -> sample, and the data-root error."""

from __future__ import annotations

import numpy as np
from tiny import train

from gankit.cli import main
from gankit.run import RunDir


def test_train_resume_and_sample(tmp_path, one_thread, capsys):
    run = tmp_path / "ring"
    sets = ["data.size=2560", "train.epochs=1", "train.log_every=5", "log.progress=off", "eval.every=0"]
    assert train("ring-2d", run, *sets, quiet=True) == 0
    first = RunDir.open(run).load_checkpoint()
    assert first["position"]["step"] == 10 and first["position"]["finished"]
    for name in ("config.toml", "stats.jsonl", "losses.png", "samples/epoch-0001.png", "checkpoints/last.pt"):
        assert (run / name).is_file(), name

    # resume continues from the saved step to the new end
    assert main(["train", "--resume", str(run), "--set", "train.epochs=2", "--quiet"]) == 0
    resumed = RunDir.open(run).load_checkpoint()
    assert resumed["position"]["step"] == 20
    assert [s["step"] for s in RunDir(run).read_stats() if "d_loss" in s] == [5, 10, 15, 20]
    assert (run / "samples" / "epoch-0002.png").is_file()

    # the same seed gives the same samples; another seed gives others
    a, b, c = (tmp_path / f"{n}.npy" for n in "abc")
    for out, seed in ((a, 1), (b, 1), (c, 2)):
        assert main(["sample", str(run), "--n", "50", "--seed", str(seed), "--out", str(out)]) == 0
    xa, xb, xc = np.load(a), np.load(b), np.load(c)
    assert xa.shape == (50, 2) and xa.dtype == np.float32
    assert np.array_equal(xa, xb) and not np.array_equal(xa, xc)
    assert main(["sample", str(run), "--n", "100", "--out", str(tmp_path / "plot.png")]) == 0
    assert (tmp_path / "plot.png").stat().st_size > 0


def test_sample_writes_uint8_images_and_a_grid(tmp_path, data_root, one_thread):
    run = tmp_path / "mlp"
    assert (
        train("mlp-mnist", run, "train.steps=2", "eval.every=0", "log.progress=off", data_root=data_root, quiet=True)
        == 0
    )
    assert main(["sample", str(run), "--n", "16", "--out", str(tmp_path / "s.npy")]) == 0
    x = np.load(tmp_path / "s.npy")
    assert x.shape == (16, 1, 28, 28) and x.dtype == np.uint8
    assert main(["sample", str(run), "--n", "16", "--out", str(tmp_path / "grid.png")]) == 0
    from PIL import Image

    assert Image.open(tmp_path / "grid.png").size[0] > 28 * 4


def test_missing_data_names_the_folder_and_the_files(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("GANKIT_OFFLINE", "1")
    code = main(
        ["train", "dcgan-mnist32", "--data-root", str(tmp_path / "nowhere"), "--out", str(tmp_path / "r"), "--quiet"]
    )
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" not in err
    assert str(tmp_path / "nowhere" / "mnist") in err
    for name in (
        "train-images-idx3-ubyte.gz",
        "train-labels-idx1-ubyte.gz",
        "t10k-images-idx3-ubyte.gz",
        "t10k-labels-idx1-ubyte.gz",
    ):
        assert name in err
