"""The diagnosis on real (short) training runs: each failure is produced by a setting and detected;
the healthy default raises no alarm. scripts/diagnosis_table.py runs the same settings longer,
over several seeds."""

from __future__ import annotations

import json

import pytest

from gankit.callbacks.diagnosis import train_and_diagnose
from gankit.config import load_preset

pytestmark = pytest.mark.usefixtures("one_thread")  # tiny networks (fixture in conftest.py)


BASE = ["train.log_every=10", "data.size=8192", "seed=0"]
D_FAST = ["optim.d.lr=5e-3", "optim.g.lr=1e-4", "train.d_steps=5"]

CASES = {
    "healthy": (100, []),
    "d_overpowering": (50, D_FAST),
    "vanishing_g_gradients": (60, D_FAST + ["loss.g_form=minimax"]),
    "g_overpowering": (60, ["optim.g.lr=1e-2", "optim.d.lr=1e-5"]),
    "divergence": (30, ["optim.g.kind=sgd", "optim.d.kind=sgd", "optim.g.lr=10", "optim.d.lr=10"]),
    "mode_collapse": (160, ["optim.g.lr=5e-3", "optim.d.lr=5e-4"]),
}


def ring(steps, overrides):
    return load_preset("ring-2d", BASE + [f"train.steps={steps}"] + overrides)


@pytest.mark.parametrize("kind", list(CASES))
def test_setting_produces_its_finding(kind):
    steps, overrides = CASES[kind]
    cb = train_and_diagnose(ring(steps, overrides))
    found = [f.kind for f in cb.findings()]
    if kind == "healthy":
        assert found == ["healthy"], [f.describe() for f in cb.findings()]
    else:
        assert kind in cb.detected, found
        assert cb.detected[kind] <= steps


@pytest.mark.slow
def test_oscillation_is_detected():
    cb = train_and_diagnose(ring(300, ["optim.g.lr=1e-2", "optim.d.lr=1e-2", "optim.g.beta1=0.9", "optim.d.beta1=0.9"]))
    assert "oscillation" in cb.detected


def test_cli_records_the_divergence_and_diagnose_reports_it(tmp_path, capsys):
    from gankit.cli import main

    out = tmp_path / "run"
    rc = main(
        [
            "train",
            "ring-2d",
            "--out",
            str(out),
            "--quiet",
            "--set",
            "train.steps=30",
            "--set",
            "train.log_every=10",
            "--set",
            "data.size=8192",
            "--set",
            "optim.g.kind=sgd",
            "--set",
            "optim.d.kind=sgd",
            "--set",
            "optim.g.lr=10",
            "--set",
            "optim.d.lr=10",
        ]
    )
    assert rc == 2  # the trainer stops on non-finite losses
    err = capsys.readouterr().err
    assert "diagnosis at step 10: divergence" in err and "non-finite" in err
    events = [json.loads(line) for line in (out / "stats.jsonl").read_text().splitlines()]
    assert any(e.get("event") == "diagnosis" and e["kind"] == "divergence" and e["change"] == "start" for e in events)
    assert main(["diagnose", str(out)]) == 0
    text = capsys.readouterr().out
    assert "divergence: steps 10" in text and "remedy: learning rates 10x lower" in text
    assert main(["diagnose", str(out), "--json"]) == 0
    assert json.loads(capsys.readouterr().out.splitlines()[0])["kind"] == "divergence"


def test_diagnose_refuses_a_folder_without_stats(tmp_path, capsys):
    from gankit.cli import main

    assert main(["diagnose", str(tmp_path)]) == 2
    assert "no training statistics" in capsys.readouterr().err
