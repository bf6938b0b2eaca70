"""gankit sweep: seeds trained through `gankit train`, resumable, summarised as mean ± std."""

from __future__ import annotations

import json
import math

import pytest

from gankit.cli import main
from gankit.errors import GankitError
from gankit.reports.compare import load_runs, table
from gankit.sweep.seeds import parse_seeds

TINY = [
    "--set",
    "train.steps=12",
    "--set",
    "train.log_every=4",
    "--set",
    "data.size=1024",
    "--set",
    "log.tensorboard=off",
    "--set",
    "eval.n=500",
]


def test_seed_lists():
    assert parse_seeds("0-3") == [0, 1, 2, 3]
    assert parse_seeds("5, 0-2,1") == [5, 0, 1, 2]
    for bad, match in (("3-1", "backwards"), ("a", "not a seed"), ("", "names no seed"), ("-1", "not a seed")):
        with pytest.raises(GankitError, match=match):
            parse_seeds(bad)


def _summary(out):
    return json.loads((out / "summary.json").read_text())


def test_batched_sweep_summary_and_rerun(tmp_path, capsys, one_thread):
    out = tmp_path / "sw"
    assert main(["sweep", "ring-2d", "--seeds", "0-2", "--out", str(out), *TINY]) == 0
    printed = capsys.readouterr().out
    assert "3 seeds trained (3 of them at once)" in printed and "mean ± std" in printed
    s = _summary(out)
    assert s["finished"] == [0, 1, 2] and s["preset"] == "ring-2d"
    kl = [r["mode_kl"] for r in s["per_seed"]]
    mean = sum(kl) / 3
    assert s["summary"]["mode_kl"]["mean"] == pytest.approx(mean)
    assert s["summary"]["mode_kl"]["std"] == pytest.approx(math.sqrt(sum((v - mean) ** 2 for v in kl) / 2))
    assert s["summary"]["mode_kl"]["min"] == min(kl) and s["summary"]["d_loss"]["n"] == 3
    for seed in range(3):  # each seed is an ordinary run: its own last metric is the row's value
        recs = [json.loads(x) for x in (out / f"seed-{seed}" / "metrics.jsonl").read_text().splitlines()]
        assert [r["value"] for r in recs if r["metric"] == "mode_kl"][-1] == s["per_seed"][seed]["mode_kl"]
        assert (out / f"seed-{seed}" / "report.html").is_file()
    page = (out / "summary.html").read_text()
    assert page.count("<figure class='seed'>") == 3 and "data:image/png;base64," in page and "http" not in page
    stamp = (out / "seed-1" / "checkpoints" / "last.pt").stat().st_mtime_ns
    assert main(["sweep", "ring-2d", "--seeds", "0-2", "--out", str(out), *TINY]) == 0
    again = capsys.readouterr().out
    assert "0 seeds trained" in again and "3 already finished" in again
    assert (out / "seed-1" / "checkpoints" / "last.pt").stat().st_mtime_ns == stamp


def test_an_interrupted_sweep_continues(tmp_path, capsys, one_thread):
    """seed 1 was killed after its checkpoint at step 8; seed 2 before its first checkpoint."""
    from gankit.api import make_trainer
    from gankit.config import load_preset, to_toml
    from gankit.run import RunDir
    from gankit.training.callbacks import Callback

    out = tmp_path / "sw"
    sets = TINY + ["--set", "train.checkpoint_every=8"]
    overrides = [sets[i + 1] for i in range(0, len(sets), 2)]
    assert main(["sweep", "ring-2d", "--seeds", "0", "--out", str(out), "--no-batch", *sets]) == 0

    class Kill(Callback):
        def on_log(self, trainer, record):
            if trainer.pos.step == 12:
                raise KeyboardInterrupt  # as a kill between the step-8 checkpoint and the end

    cfg = load_preset("ring-2d", overrides + ["seed=1"])
    run = RunDir.create("ring-2d", out / "seed-1")
    run.write_text("config.toml", to_toml(cfg))
    with pytest.raises(KeyboardInterrupt):
        make_trainer(cfg, run, progress=False, callbacks=[Kill()]).fit()
    RunDir.create("ring-2d", out / "seed-2").write_text("config.toml", to_toml(cfg.replace(seed=2)))
    capsys.readouterr()
    assert main(["sweep", "ring-2d", "--seeds", "0-2", "--out", str(out), "--no-batch", *sets]) == 0
    printed = capsys.readouterr().out
    assert "1 seeds trained (0 of them at once), 1 resumed, 1 already finished, 0 failed" in printed
    s = _summary(out)
    assert s["finished"] == [0, 1, 2] and all(r["steps"] == 12 for r in s["per_seed"])
    steps = [
        json.loads(x)["step"]
        for x in (out / "seed-1" / "stats.jsonl").read_text().splitlines()
        if "d_loss" in json.loads(x)
    ]
    assert steps == [4, 8, 12]  # the records after the checkpoint were logged again, once


def test_sweep_errors(tmp_path, capsys):
    out = tmp_path / "sw"
    assert main(["sweep", "ring-2d", "--seeds", "0", "--set", "seed=3"]) == 2
    assert "--seeds" in capsys.readouterr().err
    (out).mkdir()
    (out / "sweep.json").write_text(
        json.dumps({"preset": "ring-2d", "config": None, "overrides": ["train.steps=5"], "seeds": [0]})
    )
    assert main(["sweep", "ring-2d", "--seeds", "0", "--out", str(out), "--set", "train.steps=6"]) == 2
    assert "holds another sweep" in capsys.readouterr().err
    assert main(["sweep", "ring-2", "--seeds", "0"]) == 2
    assert "ring-2d" in capsys.readouterr().err  # the near match


def test_compare_reads_a_sweep(tmp_path, capsys, one_thread):
    out = tmp_path / "sw"
    assert main(["sweep", "ring-2d", "--seeds", "0-1", "--out", str(out), *TINY]) == 0
    runs = load_runs([out])
    rows, _ = table(runs)
    assert [r["run"] for r in rows] == ["sw/seed-0", "sw/seed-1", "sw (mean of 2)", "sw (std)"]
    assert rows[2]["modes"] == pytest.approx((rows[0]["modes"] + rows[1]["modes"]) / 2)
    assert main(["compare", str(out), "--out", str(tmp_path / "c.html")]) == 0
    assert "sw (mean of 2)" in capsys.readouterr().out
