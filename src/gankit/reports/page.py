"""One self-contained HTML page per run: everything needed to judge it at a glance.

    write_report("runs/ring-2d-20261123-101500")   # -> runs/.../report.html

The page embeds its images (base64 PNG), uses no script and no network, so it opens from disk,
can be mailed or archived, and shows the same thing in any browser. Every section is drawn
from files in the run directory alone: config.toml, stats.jsonl (training statistics and
diagnosis events), metrics.jsonl (evaluations over time) and samples/epoch-*.png.
"""

from __future__ import annotations

import base64
import html
import math
import re
from pathlib import Path

from ..names import is_toy
from ..plots import figure_png, pyplot
from ..run import RunDir, atomic_write_bytes, read_jsonl

TIMELINE_MAX = 12  # sample grids shown in the timeline; more would make the page unreadable
PALETTE = ("#3366cc", "#dc3912", "#109618", "#ff9900", "#990099", "#0099c6", "#dd4477")


# ---------------------------------------------------------------- reading a run


def training_stats(records: list[dict]) -> list[dict]:
    """The periodic statistics lines (not events such as diagnosis findings)."""
    return [r for r in records if "event" not in r and "step" in r and "d_loss" in r]


def diagnosis_events(records: list[dict]) -> list[dict]:
    return [r for r in records if r.get("event") == "diagnosis"]


def balance_events(records: list[dict]) -> list[dict]:
    """What train.balance = auto did, and why (callbacks/balance.py)."""
    return [r for r in records if r.get("event") == "balance"]


def metric_series(records: list[dict]) -> dict[str, list[tuple[float, float]]]:
    """{metric name: [(step, value), ...]} from metrics.jsonl records (step, metric, value)."""
    series: dict[str, list[tuple[float, float]]] = {}
    for r in records:
        name, step, value = r.get("metric"), r.get("step"), r.get("value")
        source = r.get("source")
        if isinstance(name, str) and source not in (None, "train"):  # e.g. a later `gankit eval`, apart
            name = f"{name} ({source})"
        if isinstance(name, str) and _is_number(step) and _is_number(value):
            series.setdefault(name, []).append((float(step), float(value)))
    for points in series.values():
        points.sort()
    return series


def sample_grids(run: RunDir) -> list[tuple[int, Path]]:
    """(epoch, path) of samples/epoch-NNNN.png, in epoch order."""
    grids = []
    for p in run.samples_dir.glob("epoch-*.png"):
        m = re.fullmatch(r"epoch-(\d+)\.png", p.name)
        if m:
            grids.append((int(m.group(1)), p))
    return sorted(grids)


def timeline_subset(items: list, limit: int = TIMELINE_MAX) -> list:
    """At most `limit` items, evenly spread, always keeping the first and the last."""
    if len(items) <= limit:
        return list(items)
    idx = sorted({round(i * (len(items) - 1) / (limit - 1)) for i in range(limit)})
    return [items[i] for i in idx]


def _is_number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _finite(v) -> bool:
    return _is_number(v) and math.isfinite(v)


# ---------------------------------------------------------------- plots


def _series_plot(
    panels: list[tuple[str, list[tuple[str, list, list]], bool]], xlabel: str = "generator step", width: float = 5.1
) -> bytes:
    """One stacked panel per (ylabel, [(label, xs, ys)], log_scale)."""
    plt = pyplot()
    fig, axes = plt.subplots(len(panels), 1, figsize=(width, 2.5 * len(panels)), sharex=True, squeeze=False)
    for ax, (ylabel, lines, log_scale) in zip(axes[:, 0], panels):
        for i, (label, xs, ys, *band) in enumerate(lines):
            ax.plot(
                xs, ys, label=label, color=PALETTE[i % len(PALETTE)], lw=1.4, marker="o" if len(xs) < 15 else None, ms=3
            )
            if band and band[0]:  # the spread of the steps averaged into each point
                ax.fill_between(band[0][0], band[0][1], band[0][2], color=PALETTE[i % len(PALETTE)], alpha=0.15, lw=0)
        if log_scale and all(y > 0 for _, _, ys, *_ in lines for y in ys if _finite(y)):
            ax.set_yscale("log")
        ax.set_ylabel(ylabel)
        ax.grid(alpha=0.3)
        if len(lines) > 1:
            ax.legend(loc="best", fontsize=9)
    axes[-1, 0].set_xlabel(xlabel)
    fig.tight_layout()
    return figure_png(fig)


