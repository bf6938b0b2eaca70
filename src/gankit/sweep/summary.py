"""The summary of a sweep: per-seed rows, and mean ± std, min and max of every final value.

    summary = summarise(SweepDir("sweeps/ring-2d"))
    print(summary.text())                    # the table
    summary.write()                          # DIR/summary.json and DIR/summary.html

A seed's final values are the last value of each metric in its metrics.jsonl (the evaluation at
the end of training, or a later `gankit eval`) and the numbers of its last statistics line in
stats.jsonl. Only finished seeds enter the statistics; std is the sample standard deviation
(n - 1 in the denominator; 0 for one seed).
"""

from __future__ import annotations

import html
import json
import math
from pathlib import Path

from ..reports.page import (
    CSS,
    _fmt,
    _img,
    _table,
    read_jsonl,
    sample_grids,
    training_stats,
)
from ..run import RunDir, atomic_write_bytes
from .runner import SweepDir

# statistics-line fields that are positions, counts or per-interval spreads, not results
NOT_RESULTS = ("step", "epoch", "seeds_at_once", "modes_total")
FIRST_STATS = ("d_loss", "g_loss", "d_real", "d_fake", "modes_covered", "mode_quality", "diversity")


def final_values(run_path: Path) -> tuple[dict, dict, int]:
    """({metric: last value}, {stat: value of the last statistics line}, steps) of one run."""
    metrics: dict[str, float] = {}
    for r in read_jsonl(run_path / "metrics.jsonl"):
        if isinstance(r.get("metric"), str) and isinstance(r.get("value"), (int, float)):
            metrics[r["metric"]] = float(r["value"])
    stats = training_stats(RunDir(run_path).read_stats())
    last = stats[-1] if stats else {}
    values = {
        k: float(v)
        for k, v in last.items()
        if isinstance(v, (int, float))
        and not isinstance(v, bool)
        and k not in NOT_RESULTS
        and not k.endswith(("_min", "_max"))
    }
    return metrics, values, int(last.get("step", 0))


def describe(values: list[float]) -> dict:
    finite = [v for v in values if math.isfinite(v)]
    n = len(finite)
    if not n:
        return {"mean": math.nan, "std": math.nan, "min": math.nan, "max": math.nan, "n": 0}
    mean = sum(finite) / n
    spread = n > 1 and max(finite) > min(finite)  # equal values: exactly 0, not a rounding residue
    std = math.sqrt(sum((v - mean) ** 2 for v in finite) / (n - 1)) if spread else 0.0
    return {"mean": mean, "std": std, "min": min(finite), "max": max(finite), "n": n}


