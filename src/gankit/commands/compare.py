"""gankit compare RUN1 RUN2 ...: a table of final values and the curves of all runs overlaid.
A sweep folder (gankit sweep) stands for its seeds' runs, with their mean and std as two more rows."""

from __future__ import annotations


def add_parser(sub) -> None:
    p = sub.add_parser("compare", help="compare runs: final losses and metrics, curves overlaid")
    p.add_argument("runs", nargs="+", help="run directories, or sweep folders (their seeds, mean and std)")
    p.add_argument(
        "--out", default="compare.html", help="page to write (default compare.html; the plot goes next to it as .png)"
    )
    p.set_defaults(func=run)


def run(args) -> int:
    from ..reports.compare import write_comparison

    page, png, text = write_comparison(args.runs, args.out)
    print(text)
    print(f"\nwrote {page}" + (f" and {png}" if png else ""))
    return 0
