"""LeCam regularisation of D (Tseng et al. 2021, "Regularizing generative adversarial networks
under limited data"): D's loss gains

    lambda * ( E[relu(D(x) - a_fake)^2] + E[relu(a_real - D(G(z)))^2] )

where a_real and a_fake are moving averages of D's mean raw output on real and on generated
batches. It keeps D's verdicts on real images from running away from those on generated ones,
which is how a D that memorises a small training set shows; the paper pairs it with DiffAugment
and ADA (each lowers FID further with it). On scripts/small_data_augmentation.py's 300-image
folder it did not keep the overfitting_d finding away (README). Written here: it is a few lines on
D's outputs, and none of the libraries gankit uses has it. With several processes each rank keeps
the averages of its own batches (D's gradients are still all-reduced).

    lecam = LeCam(weight=0.3, decay=0.99, device=device)
    loss = d_loss + lecam(real_out, fake_out)   # updates the averages, then the penalty

The averages live on the training device (no host sync in the step) and are checkpointed, so a
resumed run continues them exactly.
"""

from __future__ import annotations

import torch


class LeCam:
    def __init__(self, weight: float, decay: float, device: torch.device | str = "cpu"):
        self.weight, self.decay = weight, decay
        self.anchors = torch.zeros(2, device=device)  # (a_real, a_fake)
        self.started = False  # the first batch sets the averages: no pull towards the arbitrary start 0

    @torch.no_grad()
    def update(self, real_out: torch.Tensor, fake_out: torch.Tensor) -> None:
        means = torch.stack([real_out.detach().float().mean(), fake_out.detach().float().mean()])
        self.anchors = self.decay * self.anchors + (1 - self.decay) * means if self.started else means
        self.started = True

    def penalty(self, real_out: torch.Tensor, fake_out: torch.Tensor) -> torch.Tensor:
        a_real, a_fake = self.anchors[0], self.anchors[1]
        real_term = torch.relu(real_out.float() - a_fake).pow(2).mean()
        fake_term = torch.relu(a_real - fake_out.float()).pow(2).mean()
        return self.weight * (real_term + fake_term)

    def __call__(self, real_out: torch.Tensor, fake_out: torch.Tensor) -> torch.Tensor:
        """Move the averages by this batch (as the paper's code does, before the penalty), then
        return the weighted penalty."""
        self.update(real_out, fake_out)
        return self.penalty(real_out, fake_out)

    def state_dict(self) -> dict:
        return {"anchors": self.anchors.cpu().clone(), "started": self.started}

    def load_state_dict(self, state: dict) -> None:
        self.anchors = state["anchors"].to(self.anchors.device, torch.float32).clone()
        self.started = bool(state["started"])
