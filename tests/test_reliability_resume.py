"""Exact resume: a run killed (SIGKILL) or interrupted (SIGINT) and resumed ends with bitwise the same
weights as the same run left alone (CPU, deterministic settings)."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from gankit.cli import main
from gankit.run import RunDir, load_checkpoint_file

# small and quick: 128 batches an epoch, checkpoints at a period that does not divide it. The
# interrupted run is started with no end in sight (so it is still running when the signal comes, however
# fast the machine); it is then resumed to END steps (at least one epoch boundary after the kill),
# and compared with a run of END steps left alone.
RING = [
    "train.log_every=50",
    "train.checkpoint_every=15",
    "model.hidden=32",
    "train.batch_size=64",
    "data.size=8192",
    "train.sample_grid=100",
    "train.epochs=100000",
]
ENDLESS = ["train.steps=10000000"]


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """One thread here and in the subprocesses: the same arithmetic in both, and no thread contention
    on a busy machine (tiny networks gain nothing from more)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def _sets(overrides):
    return [a for o in overrides for a in ("--set", o)]


def _env():
    env = dict(os.environ, OMP_NUM_THREADS=str(torch.get_num_threads()), GANKIT_OFFLINE="1")
    env["PYTHONPATH"] = str(Path(__file__).resolve().parents[1] / "src") + os.pathsep + env.get("PYTHONPATH", "")
    return env


def max_weight_difference(a: Path, b: Path) -> float:
    sa, sb = load_checkpoint_file(a), load_checkpoint_file(b)
    worst = 0.0
    for net in ("g", "d"):
        assert sa[net].keys() == sb[net].keys()
        for k in sa[net]:
            worst = max(
                worst, (sa[net][k].double() - sb[net][k].double()).abs().max().item() if sa[net][k].numel() else 0.0
            )
    return worst


_references: dict[int, Path] = {}


def reference(tmp_path_factory, steps: int) -> Path:
    """The same run, uninterrupted, to `steps` (in this process, cached per length)."""
    if steps not in _references:
        out = tmp_path_factory.mktemp("ref") / "run"
        assert main(["train", "ring-2d", "--quiet", "--out", str(out)] + _sets(RING + [f"train.steps={steps}"])) == 0
        _references[steps] = out
    return _references[steps]


def resume_to_the_end(out: Path, killed_at: int) -> int:
    end = max(200, killed_at + 140)  # past at least one epoch boundary after the kill
    assert main(["train", "--resume", str(out), "--quiet", "--set", f"train.steps={end}"]) == 0
    return end


