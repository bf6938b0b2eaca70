"""The names of the augmentations (torch-free, so config validation can check them)."""

from __future__ import annotations

from ..errors import GankitError, did_you_mean

# applied in this order: ADA's geometric transforms first, then DiffAugment's three (so cutout's
# holes stay square)
OPS = ("geometric", "color", "translation", "cutout")


def parse_policy(policy: str, key: str = "augment.policy") -> tuple[str, ...]:
    names = tuple(p.strip() for p in policy.split(",") if p.strip())
    for name in names:
        if name not in OPS:
            raise GankitError(
                f"{key}: unknown augmentation '{name}'{did_you_mean(name, OPS)}; "
                f"choose from: {', '.join(OPS)} (comma-separated)"
            )
    if len(set(names)) != len(names):
        raise GankitError(f"{key} = {policy!r} names an augmentation twice")
    return tuple(op for op in OPS if op in names)  # a fixed order whatever the spelling


def check_policy(policy: str, key: str = "augment.policy") -> None:
    parse_policy(policy, key)
