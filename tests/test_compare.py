"""gankit compare: the table of final values and the overlaid curves."""

from __future__ import annotations

import json

from PIL import Image
from run_factory import fake_run

from gankit.cli import main
from gankit.reports.compare import load_runs, table, text_table


def test_compare_table_plot_and_page(tmp_path, capsys):
    a = fake_run(tmp_path / "a", epochs=3)
    b = fake_run(tmp_path / "b", toy=True, epochs=2, metrics=False)
    with open(b / "metrics.jsonl", "w") as f:
        f.write(json.dumps({"step": 20, "metric": "modes", "value": 7}) + "\n")
    out = tmp_path / "cmp.html"
    assert main(["compare", str(a), str(b), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    header = printed.splitlines()[0].split()
    assert header[:2] == ["run", "steps"] and "fid" in header and "modes" in header
    assert printed.splitlines()[2].split()[:2] == ["a", "30"] and printed.splitlines()[3].split()[:2] == ["b", "20"]
    page = out.read_text()
    assert "data:image/png;base64," in page and "<td>a</td>" in page
    assert Image.open(out.with_suffix(".png")).size[0] > 800  # two columns of panels


def test_same_folder_names_are_told_apart(tmp_path):
    runs = load_runs(
        [
            fake_run(tmp_path / "x" / "run", epochs=1, metrics=False, findings=False),
            fake_run(tmp_path / "y" / "run", epochs=1, metrics=False, findings=False),
        ]
    )
    rows, columns = table(runs)
    assert rows[0]["run"] != rows[1]["run"] and str(tmp_path / "x" / "run") in text_table(rows, columns)


def test_compare_errors(tmp_path, capsys):
    assert main(["compare", str(tmp_path / "nope")]) == 2
    assert "does not exist" in capsys.readouterr().err
    run = fake_run(tmp_path / "r", epochs=1, metrics=False, findings=False)
    assert main(["compare", str(run), "--out", str(tmp_path / "c.png")]) == 2
    assert ".html" in capsys.readouterr().err