def _small_multiples(panels: list[tuple[str, list, list]], cols: int = 2) -> bytes:
    """One small panel per (title, xs, ys), `cols` to a row."""
    plt = pyplot()
    cols = min(cols, len(panels))
    rows = -(-len(panels) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(10.4 if cols > 1 else 5.1, 2.3 * rows), squeeze=False)
    for i, (ax, (title, xs, ys)) in enumerate(zip(axes.flat, panels)):
        ax.plot(xs, ys, color=PALETTE[i % len(PALETTE)], lw=1.4, marker="o" if len(xs) < 15 else None, ms=3)
        ax.set_title(title, fontsize=10)
        ax.grid(alpha=0.3)
        ax.tick_params(labelsize=8)
    for ax in list(axes.flat)[len(panels) :]:
        ax.axis("off")
    fig.supxlabel("generator step", fontsize=10)
    fig.tight_layout()
    return figure_png(fig)


KNOWN_STATS = {
    "step",
    "epoch",
    "d_loss",
    "g_loss",
    "d_real",
    "d_fake",
    "d_grad_norm",
    "g_grad_norm",
    "images_per_s",
    "elapsed_s",
}
EXTRA_MAX = 12  # further statistics other parts of gankit log (accuracy, diversity, ...), at most this many


def extra_stat_keys(stats: list[dict]) -> list[str]:
    keys: list[str] = []
    for s in stats:
        for k, v in s.items():
            if k not in KNOWN_STATS and k not in keys and not k.endswith(("_min", "_max")) and _is_number(v):
                keys.append(k)
    return keys[:EXTRA_MAX]


def _column(stats: list[dict], key: str) -> tuple[list, list]:
    pts = [(s["step"], s[key]) for s in stats if _finite(s.get(key)) and _is_number(s.get("step"))]
    return [p[0] for p in pts], [p[1] for p in pts]


def training_plots(stats: list[dict]) -> dict[str, bytes]:
    """PNG bytes of the training-curve figures that the statistics allow."""
    figs = {}

    def lines(*pairs):
        out = []
        for key, label in pairs:
            xs, ys = _column(stats, key)
            if xs:
                pts = [
                    (s["step"], s[f"{key}_min"], s[f"{key}_max"])
                    for s in stats
                    if _finite(s.get(f"{key}_min")) and _finite(s.get(f"{key}_max"))
                ]
                band = ([p[0] for p in pts], [p[1] for p in pts], [p[2] for p in pts]) if pts else None
                out.append((label, xs, ys, band))
        return out

    losses = lines(("d_loss", "D loss"), ("g_loss", "G loss"))
    outputs = lines(("d_real", "D(x)"), ("d_fake", "D(G(z))"))
    if losses or outputs:
        panels = [("loss", losses, False)] if losses else []
        if outputs:
            panels.append(("D output", outputs, False))
        figs["losses"] = _series_plot(panels)  # the two figures sit side by side on the page
    grads = lines(("d_grad_norm", "D gradient norm"), ("g_grad_norm", "G gradient norm"))
    speed = lines(("images_per_s", "real images / s"))
    panels = ([("gradient norm", grads, True)] if grads else []) + ([("images / s", speed, False)] if speed else [])
    if panels:
        figs["grads"] = _series_plot(panels)
    extra = [(k, *_column(stats, k)) for k in extra_stat_keys(stats)]
    extra = [p for p in extra if p[1]]
    if extra:
        figs["extra"] = _small_multiples(extra)
    return figs


