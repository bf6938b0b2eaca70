"""gankit diagnose RUN: what went wrong in a run (or that nothing did), from its stats.jsonl.

gankit diagnose runs/ring-2d-20261123-101500
gankit diagnose runs/ring-2d-20261123-101500 --json
"""

from __future__ import annotations

import json

from ..errors import GankitError


def add_parser(sub) -> None:
    p = sub.add_parser("diagnose", help="findings on a run's training balance: step ranges, evidence, remedies")
    p.add_argument("run", metavar="RUN", help="a run directory (holding stats.jsonl)")
    p.add_argument("--json", action="store_true", help="print the findings as JSON, one per line")
    p.set_defaults(func=run)


def run(args) -> int:
    from ..config import from_saved, read_toml
    from ..diagnosis.rules import Context, diagnose
    from ..run import RunDir

    run_dir = RunDir.open(args.run, need_checkpoint=False)
    records = [r for r in run_dir.read_stats() if "event" not in r and "d_loss" in r]
    if not records:
        raise GankitError(
            f"{run_dir.path} has no training statistics (stats.jsonl is missing or empty); "
            "train at least train.log_every steps first"
        )
    ctx = Context()
    if run_dir.config_path.is_file():
        ctx = Context.from_config(from_saved(read_toml(run_dir.config_path)))
    findings = diagnose(records, ctx)
    if args.json:
        for f in findings:
            print(json.dumps(f.to_dict()))
        return 0
    print(f"{run_dir.path}: {len(records)} logged records, steps {records[0]['step']} - {records[-1]['step']}")
    for f in findings:
        print()
        print(f.describe())
    return 0
