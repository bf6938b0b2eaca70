"""The config a command runs on, from its command line: a preset or --config FILE, then --set
overrides. Shared by `train`, `show` and `bench`."""

from __future__ import annotations

from ..errors import GankitError


def add_config_arguments(
    p, config_help: str = "a config TOML file instead of a preset", set_example: str = "data.resolution=64"
) -> None:
    p.add_argument("preset", nargs="?", help="preset name (see `gankit presets`)")
    p.add_argument("--config", help=config_help)
    p.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help=f"change a config value, e.g. --set {set_example}",
    )


def resolve_config(args):
    from ..config import load_file, load_preset

    if args.config and args.preset:
        raise GankitError("give a preset or --config FILE, not both")
    if not (args.config or args.preset):
        raise GankitError("name a preset (see `gankit presets`) or give --config FILE")
    overrides = list(args.overrides)
    if getattr(args, "device", None):
        overrides.append(f"device={args.device}")
    return load_file(args.config, overrides) if args.config else load_preset(args.preset, overrides)