def metric_plot(series: dict[str, list[tuple[float, float]]]) -> bytes | None:
    if not series:
        return None
    return _small_multiples([(name, [p[0] for p in pts], [p[1] for p in pts]) for name, pts in sorted(series.items())])


# ---------------------------------------------------------------- HTML pieces


def _img(data: bytes, alt: str, cls: str = "") -> str:
    src = "data:image/png;base64," + base64.b64encode(data).decode("ascii")
    return f'<img src="{src}" alt="{html.escape(alt)}"{f" class={chr(34)}{cls}{chr(34)}" if cls else ""}>'


def _fmt(v) -> str:
    if isinstance(v, bool) or v is None:
        return str(v)
    if isinstance(v, int):
        return f"{v:,}"
    if isinstance(v, float):
        if not math.isfinite(v):
            return str(v)
        return f"{v:.4g}" if abs(v) < 1e5 else f"{v:,.0f}"
    if isinstance(v, dict):  # e.g. a finding's evidence
        return ", ".join(f"{k} {_fmt(x)}" for k, x in v.items())
    if isinstance(v, (list, tuple)):  # e.g. a finding's remedies
        return "; ".join(_fmt(x) for x in v)
    return str(v)


def _duration(seconds: float) -> str:
    seconds = int(round(seconds))
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{h}h {m:02d}m {s:02d}s" if h else (f"{m}m {s:02d}s" if m else f"{s}s")


def _table(rows: list[dict], columns: list[str]) -> str:
    head = "".join(f"<th>{html.escape(c)}</th>" for c in columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(_fmt(r.get(c, '')))}</td>" for c in columns) + "</tr>" for r in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _section(anchor: str, title: str, body: str) -> str:
    return f'<section id="{anchor}"><h2>{html.escape(title)}</h2>{body}</section>'


DIAGNOSIS_FIRST = (
    "step",
    "change",
    "severity",
    "level",
    "rule",
    "kind",
    "name",
    "finding",
    "start_step",
    "end_step",
    "message",
    "evidence",
    "remedy",
    "remedies",
    "active",
)


def diagnosis_table(events: list[dict]) -> str:
    """Findings, whatever fields they carry: the well-known ones first, then the rest."""
    keys: list[str] = []
    for e in events:
        for k in e:
            if k != "event" and k not in keys:
                keys.append(k)
    columns = [k for k in DIAGNOSIS_FIRST if k in keys] + [k for k in keys if k not in DIAGNOSIS_FIRST]
    return _table(events, columns)


def summary_cards(stats: list[dict], cfg: dict) -> str:
    last = stats[-1] if stats else {}
    speeds = sorted(s["images_per_s"] for s in stats if _finite(s.get("images_per_s")))
    cards = [
        ("generator steps", _fmt(last.get("step", 0))),
        ("epoch", _fmt(last.get("epoch", -1) + 1)),
    ]  # records count epochs from 0
    if _finite(last.get("elapsed_s")):
        cards.append(("wall time", _duration(last["elapsed_s"])))
    if speeds:
        cards.append(("throughput (median)", f"{speeds[len(speeds) // 2]:,.0f} img/s"))
    for key, label in (
        ("d_loss", "final D loss"),
        ("g_loss", "final G loss"),
        ("d_real", "final D(x)"),
        ("d_fake", "final D(G(z))"),
    ):
        if key in last:
            cards.append((label, _fmt(last[key])))
    device = cfg.get("device")
    if device:
        cards.append(("device (config)", str(device)))
    return (
        '<div class="cards">'
        + "".join(
            f'<div class="card"><div class="v">{html.escape(v)}</div><div class="k">{html.escape(k)}</div></div>'
            for k, v in cards
        )
        + "</div>"
    )


