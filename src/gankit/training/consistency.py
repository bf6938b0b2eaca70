"""Balanced consistency regularisation of D (bCR; Zhao et al. 2021, "Improved Consistency
Regularization for GANs"): D's loss gains

    lambda_real * E[(D(x) - D(T(x)))^2] + lambda_fake * E[(D(G(z)) - D(T(G(z))))^2]

for a random semantics-preserving transform T (the paper: a shift of up to 1/8 of the side, and a
flip where the data allow it), so D's verdict may not hinge on where a stroke sits to the pixel.
The paper uses lambda_real = lambda_fake = 10. T here is a policy of gankit.augment's own
differentiable ops at p = 1 (`loss.bcr_policy`, "translation" by default, with the `augment.*`
ratios); the images it transforms are the ones D was just scored on (after the run's own
augmentation, when there is one). Written here: it is a few lines on D's outputs, and none of the
libraries gankit uses has it. The transformed images carry no gradient back to G (D's step only).

    bcr = ConsistencyRegularization(10.0, 10.0, Augment("translation"))
    loss = d_loss + bcr(D, real, fake, real_out, fake_out)
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from ..augment.adaptive import Augment


class ConsistencyRegularization:
    def __init__(self, real_weight: float, fake_weight: float, transform: Augment):
        self.real_weight, self.fake_weight, self.transform = real_weight, fake_weight, transform

    def side(self, D: Callable, images: torch.Tensor, out: torch.Tensor) -> torch.Tensor:
        """E[(D(x) - D(T(x)))^2] over the batch: out is D(images) from the step itself."""
        moved = D(self.transform(images.detach()))
        return (out.float() - moved.float()).pow(2).mean()

    def __call__(
        self,
        D_real: Callable,
        D_fake: Callable,
        real: torch.Tensor,
        fake: torch.Tensor,
        real_out: torch.Tensor,
        fake_out: torch.Tensor,
    ) -> torch.Tensor:
        """The weighted penalty; D_real / D_fake score images (a conditional D with each side's labels)."""
        loss = real_out.new_zeros((), dtype=torch.float32)
        if self.real_weight > 0:
            loss = loss + self.real_weight * self.side(D_real, real, real_out)
        if self.fake_weight > 0:
            loss = loss + self.fake_weight * self.side(D_fake, fake, fake_out)
        return loss