def _start(out: Path) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "gankit", "train", "ring-2d", "--quiet", "--out", str(out)] + _sets(RING + ENDLESS)
    return subprocess.Popen(cmd, env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _wait_for_checkpoint(proc: subprocess.Popen, out: Path, timeout: float = 120) -> None:
    end = time.monotonic() + timeout
    while not (out / "checkpoints" / "last.pt").is_file():
        if proc.poll() is not None:
            pytest.fail(f"training ended before its first checkpoint: {proc.communicate()[1][-2000:]}")
        if time.monotonic() > end:
            proc.kill()
            pytest.fail("no checkpoint within the time limit")
        time.sleep(0.01)


def test_sigkill_at_a_random_step_then_resume_is_bitwise_identical(tmp_path, tmp_path_factory, capsys):
    out = tmp_path / "run"
    proc = _start(out)
    _wait_for_checkpoint(proc, out)
    time.sleep(random.uniform(0.0, 1.0))  # a random moment: mid-step, mid-checkpoint, between logs
    assert proc.poll() is None, "the run finished before it could be killed; make it longer"
    proc.send_signal(signal.SIGKILL)
    proc.communicate()
    killed_at = load_checkpoint_file(out / "checkpoints" / "last.pt")["position"]["step"]
    assert killed_at > 0
    end = resume_to_the_end(out, killed_at)
    assert "Traceback" not in capsys.readouterr().err
    ref = reference(tmp_path_factory, end)
    difference = max_weight_difference(ref / "checkpoints" / "last.pt", out / "checkpoints" / "last.pt")
    with capsys.disabled():  # shown with pytest -s
        print(f"\nSIGKILL: last checkpoint at step {killed_at}; max |weight difference| after resume: {difference}")
    assert difference == 0.0
    # no temporary file survives, and the statistics hold each step once
    assert not list(out.rglob(".*.tmp-*"))
    steps = [r["step"] for r in RunDir(out).read_stats() if "d_loss" in r]
    assert steps == sorted(set(steps)) and steps[-1] == end


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_sigint_checkpoints_prints_the_resume_hint_and_resumes_identically(tmp_path, tmp_path_factory, capsys, sig):
    out = tmp_path / "run"
    proc = _start(out)
    _wait_for_checkpoint(proc, out)
    assert proc.poll() is None
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 2, err
    assert "Traceback" not in err
    assert "interrupted at step" in err and f"gankit train --resume {out}" in err
    state = load_checkpoint_file(out / "checkpoints" / "last.pt")
    assert not state["position"]["finished"]
    end = resume_to_the_end(out, state["position"]["step"])
    capsys.readouterr()
    ref = reference(tmp_path_factory, end)
    assert max_weight_difference(ref / "checkpoints" / "last.pt", out / "checkpoints" / "last.pt") == 0.0


def test_second_ctrl_c_stops_at_once_and_leaves_files_intact(tmp_path):
    """Two SIGINTs in a row: the process ends at once (status 130), every file it wrote is whole."""
    out = tmp_path / "run"
    proc = _start(out)
    _wait_for_checkpoint(proc, out)
    proc.send_signal(signal.SIGINT)
    time.sleep(0.005)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    # 130: stopped by the second Ctrl-C; 2: the first one's checkpoint finished before the second arrived
    assert proc.returncode in (130, 2), err
    assert "Traceback" not in err
    load_checkpoint_file(out / "checkpoints" / "last.pt")  # loadable
    assert not list(out.rglob(".*.tmp-*"))


def test_a_ctrl_c_while_the_first_ones_outcome_is_reported_exits_130_without_a_traceback(monkeypatch, capsys):
    """The race the two-SIGINT test can hit: the second Ctrl-C lands while main() prints the first
    one's "interrupted ... a checkpoint was written" error; entry() still ends with 130 and one line."""
    import gankit.cli as cli

    def reporting_when_interrupted(argv=None):
        try:
            raise cli.GankitError("interrupted at step 18; a checkpoint was written")
        except cli.GankitError:
            raise KeyboardInterrupt from None  # arrives inside main()'s except clause

    monkeypatch.setattr(cli, "main", reporting_when_interrupted)
    handler = signal.getsignal(signal.SIGINT)
    try:
        assert cli.entry() == 130
    finally:
        signal.signal(signal.SIGINT, handler)  # entry() arms a hard exit for the interpreter's shutdown
    err = capsys.readouterr().err
    assert "stopped at once (Ctrl-C)" in err and "Traceback" not in err


@pytest.mark.slow  # MNIST load and the end-of-run metrics: minutes on a busy 2-core machine
def test_resume_equality_dcgan_mnist32_dropout_and_batchnorm(tmp_path, data_root, capsys):
    """Dropout and batch norm draw on the RNG and carry running statistics: resume must restore both."""
    sets = _sets(
        [
            "train.steps=6",
            "train.batch_size=8",
            "data.split=test",
            "train.log_every=1",
            "train.sample_grid=4",
            "train.checkpoint_every=1",
        ]
    )
    common = ["--quiet", "--data-root", str(data_root), "--device", "cpu"]
    assert main(["train", "dcgan-mnist32", "--out", str(tmp_path / "a")] + common + sets) == 0
    # the same run stopped after step 3 (as an interrupt would), then resumed
    b = tmp_path / "b"
    assert main(["train", "dcgan-mnist32", "--out", str(b)] + common + sets + ["--set", "train.steps=3"]) == 0
    assert main(["train", "--resume", str(b), "--quiet", "--data-root", str(data_root), "--set", "train.steps=6"]) == 0
    capsys.readouterr()
    assert max_weight_difference(tmp_path / "a" / "checkpoints" / "last.pt", b / "checkpoints" / "last.pt") == 0.0
    # batch-norm running statistics are part of it
    sa = load_checkpoint_file(tmp_path / "a" / "checkpoints" / "last.pt")
    assert any("running_mean" in k for k in sa["g"])
