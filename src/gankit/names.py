"""Names of the built-in data sets, importable without torch (the command line's parser and the
config's validation read them before any network is built)."""

TOY_DATA = ("gaussian-1d", "ring-2d", "ring-pacgan", "grid-2d")  # the keys of gankit.data.toy.TOY_SETS
IMAGE_DATA = ("mnist", "fashion-mnist", "stacked-mnist", "folder")


def is_toy(data_name: str) -> bool:
    """Points from a known density (toy mixtures), as opposed to images."""
    return data_name in TOY_DATA