class Summary:
    def __init__(self, sweep: SweepDir, seeds: list[int], failed: dict | None = None):
        self.sweep, self.seeds = sweep, seeds
        self.failed = dict(failed or {})
        self.rows: list[dict] = []  # one per seed: seed, status, steps, then values
        self.metric_names: list[str] = []
        self.stat_names: list[str] = []
        for seed in seeds:
            state = sweep.status(seed)
            row = {"seed": seed, "status": state}
            if state != "new":
                metrics, stats, steps = final_values(sweep.seed_path(seed))
                row["steps"] = steps
                row.update(metrics)
                row.update({k: v for k, v in stats.items() if k not in metrics})
                self.metric_names += [k for k in metrics if k not in self.metric_names]
                self.stat_names += [k for k in stats if k not in self.stat_names and k not in metrics]
            if state != "finished":
                self.failed.setdefault(seed, f"not finished ({state})")
            self.rows.append(row)
        first = [k for k in FIRST_STATS if k in self.stat_names]
        self.stat_names = first + [k for k in self.stat_names if k not in first]
        done = [r for r in self.rows if r["status"] == "finished"]
        self.stats = {k: describe([r[k] for r in done if k in r]) for k in self.metric_names + self.stat_names}

    @property
    def finished(self) -> list[int]:
        return [r["seed"] for r in self.rows if r["status"] == "finished"]

    def to_dict(self) -> dict:
        spec = self.sweep.read()
        return {
            "sweep": str(self.sweep.path),
            "preset": spec.get("preset"),
            "config": spec.get("config"),
            "overrides": spec.get("overrides", []),
            "seeds": self.seeds,
            "finished": self.finished,
            "failed": {str(k): v for k, v in self.failed.items()},
            "std": "sample standard deviation (n - 1)",
            "metrics": self.metric_names,
            "per_seed": self.rows,
            "summary": self.stats,
        }

    # ------------------------------------------------------------------ text
    def aggregate_rows(self) -> list[dict]:
        out = []
        for name in self.metric_names + self.stat_names:
            s = self.stats[name]
            out.append(
                {
                    "value": name,
                    "kind": "metric" if name in self.metric_names else "final stat",
                    "mean ± std": f"{_fmt(s['mean'])} ± {_fmt(s['std'])}",
                    "min": s["min"],
                    "max": s["max"],
                    "n": s["n"],
                }
            )
        return out

    def seed_columns(self) -> list[str]:
        return ["seed", "status", "steps"] + self.metric_names + [k for k in FIRST_STATS if k in self.stat_names]

    def text(self) -> str:
        from ..reports.compare import text_table

        spec = self.sweep.spec()
        head = (
            f"sweep {self.sweep.path}: {spec.describe()}, {len(self.finished)} of {len(self.seeds)} seeds "
            "finished (std: sample standard deviation)"
        )
        parts = [
            head,
            "",
            text_table(self.aggregate_rows(), ["value", "kind", "mean ± std", "min", "max", "n"]),
            "",
            text_table(self.rows, self.seed_columns()),
        ]
        if self.failed:
            parts += ["", "not in the statistics: " + "; ".join(f"seed {k}: {v}" for k, v in self.failed.items())]
        return "\n".join(parts)

    # ------------------------------------------------------------------ page
    def html(self) -> str:
        spec = self.sweep.spec()
        cards = []
        for seed in self.seeds:
            path = self.sweep.seed_path(seed)
            grids = sample_grids(RunDir(path)) if path.is_dir() else []
            row = next(r for r in self.rows if r["seed"] == seed)
            caption = ", ".join(f"{k} {_fmt(row[k])}" for k in self.metric_names if k in row) or row["status"]
            image = (
                _img(grids[-1][1].read_bytes(), f"seed {seed}, last samples")
                if grids
                else "<p class='empty'>no samples</p>"
            )
            cards.append(
                f"<figure class='seed'>{image}<figcaption><b>seed {seed}</b> "
                f"({html.escape(row['status'])}): {html.escape(caption)}</figcaption></figure>"
            )
        curves = ""
        runs = [self.sweep.seed_path(s) for s in self.seeds if self.sweep.status(s) != "new"]
        if runs:
            from ..reports.compare import load_runs, overlay_plot

            plot = overlay_plot(load_runs(runs))
            curves = _img(plot, "curves of every seed") if plot else ""
        failed = (
            (
                "<p>Not in the statistics: "
                + html.escape("; ".join(f"seed {k}: {v}" for k, v in self.failed.items()))
                + "</p>"
            )
            if self.failed
            else ""
        )
        style = CSS + (
            ".seeds{display:grid;grid-template-columns:repeat(auto-fill,minmax(230px,1fr));gap:12px}"
            ".seed{margin:0}.seed img{width:100%;border:1px solid var(--line)}"
            ".seed figcaption{font-size:13px;color:var(--muted)}"
        )
        return (
            f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>gankit sweep '
            f"{html.escape(spec.describe())}</title><style>{style}</style></head><body><header>"
            f"<h1>Sweep: {html.escape(spec.describe())}</h1><p>{len(self.finished)} of {len(self.seeds)} seeds "
            f"finished, in {html.escape(str(self.sweep.path))}. Mean ± sample standard deviation over the "
            f"finished seeds.</p></header><main>"
            f"<section><h2>Summary</h2>{_table(self.aggregate_rows(), ['value', 'kind', 'mean ± std', 'min', 'max', 'n'])}"
            f"{failed}</section>"
            f"<section><h2>Per seed</h2>{_table(self.rows, self.seed_columns())}</section>"
            f"<section><h2>Seeds side by side: last samples</h2><div class='seeds'>{''.join(cards)}</div></section>"
            + (f"<section><h2>Curves</h2><div class='plots'>{curves}</div></section>" if curves else "")
            + "</main></body></html>\n"
        )

    def write(self) -> tuple[Path, Path]:
        js, page = self.sweep.path / "summary.json", self.sweep.path / "summary.html"
        atomic_write_bytes(js, (json.dumps(self.to_dict(), indent=2, allow_nan=True) + "\n").encode("utf-8"))
        atomic_write_bytes(page, self.html().encode("utf-8"))
        return js, page


def summarise(sweep: SweepDir, seeds: list[int] | None = None, failed: dict | None = None) -> Summary:
    return Summary(sweep, seeds if seeds is not None else sweep.seeds(), failed)
