"""Several processes on the CPU (gloo), as CI can run them: DDP keeps the ranks identical and
equal to one process training the same global batch; runs resume across world sizes; a rank that
dies stops the others with a clear error. Every process uses one thread."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

REPO = Path(__file__).resolve().parents[1]
WORKER = Path(__file__).with_name("distributed_worker.py")
QUIET = ["--quiet", "--set", "eval.every=0", "--set", "log.tensorboard=off", "--set", "device=cpu"]


def _env(**extra) -> dict:
    env = dict(os.environ, OMP_NUM_THREADS="1", GANKIT_OFFLINE="1")
    env["PYTHONPATH"] = str(REPO / "src") + os.pathsep + env.get("PYTHONPATH", "")
    for k in ("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT"):
        env.pop(k, None)
    return {**env, **extra}


def _torchrun(n: int) -> list[str]:
    return [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={n}"]


def _call(cmd: list[str], timeout: float = 120) -> subprocess.CompletedProcess:
    p = subprocess.run(cmd, env=_env(), capture_output=True, text=True, timeout=timeout, cwd=REPO)
    assert p.returncode == 0, f"{' '.join(cmd)} failed:\n{p.stderr[-3000:]}"
    return p


def _max_diff(a: dict, b: dict) -> float:
    return max((a[k].float() - b[k].float()).abs().max().item() for k in a if a[k].is_floating_point())


SGD = ["optim.g.kind=sgd", "optim.d.kind=sgd", "optim.g.lr=0.05", "optim.d.lr=0.05", "data.split=test"]
TOY_JOBS = [
    {"name": "ring", "preset": "ring-2d", "overrides": ["train.steps=12"]},
    # the gradient penalty: a double backward through the plain D, its weights drawn for the global batch
    {"name": "ring-gp", "preset": "ring-2d", "overrides": ["train.steps=6", "loss.kind=wgan-gp"]},
    # AC-GAN: D's class head runs outside DDP's forward (D.classify); its gradients and those of
    # the layers under it reach the all-reduce through the parameters' summed gradients (were
    # they not, the ranks would part at the first step). PyTorch's default init and a lower rate:
    # under He init D's first gradients are ~1e4, whose float32 rounding (2^-8) alone moves the
    # weights 2e-4 apart between the two runs; here rounding leaves 3e-5 after 4 steps (TOLERANCE)
    {
        "name": "acgan",
        "preset": "acgan-mnist",
        "overrides": ["train.steps=4", "model.init=default", *SGD, "optim.g.lr=0.01", "optim.d.lr=0.01"],
    },
]
IMAGE_JOBS = [
    # dropout off (each rank draws its own masks) and batch norm in eval mode: exact equivalence.
    # SGD, not Adam: Adam's m/sqrt(v) turns rounding noise in near-zero gradients into lr-sized steps
    {
        "name": "dcgan",
        "preset": "dcgan-mnist32",
        "overrides": ["train.steps=4", "model.dropout=0", *SGD],
        "bn_eval": True,
    },
    # batch norm as trained (per-rank statistics): the ranks stay identical, the single run differs
    {"name": "dcgan-bn", "preset": "dcgan-mnist32", "overrides": ["train.steps=4", "model.dropout=0", *SGD]},
]
STEPS = {"ring": 12, "ring-gp": 6, "acgan": 4, "dcgan": 4, "dcgan-bn": 4}
TOLERANCE = {"acgan": 1e-4}  # measured: rounding in the 1024-wide MNIST MLPs grows to 3e-5 over 4 steps


def _train_jobs(out: Path, data_root: Path, jobs: list[dict]) -> Path:
    started = time.perf_counter()
    _call(_torchrun(2) + [str(WORKER), str(out), str(data_root), json.dumps(jobs)])
    _call([sys.executable, str(WORKER), str(out), str(data_root), json.dumps(jobs)])
    print(f"\n2 processes + 1 process, {len(jobs)} jobs: {time.perf_counter() - started:.1f} s")
    return out


@pytest.fixture(scope="module")
def toy(tmp_path_factory, data_root):
    return _train_jobs(tmp_path_factory.mktemp("ddp-toy"), data_root, TOY_JOBS)


@pytest.fixture(scope="module")
def images(tmp_path_factory, data_root):
    return _train_jobs(tmp_path_factory.mktemp("ddp-images"), data_root, IMAGE_JOBS)


def _check_ranks_identical(out: Path) -> None:
    results = json.loads((out / "results-world2.json").read_text())
    for name, r in results.items():
        print(f"{name}: largest weight difference between ranks after any step {r['rank_spread']:.3g}")
        assert r["rank_spread"] == 0.0, name
        assert r["steps"] == STEPS[name]


def _check_equal_to_one_process(out: Path, name: str) -> None:
    two, one = (torch.load(out / f"{name}-world{w}.pt", weights_only=True) for w in (2, 1))
    diff = max(_max_diff(two["g"], one["g"]), _max_diff(two["d"], one["d"]))
    print(f"{name}: max |w(2 processes) - w(1 process)| = {diff:.3g}")
    assert diff < TOLERANCE.get(name, 1e-5)


def test_ranks_stay_identical_after_every_step(toy):
    _check_ranks_identical(toy)


@pytest.mark.parametrize("name", ["ring", "ring-gp", "acgan"])
def test_two_processes_equal_one_with_the_same_global_batch(toy, name):
    _check_equal_to_one_process(toy, name)


@pytest.mark.slow  # about a minute and a half on two busy CPU cores
def test_dcgan_ranks_identical_and_equal_to_one_process(images):
    _check_ranks_identical(images)
    _check_equal_to_one_process(images, "dcgan")
    two, one = (torch.load(images / f"dcgan-bn-world{w}.pt", weights_only=True) for w in (2, 1))
    diff = max(_max_diff(two["g"], one["g"]), _max_diff(two["d"], one["d"]))
    print(f"dcgan-bn (per-rank batch statistics): max |w2 - w1| = {diff:.3g}")
    assert 1e-4 < diff < 0.05  # also shows the equivalence check can see a change of semantics


def _train(out: Path, steps: int, processes: int, resume: bool) -> None:
    cmd = [sys.executable, "-m", "gankit", "train"]
    if processes > 1:  # torchrun directly, or through gankit train --gpus N
        cmd = cmd + [f"--gpus={processes}"] if resume else _torchrun(processes) + ["-m", "gankit", "train"]
    cmd += ["--resume", str(out)] if resume else ["ring-2d", "--out", str(out)]
    _call(cmd + QUIET + ["--set", f"train.steps={steps}"] + ([] if resume else ["--set", "train.checkpoint_every=10"]))


def _weights(out: Path) -> dict:
    state = torch.load(out / "checkpoints" / "last.pt", weights_only=True)
    return {**{f"g.{k}": v for k, v in state["g"].items()}, **{f"d.{k}": v for k, v in state["d"].items()}}


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    out = tmp_path_factory.mktemp("ref") / "run"
    _train(out, 20, 1, resume=False)
    return _weights(out)


@pytest.mark.parametrize("first,then", [(2, 1), (1, 2)])
def test_resume_on_another_number_of_processes(tmp_path, reference, first, then):
    out = tmp_path / "run"
    _train(out, 10, first, resume=False)
    assert {"checkpoints", "config.toml", "samples", "stats.jsonl"} <= {p.name for p in out.iterdir()}
    _train(out, 20, then, resume=True)
    state = torch.load(out / "checkpoints" / "last.pt", weights_only=True)
    assert state["position"]["step"] == 20 and state["position"]["finished"]
    steps = [r["step"] for r in (json.loads(line) for line in (out / "stats.jsonl").read_text().splitlines())]
    assert steps == sorted(set(steps)), "rank 0 alone logs, each step once"
    diff = _max_diff(_weights(out), reference)
    print(f"{first} then {then} processes vs 1 process throughout: max weight difference {diff:.3g}")
    assert diff < 1e-5


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_a_dead_rank_stops_the_other_with_a_clear_error(tmp_path):
    port = _free_port()
    procs = []
    for rank in (0, 1):
        env = _env(
            RANK=str(rank),
            LOCAL_RANK=str(rank),
            WORLD_SIZE="2",
            MASTER_ADDR="127.0.0.1",
            MASTER_PORT=str(port),
            GANKIT_TEST_DIE_AT="1:3",
        )
        cmd = [
            sys.executable,
            "-m",
            "gankit",
            "train",
            "ring-2d",
            "--out",
            str(tmp_path / "run"),
            *QUIET,
            "--set",
            "train.steps=1000",
            "--set",
            "train.dist_timeout=20",
        ]
        procs.append(
            subprocess.Popen(cmd, env=env, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        )
    started = time.perf_counter()
    try:
        _, err0 = procs[0].communicate(timeout=90)
        _, err1 = procs[1].communicate(timeout=30)
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
    waited = time.perf_counter() - started
    print(f"rank 1 died at step 3; rank 0 stopped after {waited:.1f} s: {err0.strip().splitlines()[-1]}")
    assert procs[1].returncode == 17, err1[-2000:]
    assert procs[0].returncode == 2, err0[-2000:]
    assert "lost contact with the other processes" in err0 and "Traceback" not in err0
