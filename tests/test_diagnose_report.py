"""What the report page shows of the diagnosis: one row per finding with its latest state, so a
collapse still active at the end shows the evidence of the end of the run, not of its start."""

from __future__ import annotations

import pytest

from gankit.reports.page import diagnosis_events, diagnosis_table, finding_rows

pytestmark = pytest.mark.usefixtures("one_thread")


def event(change, step, **fields):
    base = {"event": "diagnosis", "change": change, "step": step, "kind": "partial_mode_collapse", "start_step": 240}
    return {**base, **fields}


def test_a_finding_is_one_row_with_its_latest_state():
    rows = finding_rows(
        [
            event("start", 320, end_step=320, evidence={"msssim_generated": 0.67}, active=True),
            {"event": "diagnosis", "code": "X"},  # no kind: kept as it is
            event("end", 372, end_step=372, evidence={"msssim_generated": 0.55}, active=True),
            event("start", 500, start_step=480, end_step=500, active=False),
        ]
    )
    assert len(rows) == 3
    assert rows[0]["step"] == 320 and rows[0]["end_step"] == 372  # announced at 320, held to 372
    assert rows[0]["evidence"] == {"msssim_generated": 0.55} and rows[0]["change"] == "still active at the end"
    assert rows[1] == {"event": "diagnosis", "code": "X"} and rows[2]["change"] == "started"


def test_a_real_run_with_a_collapse_shows_its_end_state_in_the_report_table(tmp_path):
    from gankit.callbacks.diagnosis import DiagnosisCallback
    from gankit.config import load_preset
    from gankit.diagnosis.rules import Context
    from gankit.run import RunDir
    from gankit.training.experiment import build
    from gankit.training.loop import Trainer

    # the ring with G's learning rate 10x D's collapses onto a few modes (tests/test_diagnose_runs.py)
    cfg = load_preset(
        "ring-2d",
        ["train.log_every=10", "data.size=8192", "seed=0", "train.steps=160", "optim.g.lr=5e-3", "optim.d.lr=5e-4"],
    )
    run = RunDir.create(cfg.name, tmp_path / "run")
    callback = DiagnosisCallback(Context.from_config(cfg), run, verbose=False)
    Trainer(build(cfg), run, [callback], progress=False).fit()
    events = diagnosis_events(run.read_stats())
    ends = [e for e in events if e["change"] == "end"]
    assert ends and all(e["active"] and e["step"] == 160 for e in ends)
    collapse = next(e for e in ends if e["kind"] in ("mode_collapse", "partial_mode_collapse"))
    assert collapse["evidence"] == next(f for f in callback.findings() if f.kind == collapse["kind"]).evidence
    html = diagnosis_table(events)  # the page's Diagnosis section
    assert html.count(f"<td>{collapse['kind']}</td>") == 1 and "still active at the end" in html
    assert ", ".join(collapse["evidence"]["modes_missing"]) in html  # the modes missing at the end
