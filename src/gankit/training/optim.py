"""Optimisers and gradient norms for the two players."""

from __future__ import annotations

import torch


def make_optimizer(params, o, fused: bool = False) -> torch.optim.Optimizer:
    """Adam (optim.*.kind = adam) or SGD with momentum beta1, from an OptimConfig."""
    if o.kind == "sgd":
        return torch.optim.SGD(params, lr=o.lr, momentum=o.beta1, weight_decay=o.weight_decay)
    # foreach Adam: one launch per group of tensors instead of one per tensor; fused: one kernel for all
    return torch.optim.Adam(
        params,
        lr=o.lr,
        betas=(o.beta1, o.beta2),
        weight_decay=o.weight_decay,
        **({"fused": True} if fused else {"foreach": True}),
    )


def grad_norm(params) -> torch.Tensor:
    """The L2 norm of all gradients together, computed on the device (no host sync)."""
    grads = [p.grad for p in params if p.grad is not None]
    if not grads:
        return torch.zeros(())
    return torch.linalg.vector_norm(torch.stack([torch.linalg.vector_norm(g) for g in grads]))


def learning_rates(opt_g: torch.optim.Optimizer, opt_d: torch.optim.Optimizer) -> tuple[float, float]:
    return opt_g.param_groups[0]["lr"], opt_d.param_groups[0]["lr"]
