"""Small building blocks shared by the architectures."""

from __future__ import annotations

import torch
from torch import nn

from ..errors import GankitError


def activation(name: str, leak: float = 0.2) -> nn.Module:
    """The activations the seeds discuss. Never in-place: an in-place op that overwrites a
    tensor autograd still needs corrupts the backward pass (seed S4's warning)."""
    table = {
        "relu": lambda: nn.ReLU(),
        "leaky_relu": lambda: nn.LeakyReLU(leak),
        "elu": lambda: nn.ELU(),
        "softplus": lambda: nn.Softplus(),
        "tanh": lambda: nn.Tanh(),
    }
    if name not in table:
        raise GankitError(f"unknown activation '{name}'; choose one of: {', '.join(table)}")
    return table[name]()


def norm2d(kind: str, channels: int, eps: float = 1e-5) -> nn.Module:
    """D's normalisation after a conv: batch norm (the seeds), layer norm over (C, H, W) as a
    GroupNorm with one group (per sample, so WGAN-GP's per-sample gradient stays meaningful;
    same parameter count as batch norm), or none."""
    if kind == "batch":
        return nn.BatchNorm2d(channels, eps=eps)
    if kind == "layer":
        return nn.GroupNorm(1, channels, eps=1e-5)
    if kind == "none":
        return nn.Identity()
    raise GankitError(f"unknown model.d_norm '{kind}'; choose one of: batch, layer, none")