CSS = """
:root { --fg:#1d2330; --muted:#5f6b7a; --line:#e3e7ee; --bg:#f6f8fb; --accent:#3366cc; }
* { box-sizing: border-box; }
body { margin:0; font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif; color:var(--fg);
       background:var(--bg); }
header { background:#1d2330; color:#fff; padding:22px 32px 18px; }
header h1 { margin:0 0 4px; font-size:24px; }
header p { margin:0; color:#c5cedb; }
nav { padding:8px 32px; background:#fff; border-bottom:1px solid var(--line); position:sticky; top:0; z-index:1; }
nav a { color:var(--accent); text-decoration:none; margin-right:16px; font-size:14px; }
main { max-width:1180px; margin:0 auto; padding:12px 32px 40px; }
section { background:#fff; border:1px solid var(--line); border-radius:8px; padding:16px 20px; margin:18px 0; }
h2 { margin:0 0 12px; font-size:18px; }
h3 { margin:16px 0 8px; font-size:15px; color:var(--muted); }
.cards { display:flex; flex-wrap:wrap; gap:10px; }
.card { border:1px solid var(--line); border-radius:6px; padding:8px 14px; min-width:130px; background:#fbfcfe; }
.card .v { font-size:19px; font-weight:600; }
.card .k { color:var(--muted); font-size:12px; text-transform:uppercase; letter-spacing:.04em; }
.plots { display:flex; flex-wrap:wrap; gap:16px; align-items:flex-start; justify-content:space-around; }
.plots img { max-width:100%; height:auto; }
img.final { width:min(100%, 440px); height:auto; image-rendering:pixelated; border:1px solid var(--line); }
figure { margin:0; }
.timeline { display:grid; grid-template-columns:repeat(auto-fill, minmax(210px, 1fr)); gap:12px; }
.timeline figure { margin:0; text-align:center; }
.timeline img { width:100%; height:auto; image-rendering:pixelated; border:1px solid var(--line); }
figcaption { color:var(--muted); font-size:13px; }
table { border-collapse:collapse; width:100%; font-size:14px; }
th, td { text-align:left; padding:5px 10px; border-bottom:1px solid var(--line); vertical-align:top; }
th { background:#f1f4f9; }
pre { background:#f1f4f9; padding:12px; border-radius:6px; font-size:13px; column-width:320px;
      white-space:pre-wrap; overflow-wrap:anywhere; }
.empty { color:var(--muted); font-style:italic; }
footer { color:var(--muted); font-size:12px; text-align:center; padding:10px; }
"""


# ---------------------------------------------------------------- the page


