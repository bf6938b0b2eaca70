"""The run report: every section present, images embedded, robust to missing pieces."""

from __future__ import annotations

import re

import pytest
from run_factory import fake_run, shared_run

from gankit.cli import main
from gankit.reports.page import (
    TIMELINE_MAX,
    build_report,
    diagnosis_table,
    metric_series,
    timeline_subset,
    write_report,
)


@pytest.fixture(scope="module")
def image_run(tmp_path_factory):
    return fake_run(tmp_path_factory.mktemp("report") / "run", epochs=15)


def test_report_has_every_section_and_embeds_its_images(image_run):
    out = write_report(image_run)
    assert out == image_run / "report.html"
    page = out.read_text(encoding="utf-8")
    for anchor in ("summary", "final", "curves", "metrics", "diagnosis", "timeline", "config"):
        assert f'<section id="{anchor}">' in page
    srcs = re.findall(r'<img src="([^"]*)"', page)
    assert all(s.startswith("data:image/png;base64,") for s in srcs)
    # final grid + 3 curve figures (losses, gradients, further statistics) + 1 metric figure + the timeline
    assert len(srcs) == 5 + TIMELINE_MAX
    assert "Further statistics" in page
    assert "12 of 15 epochs" in page
    assert "d-too-strong" in page and "lower optim.d.lr; train D less often" in page  # a finding, its remedies
    assert "d_acc 0.9712" in page
    assert "fid" in page and "precision" in page
    assert 'g = "dcgan-upsample"' in page or "[model]" in page  # the config's TOML
    assert "1m 15s" in page  # wall time of the last record (150 steps x 0.5 s)
    assert "http://" not in page and "https://" not in page  # opens offline


def test_report_of_a_run_with_no_statistics_yet(tmp_path):
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "config.toml").write_text('name = "x"\n')
    page = build_report(tmp_path / "run")
    assert "No training statistics yet" in page and "No sample grid yet" in page
    assert "No metrics recorded" in page and "No diagnosis findings" in page


def test_report_skips_damaged_lines(tmp_path):
    run = fake_run(tmp_path / "run", toy=True, epochs=2, metrics=False, findings=False)
    with open(run / "stats.jsonl", "a") as f:
        f.write('{"step": 21, "d_lo')  # a line cut short by a kill
    with open(run / "metrics.jsonl", "w") as f:
        f.write('{"step": 1, "metric": "ks", "value": "nan?"}\n{"metric": "ks"}\n')
    page = build_report(run)
    assert "No metrics recorded" in page and "Final samples against the target" in page


def test_metrics_from_other_sources_are_kept_apart():
    series = metric_series(
        [
            {"step": 1, "metric": "fid", "value": 3.0, "source": "train"},
            {"step": 1, "metric": "fid", "value": 2.0, "source": "eval"},
            {"step": 2, "metric": "fid", "value": 1.0},
        ]
    )
    assert series == {"fid": [(1.0, 3.0), (2.0, 1.0)], "fid (eval)": [(1.0, 2.0)]}


def test_diagnosis_table_renders_whatever_fields_exist():
    html = diagnosis_table(
        [{"event": "diagnosis", "step": 5, "message": "a <b>", "extra": [1, 2]}, {"event": "diagnosis", "code": "X"}]
    )
    assert "a &lt;b&gt;" in html and "1; 2" in html and "<th>code</th>" in html
    assert html.index("<th>step</th>") < html.index("<th>message</th>") < html.index("<th>extra</th>")


@pytest.mark.parametrize("n", [0, 1, 2, 11, 12, 13, 100])
def test_timeline_subset_is_spread_and_keeps_the_ends(n):
    items = list(range(n))
    shown = timeline_subset(items, 12)
    assert len(shown) == min(n, 12) and shown == sorted(set(shown))
    if n:
        assert shown[0] == 0 and shown[-1] == n - 1


def test_report_command(image_run, tmp_path, capsys):
    assert main(["report", str(image_run), "--out", str(tmp_path / "r.html")]) == 0
    assert (tmp_path / "r.html").stat().st_size > 10_000
    assert main(["report", str(tmp_path / "missing")]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_training_writes_the_report(tmp_path_factory):
    run = shared_run(tmp_path_factory, "toy")
    page = (run / "report.html").read_text(encoding="utf-8")
    assert "ring-2d" in page and page.count("<img") >= 3
