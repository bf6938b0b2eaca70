"""Faults while training: divergence (NaN/Inf), a full or read-only disk, an untrusted or incompatible
checkpoint. Each must give a clear GankitError and keep the last good checkpoint intact."""

from __future__ import annotations

import errno
import os
import pickle
from pathlib import Path

import pytest
import torch

from gankit import run as run_module
from gankit.api import make_trainer, resume
from gankit.config import load_preset
from gankit.errors import GankitError
from gankit.run import RunDir, atomic_write_bytes, load_checkpoint_file

SMALL = [
    "train.log_every=5",
    "model.hidden=16",
    "train.batch_size=64",
    "data.size=1024",
    "train.sample_grid=20",
    "train.checkpoint_every=5",
]


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """Tiny networks: one thread avoids contention on a busy machine (several times faster)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def small(overrides=(), preset="ring-2d"):
    return load_preset(preset, SMALL + list(overrides))


def trained_run(tmp_path, steps=10) -> RunDir:
    run = RunDir.create("x", tmp_path / "run")
    make_trainer(small([f"train.steps={steps}"]), run, progress=False).fit()
    return run


# ------------------------------------------------------------------ divergence


def test_nan_stop_gives_a_diagnosis_and_keeps_the_last_good_checkpoint(tmp_path):
    # Adam at lr 1e10 really diverges on ring-2d within a few steps
    run = trained_run(tmp_path)
    before = run.checkpoint_path().read_bytes()
    trainer = resume(run, overrides=["train.steps=40"], progress=False)
    for opt in (trainer.opt_g, trainer.opt_d):
        for g in opt.param_groups:
            g["lr"] = 1e10
    with pytest.raises(GankitError) as e:
        trainer.fit()
    msg = str(e.value)
    assert "training diverged" in msg and "non-finite" in msg
    assert "Last finite statistics" in msg and "train.on_nan=rollback" in msg
    assert run.checkpoint_path().read_bytes() == before  # the NaN never reached it
    state = load_checkpoint_file(run.checkpoint_path())
    assert all(torch.isfinite(v).all() for v in state["g"].values() if v.is_floating_point())


def test_nan_rollback_lowers_the_learning_rates_and_finishes(tmp_path):
    cfg = small(
        [
            "train.steps=20",
            "optim.g.lr=1e10",
            "optim.d.lr=1e10",
            "train.on_nan=rollback",
            "train.rollback_lr_factor=1e-8",
            "train.max_rollbacks=2",
        ]
    )
    run = RunDir.create("x", tmp_path / "run")
    trainer = make_trainer(cfg, run, progress=False)
    trainer.fit()
    assert trainer.pos.finished and trainer.pos.step == 20 and trainer.pos.rollbacks >= 1
    lr = trainer.opt_g.param_groups[0]["lr"]
    assert lr == pytest.approx(1e10 * 1e-8**trainer.pos.rollbacks)
    state = load_checkpoint_file(run.checkpoint_path())
    assert state["position"]["rollbacks"] == trainer.pos.rollbacks
    assert state["opt_d"]["param_groups"][0]["lr"] == pytest.approx(lr)  # survives a resume


def test_nan_rollback_is_bounded(tmp_path):
    cfg = small(
        [
            "train.steps=20",
            "optim.g.lr=1e10",
            "optim.d.lr=1e10",
            "train.on_nan=rollback",
            "train.rollback_lr_factor=0.5",
            "train.max_rollbacks=2",
        ]
    )
    trainer = make_trainer(cfg, RunDir.create("x", tmp_path / "run"), progress=False)
    with pytest.raises(GankitError, match=r"after 2 rollback\(s\)"):
        trainer.fit()
    assert trainer.opt_g.param_groups[0]["lr"] == pytest.approx(1e10 * 0.25)


def test_rollback_without_a_run_directory_uses_a_copy_in_memory():
    cfg = small(
        [
            "train.steps=10",
            "optim.g.lr=1e10",
            "optim.d.lr=1e10",
            "train.on_nan=rollback",
            "train.rollback_lr_factor=1e-8",
            "train.max_rollbacks=3",
        ]
    )
    trainer = make_trainer(cfg, None, progress=False)
    trainer.fit()
    assert trainer.pos.rollbacks >= 1 and trainer.pos.finished


def test_non_finite_weights_never_reach_a_checkpoint(tmp_path):
    run = trained_run(tmp_path)
    before = run.checkpoint_path().read_bytes()
    trainer = resume(run, overrides=["train.steps=40"], progress=False)
    with torch.no_grad():
        next(trainer.D.parameters())[0].fill_(float("inf"))
    with pytest.raises(GankitError, match="D's weights became non-finite"):
        trainer.save()
    assert run.checkpoint_path().read_bytes() == before


# ------------------------------------------------------------------ disk full, read-only


@pytest.mark.parametrize(
    "code, words", [(errno.ENOSPC, "the disk is full"), (errno.EROFS, "read-only"), (errno.EACCES, "permission denied")]
)
def test_checkpoint_write_failure_is_clear_and_keeps_the_previous_checkpoint(tmp_path, monkeypatch, code, words):
    run = trained_run(tmp_path)
    before = run.checkpoint_path().read_bytes()
    trainer = resume(run, overrides=["train.steps=40"], progress=False)

    def failing_fsync(fd):
        raise OSError(code, os.strerror(code))

    monkeypatch.setattr(run_module.os, "fsync", failing_fsync)  # the write half-done, then the disk fails
    with pytest.raises(GankitError) as e:
        trainer.fit()
    monkeypatch.undo()
    assert words in str(e.value) and "could not write" in str(e.value) and "intact" in str(e.value)
    assert run.checkpoint_path().read_bytes() == before
    assert load_checkpoint_file(run.checkpoint_path())["position"]["step"] == 10
    assert not list(run.path.rglob(".*.tmp-*"))


def test_sample_image_write_failure_is_clear(tmp_path, monkeypatch):
    run = trained_run(tmp_path)
    trainer = resume(run, overrides=["train.steps=40"], progress=False)
    real_open = open

    def no_space_for_samples(path, mode="r", *a, **k):
        if "w" in mode and "samples" in str(path):
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_open(path, mode, *a, **k)

    monkeypatch.setattr("builtins.open", no_space_for_samples)
    with pytest.raises(GankitError, match="the disk is full"):
        trainer.save_samples(99)
    monkeypatch.undo()
    assert not (run.samples_dir / "epoch-0099.png").exists()
    load_checkpoint_file(run.checkpoint_path())


def test_atomic_write_keeps_the_old_file_when_interrupted(tmp_path, monkeypatch):
    target = tmp_path / "f.bin"
    atomic_write_bytes(target, b"old")

    def interrupted(*a):
        raise KeyboardInterrupt

    monkeypatch.setattr(run_module.os, "replace", interrupted)
    with pytest.raises(KeyboardInterrupt):
        atomic_write_bytes(target, b"new")
    monkeypatch.undo()
    assert target.read_bytes() == b"old"
    assert os.listdir(tmp_path) == ["f.bin"]


def test_stale_temporary_files_from_a_killed_process_are_removed_on_open(tmp_path):
    run = trained_run(tmp_path)
    stale = run.checkpoint_dir / ".last.pt.tmp-999999999"
    stale.write_bytes(b"half a checkpoint")
    RunDir.open(run.path)
    assert not stale.exists()


# ------------------------------------------------------------------ untrusted and incompatible checkpoints


class _Payload:
    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):  # unpickling this would create the marker file
        return (Path.touch, (Path(self.marker),))


@pytest.mark.filterwarnings("ignore:Detected pickle protocol")
@pytest.mark.parametrize("how", ["torch.save", "plain pickle"])
def test_a_malicious_checkpoint_is_refused_without_running_its_code(tmp_path, how):
    marker = tmp_path / "pwned"
    run = RunDir.create("x", tmp_path / "run")
    payload = {"format": 1, "g": _Payload(marker)}
    if how == "torch.save":
        torch.save(payload, run.checkpoint_path())
    else:
        run.checkpoint_path().write_bytes(pickle.dumps(payload))
    # the payload works: an unsafe load would run it
    with pytest.raises(GankitError, match="never runs code"):
        run.load_checkpoint()
    with pytest.raises(GankitError, match="not a loadable gankit checkpoint"):
        load_checkpoint_file(run.checkpoint_path())
    assert not marker.exists()
    pickle.loads(pickle.dumps(_Payload(marker)))  # proof the payload is live when loaded unsafely
    assert marker.exists()


def test_truncated_checkpoint_is_refused_clearly(tmp_path):
    run = trained_run(tmp_path)
    data = run.checkpoint_path().read_bytes()
    run.checkpoint_path().write_bytes(data[: len(data) // 2])
    with pytest.raises(GankitError, match="not a loadable gankit checkpoint"):
        resume(run, progress=False)


def test_incompatible_checkpoint_is_refused_naming_the_difference(tmp_path):
    run = trained_run(tmp_path)
    state = run.load_checkpoint()
    other = make_trainer(small(["model.hidden=32", "train.steps=10"]), None, progress=False)
    with pytest.raises(GankitError, match=r"model\.hidden: checkpoint 16, now 32"):
        other.load_state_dict(state)
    with pytest.raises(GankitError, match=r"not model\.hidden: run 16, asked 32"):
        resume(run, overrides=["model.hidden=32"], progress=False)
    with pytest.raises(GankitError, match=r"model\.g: run 'mlp', asked 'dcgan'"):
        resume(run, overrides=["model.g=dcgan"], progress=False)


# ------------------------------------------------------------------ paths


def test_run_names_from_configs_cannot_escape_the_runs_folder(tmp_path):
    run = RunDir.create("../../escape/../x", root=tmp_path / "runs")
    assert run.path.resolve().parent == (tmp_path / "runs").resolve()
    assert not (tmp_path / "escape").exists()


def test_out_is_resolved(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    run = RunDir.create("x", "sub/../r")
    assert run.path == (tmp_path / "r").resolve()


def test_a_configs_data_root_is_never_written_to(tmp_path, monkeypatch):
    """data.root from a config file is read-only to gankit: no download lands there."""
    from gankit.data import load_dataset

    monkeypatch.delenv("GANKIT_OFFLINE", raising=False)
    calls = []
    monkeypatch.setattr("gankit.data.idx._try_download", lambda name, folder: calls.append(folder) or False)
    cfg = load_preset("dcgan-mnist32", [f"data.root={tmp_path / 'ro'}"])
    with pytest.raises(GankitError, match="Expected these four files"):
        load_dataset(cfg.data)
    assert calls == [] and not (tmp_path / "ro").exists()


def test_stats_write_failure_is_clear(tmp_path, monkeypatch):
    run = trained_run(tmp_path)
    real_open = open

    def no_space_for_stats(path, mode="r", *a, **k):
        if "a" in mode and str(path).endswith("stats.jsonl"):
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_open(path, mode, *a, **k)

    monkeypatch.setattr("builtins.open", no_space_for_stats)
    with pytest.raises(GankitError, match="could not append to .*stats.jsonl: No space left"):
        run.append_stats({"step": 11})
    monkeypatch.undo()
    assert [r["step"] for r in run.read_stats() if "d_loss" in r] == [5, 10]


def test_a_checkpoint_holds_everything_a_resume_needs(tmp_path):
    state = trained_run(tmp_path).load_checkpoint()
    assert {"config", "position", "g", "d", "opt_g", "opt_d", "fixed_noise", "rng"} <= state.keys()
    assert {"step", "epoch", "batch", "finished", "rollbacks"} <= state["position"].keys()
    assert {"python", "numpy", "torch", "cuda"} <= state["rng"].keys()
    assert state["opt_g"]["state"] and state["opt_d"]["state"]  # Adam moments, not just settings
    assert state["config"]["train"]["steps"] == 10
