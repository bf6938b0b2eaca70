"""Seed lists as users type them: "0-9", "0,3,5", "0-4,10-12"."""

from __future__ import annotations

from ..errors import GankitError

MAX_SEEDS = 10_000


def parse_seeds(text: str) -> list[int]:
    """'0-4,7' -> [0, 1, 2, 3, 4, 7], in the order given, each seed once."""
    seeds: list[int] = []
    for part in str(text).replace(" ", "").split(","):
        if not part:
            continue
        lo, sep, hi = part.partition("-")
        try:
            first, last = int(lo), int(hi) if sep else int(lo)
        except ValueError:
            raise GankitError(f"--seeds {text!r}: {part!r} is not a seed or a range; write e.g. 0-9 or 0,3,5") from None
        if first > last:
            raise GankitError(f"--seeds {text!r}: the range {part} runs backwards; write {last}-{first}")
        if first < 0 or last >= 2**32:
            raise GankitError(f"--seeds {text!r}: seeds must be in [0, 2**32)")
        seeds += [s for s in range(first, last + 1) if s not in seeds]
        if len(seeds) > MAX_SEEDS:
            raise GankitError(f"--seeds {text!r} asks for more than {MAX_SEEDS} seeds")
    if not seeds:
        raise GankitError(f"--seeds {text!r} names no seed; write e.g. 0-9")
    return seeds
