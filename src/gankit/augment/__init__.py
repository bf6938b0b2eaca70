"""Augmentation of what D sees (issue 17): DiffAugment's differentiable colour, translation and
cutout (Zhao et al. 2020) and ADA's zoom and rotation ("geometric"), applied to real and generated
images alike in both players' steps, and ADA's adaptive probability (Karras et al. 2020).

    aug = Augment.from_config(cfg.augment, device)   # None-like when augment.policy is ""
    D(aug(real)), D(aug(fake))                        # in D's step and in G's
    aug.observe(sign_of_D_on_real)                    # ADA: p follows r_t toward augment.ada_target

Written here rather than taken from kornia: it is a few tensor ops, every random draw comes
from the global torch RNG inside the step (so a resumed run draws the same numbers and
continues bitwise), and p is a device tensor the step reads without a host sync.
"""

from .adaptive import Augment
from .policy import OPS, check_policy, parse_policy

__all__ = ["Augment", "OPS", "check_policy", "parse_policy"]
