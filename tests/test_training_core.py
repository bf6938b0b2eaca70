"""The training core by its parts: one step against a hand-written pytorch/examples-style step
(bitwise), the schedule, the running statistics, the Python API against the command line, and a
user's own networks and data."""

from __future__ import annotations

import copy
import json

import pytest
import torch
import torch.nn.functional as F
from tiny import tiny_config
from torch import nn

import gankit
from gankit.api import make_trainer
from gankit.cli import main
from gankit.errors import GankitError
from gankit.run import RunDir
from gankit.training.experiment import build
from gankit.training.loop import Trainer
from gankit.training.running_stats import RunningStats
from gankit.training.schedule import Schedule


def test_one_step_equals_a_hand_written_dcgan_style_step(one_thread):
    """The trainer's d-first step is exactly pytorch/examples' dcgan step: D on real (label 1) and
    detached fake (label 0), summed BCE, Adam step; then G's non-saturating BCE through the updated D."""
    trainer = Trainer(build(tiny_config()), progress=False)
    G, D = copy.deepcopy(trainer.G), copy.deepcopy(trainer.D)
    opt_g = torch.optim.Adam(G.parameters(), lr=1e-3, betas=(0.5, 0.999), foreach=True)
    opt_d = torch.optim.Adam(D.parameters(), lr=1e-3, betas=(0.5, 0.999), foreach=True)
    real = next(iter(trainer.loader.epoch(0)))
    for seed in (1, 2, 3):
        torch.manual_seed(seed)
        trainer.train_group([real])

        torch.manual_seed(seed)
        fake = G(torch.randn(len(real), 2))
        opt_d.zero_grad()
        out_real, out_fake = D(real), D(fake.detach())
        err_d = F.binary_cross_entropy_with_logits(
            out_real, torch.ones_like(out_real)
        ) + F.binary_cross_entropy_with_logits(out_fake, torch.zeros_like(out_fake))
        err_d.backward()
        opt_d.step()
        opt_g.zero_grad()
        out = D(fake)
        F.binary_cross_entropy_with_logits(out, torch.ones_like(out)).backward()
        opt_g.step()
    for mine, theirs in ((trainer.G, G), (trainer.D, D)):
        for (name, a), b in zip(mine.state_dict().items(), theirs.state_dict().values()):
            assert torch.equal(a, b), name


def test_schedule_groups_batches_into_steps_and_ends_epochs():
    t = tiny_config(
        ["train.d_steps=3", "train.d_steps_start=5", "train.d_steps_start_for=2", "train.steps=0", "train.epochs=2"]
    ).train
    s = Schedule(t, batches_per_epoch=16)  # epoch 1: 5 + 5 + 3 + 3 (2 batches left over), epoch 2: 5 x 3
    assert s.total_steps == 2 + 2 + 5 == s.steps_in_epochs(2)

    class Loader:
        def epoch(self, epoch, start=0):
            return iter([(epoch, b) for b in range(start, 16)])

    got = []
    for step, epoch, first, group in s.groups(Loader(), 0, 0, 0):
        got.append((step, epoch, first, len(group)))
        if step == 6:
            break
    assert got == [(0, 0, 0, 5), (1, 0, 5, 5), (2, 0, 10, 3), (3, 0, 13, 3), (4, 1, 0, 3), (5, 1, 3, 3), (6, 1, 6, 3)]
    assert s.lr_scale(3) is None
    cosine = Schedule(tiny_config(["train.lr_schedule=cosine", "train.steps=10"]).train, 16)
    assert cosine.lr_scale(0) == 1.0 and cosine.lr_scale(5) == pytest.approx(0.5) and cosine.lr_scale(10) == 0.0


def test_running_stats_mean_min_max_and_reset():
    stats = RunningStats("cpu")
    for v in (1.0, 3.0, 2.0):
        stats.add(
            "d",
            d_loss=torch.tensor(v),
            d_real=torch.tensor(0.5),
            d_fake=torch.tensor(0.25),
            d_acc=torch.tensor(1.0),
            d_grad_norm=torch.tensor(v),
        )
    stats.add("g", g_loss=torch.tensor(4.0), g_grad_norm=torch.tensor(1.0))
    out = stats.read_and_reset()
    assert out["d_loss"] == 2.0 and out["d_loss_min"] == 1.0 and out["d_loss_max"] == 3.0
    assert out["g_loss"] == 4.0 and out["g_loss_min"] == out["g_loss_max"] == 4.0
    again = stats.read_and_reset()
    assert again["d_loss"] == 0.0 and again["d_loss_min"] == float("inf") and stats.counts == {"d": 0, "g": 0}


