"""gankit presets: one line per preset."""

from __future__ import annotations


def add_parser(sub) -> None:
    p = sub.add_parser("presets", help="list the presets")
    p.set_defaults(func=run)


def run(args) -> int:
    from ..config import load_preset, preset_names

    names = preset_names()
    width = max(map(len, names))
    for name in names:
        print(f"{name:<{width}}  {load_preset(name).description}")
    return 0
