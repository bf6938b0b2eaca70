"""The `gankit` command line.

    gankit presets                       list the presets
    gankit show dcgan-mnist32            resolved config, networks, parameter counts
    gankit train ring-2d                 train (embedded data, no download)
    gankit train dcgan-mnist32 --set train.epochs=3 --data-root ../shared/data
    gankit train --resume runs/ring-2d-20261123-101500
    gankit sweep ring-pacgan2 --seeds 0-9     10 seeds, mean ± std of every final value (resumable)
    gankit sample runs/ring-2d-... --n 64 --out grid.png

Each subcommand lives in gankit/commands/<name>.py as add_parser(subparsers) + run(args).
"""

from __future__ import annotations

import argparse
import logging
import sys
import traceback

from .errors import GankitError

COMMANDS = [
    "presets",
    "show",
    "train",
    "sweep",
    "sample",
    "diagnose",
    "theory",
    "report",
    "serve",
    "eval",
    "export",
    "compare",
    "bench",
]


def build_parser() -> argparse.ArgumentParser:
    import importlib

    parser = argparse.ArgumentParser(prog="gankit", description="Train, evaluate and diagnose GANs.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        importlib.import_module(f"gankit.commands.{name.replace('-', '_')}").add_parser(sub)
    return parser


STOPPED = (
    "gankit: stopped at once (Ctrl-C); files already written are intact. A run with a checkpoint "
    "continues with: gankit train --resume RUN"
)


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="gankit: %(message)s", stream=sys.stderr)
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return args.func(args) or 0
    except GankitError as e:
        print(f"gankit: error: {e}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # output piped into `head` and the like
        sys.stderr.close()
        return 0
    except KeyboardInterrupt:  # a Ctrl-C outside training, or the second one during it
        print(STOPPED, file=sys.stderr)
        return 130
    except Exception:
        traceback.print_exc()
        print(
            "gankit: internal error: this is a bug in gankit, not in your input. Please report it with the "
            "traceback above and the command you ran.",
            file=sys.stderr,
        )
        return 1


if __name__ == "__main__":
    sys.exit(main())


def entry() -> int:
    """The program's entry point (`gankit`, `python -m gankit`): main(), then a quiet exit. Once
    main() has returned every file is written, so a Ctrl-C during the interpreter's own shutdown
    (clean-up of imported libraries) ends the process at once with status 130, not a traceback."""
    import os
    import signal

    try:
        code = main()
    except KeyboardInterrupt:  # a second Ctrl-C while main() was still reporting the first one's outcome
        print(STOPPED, file=sys.stderr)
        code = 130
    try:
        signal.signal(signal.SIGINT, lambda signum, frame: os._exit(130))
    except ValueError:  # not the main thread
        pass
    return code