def _files(path):
    return sorted(str(p.relative_to(path)) for p in path.rglob("*") if p.is_file() and "tb" not in p.parts)


def test_python_train_does_what_the_command_line_does(tmp_path, one_thread):
    sets = ["train.steps=0", "train.epochs=2", "eval.every=1", "log.progress=off"]
    cfg = tiny_config(sets)
    run = gankit.train(cfg, out=tmp_path / "api")
    argv = ["train", "ring-2d", "--out", str(tmp_path / "cli"), "--quiet"]
    for s in [*__import__("tiny").TINY, *sets]:
        argv += ["--set", s]
    assert main(argv) == 0
    cli = tmp_path / "cli"
    assert _files(run.path) == _files(cli)
    assert {"checkpoints/best.pt", "metrics.jsonl", "report.html", "losses.png"} <= set(_files(cli))
    a = torch.load(run.checkpoint_path(), weights_only=True)
    b = torch.load(cli / "checkpoints" / "last.pt", weights_only=True)
    assert all(torch.equal(a["g"][k], b["g"][k]) for k in a["g"])
    timing = {"images_per_s", "elapsed_s"}

    def records(lines):
        return [{k: v for k, v in r.items() if k not in timing} for r in lines]

    cli_records = [json.loads(line) for line in (cli / "stats.jsonl").read_text().splitlines()]
    assert records(cli_records) == records(run.read_stats())  # statistics and diagnosis events alike
    assert [r["metric"] for r in run.read_metrics()] == [r["metric"] for r in RunDir(cli).read_metrics()]


def test_own_networks_loss_and_data_from_python(tmp_path, one_thread):
    """A user's G, D and tensor data train into the same run directory the presets get."""
    gen = torch.Generator().manual_seed(0)
    points = torch.randn(512, 3, generator=gen) * 0.1 + torch.tensor([1.0, -1.0, 0.5])
    G = nn.Sequential(nn.Linear(2, 32), nn.ReLU(), nn.Linear(32, 3))
    D = nn.Sequential(nn.Linear(3, 32), nn.LeakyReLU(0.2), nn.Linear(32, 1))
    cfg = tiny_config(["train.steps=6", "eval.every=0"])
    run = gankit.train(cfg, out=tmp_path / "own", G=G, D=D, data=points)
    assert run.checkpoint_path().is_file() and run.report_path.is_file()
    state = torch.load(run.checkpoint_path(), weights_only=True)
    assert torch.equal(state["g"]["0.weight"], G[0].weight.detach())
    assert len([r for r in run.read_stats() if "d_loss" in r]) == 3
    trainer = make_trainer(cfg, G=G, D=D, data=points)
    assert trainer.dataset.sample_shape == (3,) and trainer.G is G
    with pytest.raises(GankitError, match=r"must be \(N, C, H, W\)"):
        make_trainer(cfg, data=torch.zeros(4, 3, dtype=torch.uint8))


def test_the_torch_free_names_list_every_toy_set():
    from gankit.data.toy import TOY_SETS
    from gankit.names import TOY_DATA

    assert set(TOY_SETS) == set(TOY_DATA)


@pytest.mark.parametrize("order", ["d-first", "g-first"])
def test_g_steps_updates_g_that_many_times_per_step_on_fresh_noise(one_thread, order):
    def trained(g_steps):
        t = make_trainer(tiny_config([f"train.g_steps={g_steps}", f"train.order={order}", "train.steps=3"]), None)
        t.fit()
        return t

    once, twice = trained(1), trained(2)
    adam_steps = [int(s["step"]) for s in twice.opt_g.state_dict()["state"].values()]
    assert adam_steps and set(adam_steps) == {6}  # 3 steps x 2 G updates
    assert {int(s["step"]) for s in twice.opt_d.state_dict()["state"].values()} == {3}  # D's are unchanged
    assert twice.pos.step == once.pos.step == 3
    assert any(not torch.equal(a, b) for a, b in zip(once.G.state_dict().values(), twice.G.state_dict().values()))
    with pytest.raises(GankitError, match="train.g_steps must be at least 1"):
        tiny_config(["train.g_steps=0"])