def build_report(run_path) -> str:
    """The report page of a run directory, as one HTML string."""
    from ..config import read_toml

    run = RunDir.open(run_path, need_checkpoint=False)
    config_text = run.config_path.read_text(encoding="utf-8") if run.config_path.is_file() else ""
    try:
        cfg = read_toml(run.config_path) if config_text else {}
    except Exception:  # a damaged config still gets a page; its text is shown as is
        cfg = {}
    records = run.read_stats()
    stats = training_stats(records)
    findings = diagnosis_events(records)
    metrics = read_jsonl(run.path / "metrics.jsonl")
    series = metric_series(metrics)
    grids = sample_grids(run)
    toy = is_toy(cfg.get("data", {}).get("name", ""))

    name = cfg.get("name") or run.path.name
    sections = []

    final = ""
    if grids:
        epoch, path = grids[-1]
        what = "samples over the target density" if toy else "samples from the fixed noise"
        final = (
            _img(path.read_bytes(), f"final samples, epoch {epoch}", "final")
            + f"<figcaption>epoch {epoch}: {what}</figcaption>"
        )
    else:
        final = '<p class="empty">No sample grid yet (samples/ is written at the end of every epoch).</p>'
    sections.append(_section("summary", "Summary", summary_cards(stats, cfg)))
    figs = training_plots(stats)
    # what the generator makes next to how the two networks fared: the page's first screen
    losses = _img(figs["losses"], "D and G losses; D(x) and D(G(z))") if "losses" in figs else ""
    sections.append(
        _section(
            "final",
            "Final samples against the target, and losses" if toy else "Final samples and losses",
            f'<div class="plots"><figure>{final}</figure>{losses}</div>',
        )
    )

    if "grads" in figs or "extra" in figs:
        body = (
            '<div class="plots">'
            + (_img(figs["grads"], "gradient norms and throughput") if "grads" in figs else "")
            + "</div>"
        )
        if "extra" in figs:
            body += (
                "<h3>Further statistics</h3><div class='plots'>" + _img(figs["extra"], "further statistics") + "</div>"
            )
    else:
        body = '<p class="empty">No training statistics yet (stats.jsonl is written every train.log_every steps).</p>'
    sections.append(_section("curves", "Gradients, throughput and further statistics", body))

    if series:
        # min and max rather than "best": whether lower or higher is better depends on the metric
        last_rows = [
            {
                "metric": m,
                "last step": int(pts[-1][0]),
                "last value": pts[-1][1],
                "min": min(p[1] for p in pts),
                "max": max(p[1] for p in pts),
            }
            for m, pts in sorted(series.items())
        ]
        body = (
            _table(last_rows, ["metric", "last step", "last value", "min", "max"])
            + '<div class="plots">'
            + _img(metric_plot(series), "metrics over generator steps")
            + "</div>"
        )
    else:
        body = '<p class="empty">No metrics recorded for this run (metrics.jsonl is absent or empty).</p>'
    sections.append(_section("metrics", "Metrics over time", body))

    if findings:
        body = diagnosis_table(findings)
    else:
        body = '<p class="empty">No diagnosis findings recorded.</p>'
    actions = balance_events(records)
    if actions:
        body += "<h3>What train.balance = auto did</h3>" + _table(actions, ["step", "finding", "action", "reason"])
    sections.append(_section("diagnosis", "Diagnosis", body))

    if grids:
        shown = timeline_subset(grids)
        note = f"<p>{len(shown)} of {len(grids)} epochs.</p>" if len(shown) < len(grids) else ""
        body = (
            note
            + '<div class="timeline">'
            + "".join(
                f"<figure>{_img(p.read_bytes(), f'samples at epoch {e}')}<figcaption>epoch {e}</figcaption></figure>"
                for e, p in shown
            )
            + "</div>"
        )
    else:
        body = '<p class="empty">No sample grids yet.</p>'
    sections.append(_section("timeline", "Samples over training", body))

    sections.append(_section("config", "Config", f"<pre>{html.escape(config_text) or 'config.toml is missing'}</pre>"))

    nav = "".join(
        f'<a href="#{a}">{t}</a>'
        for a, t in (
            ("summary", "Summary"),
            ("final", "Samples and losses"),
            ("curves", "Gradients"),
            ("metrics", "Metrics"),
            ("diagnosis", "Diagnosis"),
            ("timeline", "Timeline"),
            ("config", "Config"),
        )
    )
    desc = html.escape(cfg.get("description", ""))
    from ..version import __version__

    return (
        f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(name)} · gankit report</title><style>{CSS}</style></head><body>"
        f"<header><h1>{html.escape(name)}</h1><p>{desc}</p><p>{html.escape(str(run.path))}</p></header>"
        f"<nav>{nav}</nav><main>{''.join(sections)}</main>"
        f"<footer>gankit {__version__} · regenerate with <code>gankit report {html.escape(str(run.path))}</code>"
        f"</footer></body></html>\n"
    )


def write_report(run_path, out=None) -> Path:
    """Write the report (atomically) to `out`, default RUN/report.html; return its path."""
    page = build_report(run_path)
    out = Path(out) if out else Path(run_path) / "report.html"
    atomic_write_bytes(out, page.encode("utf-8"))
    return out
