"""gankit report RUN: write RUN/report.html, one self-contained page to judge the run at a glance."""

from __future__ import annotations


def add_parser(sub) -> None:
    p = sub.add_parser("report", help="write RUN/report.html (curves, samples, metrics, diagnosis, config)")
    p.add_argument("run", help="run directory")
    p.add_argument("--out", help="where to write the page (default RUN/report.html)")
    p.set_defaults(func=run)


def run(args) -> int:
    from ..reports.page import write_report

    out = write_report(args.run, args.out)
    print(f"wrote {out} (open it in a browser: file://{out.resolve()})")
    return 0
