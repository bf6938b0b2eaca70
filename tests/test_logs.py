"""Progress output for terminals and log files, and TensorBoard logging."""

from __future__ import annotations

import io
import json
import sys

import pytest

from gankit.api import make_trainer
from gankit.callbacks.progress import PlainProgress, progress_mode, standard_callbacks
from gankit.config import load_preset
from gankit.errors import GankitError
from gankit.run import RunDir

TINY = ["train.steps=4", "train.log_every=2", "data.size=1024", "train.sample_grid=100", "device=cpu"]


class Tty(io.StringIO):
    def isatty(self):
        return True


def test_progress_mode_follows_the_terminal_and_the_settings():
    cfg = load_preset("ring-2d")
    assert progress_mode(cfg, True, Tty()) == "bar"
    assert progress_mode(cfg, True, io.StringIO()) == "plain"  # a file or a pipe
    assert progress_mode(cfg, False, Tty()) == "off"  # --quiet
    assert progress_mode(load_preset("ring-2d", ["log.progress=plain"]), True, Tty()) == "plain"
    assert progress_mode(load_preset("ring-2d", ["log.progress=off"]), True, io.StringIO()) == "off"


def test_plain_mode_writes_one_line_per_log_interval_and_no_carriage_return(tmp_path, capfd):
    cfg = load_preset("ring-2d", TINY + ["log.progress=plain", "log.tensorboard=off"])
    make_trainer(cfg, RunDir.create(cfg.name, tmp_path / "run"), progress=True).fit()
    err = capfd.readouterr().err
    assert "\r" not in err
    lines = [ln for ln in err.splitlines() if " step " in ln]
    assert [ln.split()[2] for ln in lines] == ["2/4", "4/4"]
    assert "D(G(z))" in lines[0] and "img/s" in lines[0] and "left" in lines[0] and "left" not in lines[1]


def test_plain_progress_line_format():
    class T:  # the little of a trainer the line needs
        total_steps = 100
        cfg = load_preset("ring-2d", ["train.log_every=10"])

    out = io.StringIO()
    cb = PlainProgress(out)
    for step in (10, 20):
        cb.on_log(
            T,
            {
                "step": step,
                "epoch": 0,
                "d_loss": 1.25,
                "g_loss": 0.5,
                "d_real": 0.6,
                "d_fake": 0.4,
                "images_per_s": 1234.5,
                "elapsed_s": step * 6.0,
            },
        )
    first, second = out.getvalue().splitlines()
    assert first.startswith("ring-2d step 10/100 (10%) epoch 1 | D 1.25 G 0.5 D(x) 0.600 D(G(z)) 0.400 | 1,234 img/s")
    assert second.endswith("| 2:00 elapsed, ~0:16 left")  # 80 steps x 256 images at 1234.5 images/s


def test_tensorboard_on_without_the_package_is_an_error_auto_is_silent(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "torch.utils.tensorboard", None)  # import fails as if not installed
    run = RunDir.create("x", tmp_path / "run")
    with pytest.raises(GankitError, match="gankit\\[tensorboard\\]"):
        standard_callbacks(load_preset("ring-2d", ["log.tensorboard=on"]), run)
    assert standard_callbacks(load_preset("ring-2d"), run, progress=False) == []


def test_tensorboard_gets_scalars_metrics_and_sample_grids(tmp_path):
    pytest.importorskip("tensorboard", reason="pip install 'gankit[tensorboard]'")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    cfg = load_preset(
        "ring-2d", TINY + ["train.epochs=1", "data.size=2048", "train.batch_size=256", "log.tensorboard=on"]
    )
    run = RunDir.create(cfg.name, tmp_path / "run")
    (run.path / "metrics.jsonl").write_text(json.dumps({"step": 2, "metric": "modes", "value": 5}) + "\n")
    make_trainer(cfg, run, progress=False).fit()
    events = EventAccumulator(str(run.path / "tb"), size_guidance={"images": 0, "scalars": 0})
    events.Reload()
    tags = events.Tags()
    assert "train/d_loss" in tags["scalars"] and "train/images_per_s" in tags["scalars"]
    assert [e.step for e in events.Scalars("train/g_loss")] == [2, 4]
    assert [e.value for e in events.Scalars("metrics/modes")] == [5.0]
    assert tags["images"] == ["samples"] and events.Images("samples")[0].width > 100


def test_logging_settings_may_change_on_resume(tmp_path):
    from gankit.api import resume

    cfg = load_preset("ring-2d", TINY + ["log.tensorboard=off"])
    run = RunDir.create(cfg.name, tmp_path / "run")
    make_trainer(cfg, run, progress=False).fit()
    trainer = resume(run, overrides=["train.steps=6", "log.progress=plain"], progress=False)
    assert trainer.cfg.log.progress == "plain" and trainer.pos.step == 4
    with pytest.raises(GankitError, match="may change"):
        resume(run, overrides=["train.steps=6", "optim.d.lr=0.1"])
