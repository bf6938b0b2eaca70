"""gankit show PRESET: the resolved config, both networks and their parameter counts."""

from __future__ import annotations

from .config_args import add_config_arguments, resolve_config


def add_parser(sub) -> None:
    p = sub.add_parser("show", help="print a preset's resolved config, its networks and parameter counts")
    add_config_arguments(p)
    p.set_defaults(func=run)


def run(args) -> int:
    from ..config import to_toml
    from ..data import sample_shape
    from ..nets import build_networks, count_parameters

    cfg = resolve_config(args)
    g, d = build_networks(cfg.model, sample_shape(cfg.data))
    print(to_toml(cfg))
    print(f"# Generator: {count_parameters(g):,} parameters\n{g}\n")
    print(f"# Discriminator: {count_parameters(d):,} parameters\n{d}")
    return 0
