"""The augmentation a run applies to everything D sees, and ADA's adaptive probability.

ADA (Karras et al. 2020, "Training Generative Adversarial Networks with Limited Data"): the
overfitting heuristic r_t = E[sign(D(x_real))] is accumulated over `interval` D steps, then p
moves by sign(r_t - target) * (images in the interval) / ada_images, clamped to [0, 1]: p can go
from 0 to 1 in `ada_images` images. p and the accumulators are device tensors (no host sync in
the step) and part of the trainer's checkpoint, so a resumed run continues them exactly.
"""

from __future__ import annotations

import torch

from .. import distributed
from . import ops
from .policy import parse_policy


class Augment:
    def __init__(
        self,
        policy: str = "",
        p: float = 1.0,
        target: float = 0.0,
        interval: int = 4,
        images: int = 500_000,
        translation: float = 0.125,
        cutout: float = 0.5,
        rotation: float = 15.0,
        scale: float = 0.2,
        device="cpu",
    ):
        self.ops = parse_policy(policy)
        self.target, self.interval, self.images = target, interval, images
        self.translation_ratio, self.cutout_ratio = translation, cutout
        self.rotation, self.scale = rotation, scale
        self.p = torch.tensor(float(p), device=device)
        self.sign_sum = torch.zeros((), device=device)
        self.count = torch.zeros((), device=device)
        self.steps = 0  # D steps observed since the last adjustment

    @classmethod
    def from_config(cls, a, device) -> Augment:
        return cls(
            a.policy,
            a.p,
            a.ada_target,
            a.ada_interval,
            a.ada_images,
            translation=a.translation,
            cutout=a.cutout,
            rotation=a.rotation,
            scale=a.scale,
            device=device,
        )

    def switch_on(self, policy: str, target: float) -> None:
        """Start augmenting during a run (train.balance = auto, for an overfitting D): ADA from p = 0,
        so D's inputs change only as fast as the overfitting heuristic asks."""
        self.ops = parse_policy(policy)
        self.target = target
        self.p.zero_()
        self.sign_sum.zero_()
        self.count.zero_()
        self.steps = 0

    @property
    def enabled(self) -> bool:
        return bool(self.ops)

    @property
    def adaptive(self) -> bool:
        return self.enabled and self.target > 0

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        """The images as D should see them; unchanged (and no random draw) when the policy is empty."""
        if not self.ops:
            return x
        p = self.p.to(x.dtype)
        if "geometric" in self.ops:
            x = ops.geometric(x, p, self.rotation, self.scale)
        if "color" in self.ops:
            x = ops.color(x, p)
        if "translation" in self.ops:
            x = ops.translation(x, p, self.translation_ratio)
        if "cutout" in self.ops:
            x = ops.cutout(x, p, self.cutout_ratio)
        return x

    @torch.no_grad()
    def observe(self, real_signs: torch.Tensor) -> None:
        """One D step's sign(D(x)) of the real batch (+1 real, -1 fake verdicts); adjusts p every
        `interval` calls."""
        if not self.adaptive:
            return
        self.sign_sum += real_signs.float().sum()
        self.count += real_signs.numel()
        self.steps += 1
        if self.steps % self.interval:
            return
        totals = distributed.all_reduce(torch.stack([self.sign_sum, self.count]), "sum")  # all ranks' images
        r_t = totals[0] / totals[1].clamp_min(1)
        self.p.copy_((self.p + torch.sign(r_t - self.target) * totals[1] / self.images).clamp(0, 1))
        self.sign_sum.zero_()
        self.count.zero_()
        self.steps = 0

    def state_dict(self) -> dict:
        return {
            "p": self.p.cpu().clone(),
            "sign_sum": self.sign_sum.cpu().clone(),
            "count": self.count.cpu().clone(),
            "steps": self.steps,
        }

    def load_state_dict(self, state: dict) -> None:
        self.p.copy_(state["p"])
        self.sign_sum.copy_(state["sign_sum"])
        self.count.copy_(state["count"])
        self.steps = int(state["steps"])
