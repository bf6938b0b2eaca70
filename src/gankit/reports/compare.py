"""Several runs side by side: a table of final numbers and the curves overlaid.

    write_comparison(["runs/a", "runs/b"], "compare.html")   # + compare.png next to it

Works on any run directories, finished or not, with or without metrics.jsonl. A sweep folder
(`gankit sweep`: sweep.json and seed-N/ runs) expands to its seeds' runs, followed by a row of
their mean and one of their sample standard deviation.
"""

from __future__ import annotations

import html
import math
from pathlib import Path

from ..errors import GankitError
from ..plots import figure_png, pyplot
from ..run import RunDir, atomic_write_bytes, read_jsonl
from .page import CSS, PALETTE, _finite, _fmt, _img, _table, metric_series, training_stats

SWEEP_FILE = "sweep.json"  # written by gankit.sweep.runner (a layer above: only the name is shared)
CURVES = (("d_loss", "D loss"), ("g_loss", "G loss"), ("d_real", "D(x)"), ("d_fake", "D(G(z))"))


class RunSummary:
    def __init__(self, path):
        run = RunDir.open(path, need_checkpoint=False)
        self.path = run.path
        self.stats = training_stats(run.read_stats())
        self.metrics = metric_series(read_jsonl(run.path / "metrics.jsonl"))
        self.label = run.path.name

    def row(self) -> dict:
        last = self.stats[-1] if self.stats else {}
        speeds = sorted(s["images_per_s"] for s in self.stats if _finite(s.get("images_per_s")))
        row = {"run": self.label, "steps": last.get("step", 0)}
        if _finite(last.get("elapsed_s")):
            row["wall time (s)"] = round(last["elapsed_s"], 1)
        if speeds:
            row["images/s (median)"] = round(speeds[len(speeds) // 2])
        for key, label in CURVES:
            if key in last:
                row[label] = last[key]
        for name, points in sorted(self.metrics.items()):
            row[name] = points[-1][1]
        return row


def sweep_runs(path) -> list[Path] | None:
    """The seed runs of a sweep folder, in seed order; None when `path` is not a sweep."""
    path = Path(path)
    if not (path / SWEEP_FILE).is_file():
        return None
    seeds = sorted(
        (p for p in path.glob("seed-*") if p.name[5:].isdigit() and p.is_dir()), key=lambda p: int(p.name[5:])
    )
    if not seeds:
        raise GankitError(f"the sweep {path} holds no seed runs yet; run its `gankit sweep` first")
    return seeds


def load_runs(paths) -> list[RunSummary]:
    if len(paths) < 1:
        raise GankitError("name at least one run directory to compare")
    runs = []
    for p in paths:
        seeds = sweep_runs(p)
        for run_path in seeds or [p]:
            run = RunSummary(run_path)
            if seeds:
                run.sweep, run.label = Path(p).name, f"{Path(p).name}/{run.label}"
            runs.append(run)
    labels = [r.label for r in runs]
    if len(set(labels)) < len(labels):  # same folder names under different parents
        for r in runs:
            r.label = str(r.path)
    return runs


def sweep_rows(runs: list[RunSummary], rows: list[dict]) -> list[dict]:
    """Per sweep: the mean and the sample standard deviation of every numeric column over its seeds."""
    out = []
    for name in dict.fromkeys(getattr(r, "sweep", None) for r in runs):
        if name is None:
            continue
        mine = [row for r, row in zip(runs, rows) if getattr(r, "sweep", None) == name]
        mean, std = {"run": f"{name} (mean of {len(mine)})"}, {"run": f"{name} (std)"}
        for key in mine[0]:
            vals = [row[key] for row in mine if _finite(row.get(key))]
            if key == "run" or not vals or len(vals) < len(mine):
                continue
            m = sum(vals) / len(vals)
            mean[key] = m
            std[key] = math.sqrt(sum((v - m) ** 2 for v in vals) / (len(vals) - 1)) if len(vals) > 1 else 0.0
        out += [mean, std]
    return out


def table(runs: list[RunSummary]) -> tuple[list[dict], list[str]]:
    rows = [r.row() for r in runs]
    rows += sweep_rows(runs, rows)
    columns: list[str] = []
    for row in rows:
        columns += [k for k in row if k not in columns]
    return rows, columns


def text_table(rows: list[dict], columns: list[str]) -> str:
    cells = [[_fmt(r.get(c, "")) for c in columns] for r in rows]
    widths = [max(len(c), *(len(row[i]) for row in cells)) for i, c in enumerate(columns)]

    def line(vals):
        return "  ".join(v.ljust(w) for v, w in zip(vals, widths)).rstrip()

    return "\n".join([line(columns), line(["-" * w for w in widths])] + [line(r) for r in cells])


def overlay_plot(runs: list[RunSummary]) -> bytes | None:
    """One panel per curve and per metric, one colour per run."""
    panels = []
    for key, label in CURVES:
        lines = []
        for r in runs:
            pts = [(s["step"], s[key]) for s in r.stats if _finite(s.get(key))]
            lines.append([p[0] for p in pts] and ([p[0] for p in pts], [p[1] for p in pts]))
        if any(lines):
            panels.append((label, lines))
    names = sorted({m for r in runs for m in r.metrics})
    for name in names:
        panels.append(
            (
                name,
                [
                    ([p[0] for p in r.metrics[name]], [p[1] for p in r.metrics[name]]) if name in r.metrics else []
                    for r in runs
                ],
            )
        )
    if not panels:
        return None
    plt = pyplot()
    cols = 2 if len(panels) > 1 else 1
    rows = math.ceil(len(panels) / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(5.2 * cols, 2.8 * rows), squeeze=False)
    for ax, (label, lines) in zip(axes.flat, panels):
        for i, (r, line) in enumerate(zip(runs, lines)):
            if line:
                ax.plot(
                    line[0],
                    line[1],
                    color=PALETTE[i % len(PALETTE)],
                    lw=1.4,
                    label=r.label,
                    marker="o" if len(line[0]) < 15 else None,
                    ms=3,
                )
        ax.set_title(label, fontsize=11)
        ax.set_xlabel("generator step")
        ax.grid(alpha=0.3)
    for ax in list(axes.flat)[len(panels) :]:
        ax.axis("off")
    from matplotlib.lines import Line2D

    handles = [Line2D([], [], color=PALETTE[i % len(PALETTE)], lw=2) for i in range(len(runs))]
    fig.legend(
        handles,
        [r.label for r in runs],
        loc="upper center",
        ncol=min(len(runs), 4),
        bbox_to_anchor=(0.5, 1.0),
        fontsize=9,
        frameon=False,
    )
    fig.tight_layout(rect=(0, 0, 1, 1 - 0.35 / (2.8 * rows)))
    return figure_png(fig)


def write_comparison(paths, out="compare.html") -> tuple[Path, Path | None, str]:
    """compare.html (table + plot, self-contained) and compare.png; returns (html, png, text table)."""
    out = Path(out)
    if out.suffix.lower() not in (".html", ".htm"):
        raise GankitError(f"--out {out}: the comparison is an .html page (its plot goes next to it as .png)")
    runs = load_runs(paths)
    rows, columns = table(runs)
    plot = overlay_plot(runs)
    png = None
    if plot:
        png = out.with_suffix(".png")
        atomic_write_bytes(png, plot)
    body = _table(rows, columns) + (
        "<div class='plots'>" + _img(plot, "losses and metrics over steps, per run") + "</div>"
        if plot
        else "<p class='empty'>No statistics in these runs yet.</p>"
    )
    page = (
        f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>gankit compare</title>'
        f"<style>{CSS}</style></head><body><header><h1>Comparing {len(runs)} runs</h1>"
        f"<p>{html.escape(', '.join(str(r.path) for r in runs))}</p></header><main>"
        f"<section><h2>Final values</h2>{body}</section></main></body></html>\n"
    )
    atomic_write_bytes(out, page.encode("utf-8"))
    return out, png, text_table(rows, columns)