class MinibatchStd(nn.Module):
    """Appends one channel: the standard deviation of the features across groups of `group` samples,
    averaged over features and positions (Karras et al. 2018, ProGAN; StyleGAN's form). A D that
    sees it can tell a batch of near-copies from a varied one, which pushes G towards variety.
    A batch that `group` does not divide is grouped by its largest divisor not above `group`."""

    def __init__(self, group: int = 4):
        super().__init__()
        self.group = group

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, c, h, w = x.shape
        g = next(k for k in range(min(self.group, n), 0, -1) if n % k == 0)
        y = x.float().reshape(g, n // g, c, h, w)  # sample i is in group i % (n // g), as StyleGAN groups
        std = (y.var(dim=0, unbiased=False) + 1e-8).sqrt().mean(dim=(1, 2, 3))  # (n // g,)
        std = std.to(x.dtype).view(1, n // g, 1, 1, 1).expand(g, n // g, 1, h, w).reshape(n, 1, h, w)
        return torch.cat([x, std], dim=1)

    def extra_repr(self) -> str:
        return f"group={self.group}"


def add_spectral_norm(module: nn.Module) -> nn.Module:
    """Spectral normalisation on every conv and linear layer: W / sigma(W), sigma estimated by one
    power iteration per training forward, so each layer is (about) 1-Lipschitz."""
    from torch.nn.utils.parametrizations import spectral_norm

    for m in list(module.modules()):
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
            spectral_norm(m)
    return module


class Moments(nn.Module):
    """Turns groups of `group` samples into their first four moments per dimension.

    Seed S1's discriminator judges a whole vector of samples at once, pre-processed into
    moments, which lets it see the spread of G's output and not only single points.
    (N*group, dim) -> (N, 4*dim)
    """

    def __init__(self, group: int):
        super().__init__()
        self.group = group

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, dim = x.shape
        if n % self.group:
            raise ValueError(f"batch of {n} samples does not split into groups of {self.group}")
        g = x.view(n // self.group, self.group, dim)
        mean = g.mean(1, keepdim=True)
        centred = g - mean
        var = centred.pow(2).mean(1)
        std = (var + 1e-8).sqrt()
        z = centred / std.unsqueeze(1)
        return torch.cat([mean.squeeze(1), std, z.pow(3).mean(1), z.pow(4).mean(1)], dim=1)


class Packed(nn.Module):
    """PacGAN packing: `inner` scores packs of `m` samples concatenated, (B, *s) -> (B/m, 1).

    Consecutive samples form a pack: (B, C, H, W) -> (B/m, m*C, H, W) (the images stacked along
    the channels) and (B, dim) -> (B/m, m*dim). The samples of a batch are drawn independently,
    so each pack holds m independent samples, all real or all generated, as in Lin et al. (2018).
    Each output depends on its own m samples only, so per-sample input gradients of the summed
    outputs (the gradient penalty, R1) stay exact."""

    def __init__(self, inner: nn.Module, m: int):
        super().__init__()
        self.inner, self.m = inner, m

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n = x.shape[0]
        if n % self.m:
            raise GankitError(
                f"a batch of {n} samples does not split into packs of model.d_pack = {self.m}; "
                "make train.batch_size (per process) a multiple of it"
            )
        return self.inner(x.reshape(n // self.m, self.m * x.shape[1], *x.shape[2:]))


def dcgan_init(module: nn.Module) -> None:
    """DCGAN initialisation: conv weights N(0, 0.02), batch-norm weights N(1, 0.02), biases 0.
    Linear layers keep PyTorch's default, as in seed S4's reference code (its init touches
    only convolutions and batch norm)."""
    for m in module.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
            nn.init.normal_(m.weight, 0.0, 0.02)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)) and m.affine:  # conditional BN: its own gamma, beta
            nn.init.normal_(m.weight, 1.0, 0.02)
            nn.init.zeros_(m.bias)


class ConditionalBatchNorm(nn.Module):
    """Conditional batch norm (de Vries et al. 2017; the generator side of Miyato & Koyama 2018):
    batch norm without its own affine map, then a per-class scale gamma[y] and shift beta[y] from
    two embeddings, initialised to 1 and 0 (so at the start it is plain batch norm). For (N, C)
    or (N, C, H, W) inputs, as BatchNorm1d/2d."""

    def __init__(self, features: int, num_classes: int, eps: float = 1e-5, dims: int = 2):
        super().__init__()
        self.bn = (nn.BatchNorm2d if dims == 2 else nn.BatchNorm1d)(features, eps=eps, affine=False)
        self.gamma = nn.Embedding(num_classes, features)
        self.beta = nn.Embedding(num_classes, features)
        nn.init.ones_(self.gamma.weight)
        nn.init.zeros_(self.beta.weight)

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        shape = (x.shape[0], -1) + (1,) * (x.dim() - 2)
        return self.bn(x) * self.gamma(y).view(shape) + self.beta(y).view(shape)


class LabelledSequential(nn.Sequential):
    """nn.Sequential that hands the labels y to the conditional layers in it (ConditionalBatchNorm)."""

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        for module in self:
            x = module(x, y) if isinstance(module, ConditionalBatchNorm) else module(x)
        return x


def batch_norm(features: int, num_classes: int = 0, eps: float = 1e-5, dims: int = 2) -> nn.Module:
    """BatchNorm1d/2d, or its conditional form when num_classes > 0."""
    if num_classes:
        return ConditionalBatchNorm(features, num_classes, eps, dims)
    return (nn.BatchNorm2d if dims == 2 else nn.BatchNorm1d)(features, eps=eps)


def kaiming_init(module: nn.Module, leak: float = 0.0) -> None:
    """He initialisation (weights N(0, 2 / ((1 + leak^2) fan_in)), biases 0) for every linear and conv
    layer: the signal keeps its scale through a deep ReLU stack. PyTorch's default init shrinks it
    about 2.6x per ReLU layer, so seed S2's six-layer G starts with G(z) nearly the same image for
    every z (the spread across z is 0.4 % of the pixel range): it is born collapsed."""
    for m in module.modules():
        if isinstance(m, (nn.Linear, nn.Conv2d, nn.ConvTranspose2d)):
            nn.init.kaiming_normal_(m.weight, a=leak, nonlinearity="leaky_relu")
            if m.bias is not None:
                nn.init.zeros_(m.bias)
