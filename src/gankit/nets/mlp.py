"""Fully connected networks: seed S1 (1D Gaussian, ELU), seed S2 (Goodfellow's MNIST MLP), toy 2D."""

from __future__ import annotations

import math

from torch import nn

from .layers import Moments, activation


def _stack(sizes: list[int], act: str, dropout: float = 0.0, leak: float = 0.2) -> list[nn.Module]:
    """Linear maps between consecutive sizes with `act` (and dropout) between them, not after the last."""
    mods: list[nn.Module] = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        mods.append(nn.Linear(a, b))
        if i < len(sizes) - 2:
            mods.append(activation(act, leak))
            if dropout:
                mods.append(nn.Dropout(dropout))
    return mods


class MLPGenerator(nn.Module):
    """latent -> hidden x (layers-1) -> data; S1's map1 -> f -> map2 -> f -> map3 with layers=3."""

    def __init__(
        self, latent_dim: int, out_shape: tuple, hidden: int, layers: int, act: str, tanh: bool, leak: float = 0.2
    ):
        super().__init__()
        self.out_shape = tuple(out_shape)
        out = math.prod(self.out_shape)
        mods = _stack([latent_dim] + [hidden] * (layers - 1) + [out], act, leak=leak)
        if tanh:
            mods.append(nn.Tanh())
        self.net = nn.Sequential(*mods)

    def forward(self, z):
        return self.net(z).view(z.shape[0], *self.out_shape)


class MLPDiscriminator(nn.Module):
    """data -> hidden x (layers-1) -> one logit. With group > 1 it scores groups of samples by
    their moments (seed S1), returning one logit per group."""

    def __init__(
        self,
        in_shape: tuple,
        hidden: int,
        layers: int,
        act: str,
        group: int = 1,
        dropout: float = 0.0,
        leak: float = 0.2,
    ):
        super().__init__()
        features = math.prod(in_shape)
        pre: list[nn.Module] = [nn.Flatten()]
        if group > 1:
            pre.append(Moments(group))
            features *= 4
        mods = _stack([features] + [hidden] * (layers - 1) + [1], act, dropout, leak)
        self.net = nn.Sequential(*pre, *mods)

    def forward(self, x):
        return self.net(x)

    def features(self, x):
        """The last hidden layer's activations (loss.feature_matching)."""
        return self.net[:-1](x).flatten(1)


# Seed S2: Goodfellow-style MNIST MLP with fixed widths.
GOODFELLOW_G = [64, 128, 256, 512, 1024]
GOODFELLOW_D = [1024, 512, 256, 128]


class GoodfellowGenerator(nn.Module):
    """Linear(latent->64) ReLU -> 128 -> 256 -> 512 -> 1024 -> Linear(1024->784) -> Tanh, (N,1,28,28)."""

    def __init__(self, latent_dim: int, out_shape: tuple, act: str = "relu", leak: float = 0.2):
        super().__init__()
        self.out_shape = tuple(out_shape)
        sizes = [latent_dim] + GOODFELLOW_G + [math.prod(out_shape)]
        self.net = nn.Sequential(*_stack(sizes, act, leak=leak), nn.Tanh())

    def forward(self, z):
        return self.net(z).view(z.shape[0], *self.out_shape)


class GoodfellowDiscriminator(nn.Module):
    """flatten 784 -> 1024 -> 512 -> 256 -> 128 (ReLU after each) -> Linear(128->1); the seed's
    Sigmoid lives in the loss."""

    def __init__(self, in_shape: tuple, act: str = "relu", leak: float = 0.2):
        super().__init__()
        sizes = [math.prod(in_shape)] + GOODFELLOW_D + [1]
        self.net = nn.Sequential(nn.Flatten(), *_stack(sizes, act, leak=leak))

    def forward(self, x):
        return self.net(x)

    def features(self, x):
        """The last hidden layer's activations, 128 of them (loss.feature_matching)."""
        return self.net[:-1](x).flatten(1)
