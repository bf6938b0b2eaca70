"""gankit show PRESET: the resolved config, both networks and their parameter counts."""

from __future__ import annotations


def add_parser(sub) -> None:
    p = sub.add_parser("show", help="print a preset's resolved config, its networks and parameter counts")
    p.add_argument("preset", nargs="?", help="preset name (see `gankit presets`)")
    p.add_argument("--config", help="a config TOML file instead of a preset")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="change a config value, e.g. --set data.resolution=64")
    p.set_defaults(func=run)


def run(args) -> int:
    from ..commands.train import resolve_config
    from ..config import to_toml
    from ..data import sample_shape
    from ..nets import build_networks, count_parameters

    cfg = resolve_config(args)
    g, d = build_networks(cfg.model, sample_shape(cfg.data))
    print(to_toml(cfg))
    print(f"# Generator: {count_parameters(g):,} parameters\n{g}\n")
    print(f"# Discriminator: {count_parameters(d):,} parameters\n{d}")
    return 0
