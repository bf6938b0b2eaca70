"""Convolutional GANs from the seeds: S3 (transposed convs, 28x28), S4 (upsample + conv, 32x32),
S5 (RGB DCGAN at any power-of-two resolution). Discriminators return logits."""

from __future__ import annotations

import math

from torch import nn

from ..errors import GankitError
from .layers import LabelledSequential, MinibatchStd, activation, batch_norm, norm2d


def scaled(channels: int, width: float) -> int:
    """A layer's channels times model.d_width / g_width (at least 1); width 1 keeps the seed's."""
    return max(1, int(round(channels * width)))


class SequentialFeatures:
    """features(x): D's last hidden features, the input of its final layer (self.net[-1]), flattened;
    what loss.feature_matching matches (Salimans et al. 2016)."""

    def features(self, x):
        return self.net[:-1](x).flatten(1)


class ConditionalStacks:
    """For a generator whose batch norms turn conditional when self.num_classes > 0: stack() builds
    its layers as an nn.Sequential, or as a LabelledSequential that hands the labels y to the
    conditional batch norms; through() runs such a stack, with y when conditional."""

    num_classes: int

    def stack(self, *layers: nn.Module) -> nn.Sequential:
        return (LabelledSequential if self.num_classes else nn.Sequential)(*layers)

    def through(self, stack: nn.Sequential, x, y):
        return stack(x, y) if self.num_classes else stack(x)


class TConvGenerator(ConditionalStacks, nn.Module):
    """Seed S3. Linear(100 -> 256*7*7) -> ReLU -> BN1d -> (256,7,7)
    -> ConvT(256->128, k3 s1 p1) -> ReLU -> BN -> ConvT(128->64, k4 s2 p1) [14x14] -> ReLU -> BN
    -> ConvT(64->C, k4 s2 p1) [28x28] -> Tanh.  (The seed puts ReLU before batch norm.)"""

    def __init__(
        self,
        latent_dim: int = 100,
        channels: int = 1,
        act: str = "relu",
        leak: float = 0.2,
        width: float = 1.0,
        num_classes: int = 0,
    ):
        super().__init__()
        a, b, c = scaled(256, width), scaled(128, width), scaled(64, width)
        k = self.num_classes = num_classes  # k > 0: conditional BN
        self.top = a
        self.fc = self.stack(nn.Linear(latent_dim, a * 7 * 7), activation(act, leak), batch_norm(a * 7 * 7, k, dims=1))
        self.conv = self.stack(
            nn.ConvTranspose2d(a, b, 3, 1, 1),
            activation(act, leak),
            batch_norm(b, k),  # 128 x 7 x 7
            nn.ConvTranspose2d(b, c, 4, 2, 1),
            activation(act, leak),
            batch_norm(c, k),  # 64 x 14 x 14
            nn.ConvTranspose2d(c, channels, 4, 2, 1),
            nn.Tanh(),  # C x 28 x 28
        )

    def forward(self, z, y=None):
        return self.through(self.conv, self.through(self.fc, z, y).view(-1, self.top, 7, 7), y)


class TConvDiscriminator(SequentialFeatures, nn.Module):
    """Seed S3. Conv(C->64, k3 s2) [13x13] -> LeakyReLU -> Dropout2d -> Conv(64->128, k3 s2) [6x6]
    -> LeakyReLU -> Dropout2d -> BN(128) -> flatten 4608 -> Linear(4608->1), no sigmoid.
    Dropout is a module here, so it switches off in eval mode (the seed's F.dropout2d did not).
    `norm` replaces the batch norm (layer | none) for critics such as WGAN-GP's."""

    def __init__(
        self,
        channels: int = 1,
        act: str = "leaky_relu",
        dropout: float = 0.5,
        leak: float = 0.2,
        norm: str = "batch",
        width: float = 1.0,
    ):
        super().__init__()
        a, b = scaled(64, width), scaled(128, width)
        self.net = nn.Sequential(
            nn.Conv2d(channels, a, 3, 2),
            activation(act, leak),
            nn.Dropout2d(dropout),  # 64 x 13 x 13
            nn.Conv2d(a, b, 3, 2),
            activation(act, leak),
            nn.Dropout2d(dropout),  # 128 x 6 x 6
            norm2d(norm, b),
            nn.Flatten(),
            nn.Linear(b * 6 * 6, 1),
        )

    def forward(self, x):
        return self.net(x)


class UpsampleGenerator(ConditionalStacks, nn.Module):
    """Seed S4. Linear(100 -> 128*s*s) -> (128,s,s) -> BN -> Up x2 -> Conv(128->128, k3) -> BN(eps 0.8)
    -> LeakyReLU(0.2) -> Up x2 -> Conv(128->64, k3) -> BN(eps 0.8) -> LeakyReLU(0.2) -> Conv(64->C, k3) -> Tanh,
    with s = resolution / 4 (8 for 32x32)."""

    def __init__(
        self,
        latent_dim: int = 100,
        channels: int = 1,
        resolution: int = 32,
        act: str = "leaky_relu",
        leak: float = 0.2,
        width: float = 1.0,
        num_classes: int = 0,
    ):
        super().__init__()
        k = self.num_classes = num_classes  # k > 0: conditional BN
        self.init_size = resolution // 4
        a, b = scaled(128, width), scaled(64, width)
        self.top = a
        self.fc = nn.Linear(latent_dim, a * self.init_size**2)
        self.conv = self.stack(
            batch_norm(a, k),
            nn.Upsample(scale_factor=2),  # 128 x 16 x 16
            nn.Conv2d(a, a, 3, 1, 1),
            batch_norm(a, k, eps=0.8),
            activation(act, leak),
            nn.Upsample(scale_factor=2),  # 128 x 32 x 32
            nn.Conv2d(a, b, 3, 1, 1),
            batch_norm(b, k, eps=0.8),
            activation(act, leak),
            nn.Conv2d(b, channels, 3, 1, 1),
            nn.Tanh(),
        )

    def forward(self, z, y=None):
        h = self.fc(z).view(-1, self.top, self.init_size, self.init_size)
        return self.through(self.conv, h, y)


class UpsampleDiscriminator(SequentialFeatures, nn.Module):
    """Seed S4. Four blocks Conv(k3 s2 p1) -> LeakyReLU(0.2) -> Dropout2d(0.25) -> BN(eps 0.8), no BN in
    the first; C -> 16 -> 32 -> 64 -> 128, then flatten -> Linear(128*(r/16)^2 -> 1).
    `norm` replaces the batch norm (layer | none) for critics such as WGAN-GP's; `mbstd` > 0 appends a
    minibatch standard deviation channel (groups of that many samples) before the final layer."""

    def __init__(
        self,
        channels: int = 1,
        resolution: int = 32,
        act: str = "leaky_relu",
        dropout: float = 0.25,
        leak: float = 0.2,
        norm: str = "batch",
        width: float = 1.0,
        mbstd: int = 0,
    ):
        super().__init__()
        widths = [channels] + [scaled(k, width) for k in (16, 32, 64, 128)]
        blocks: list[nn.Module] = []
        for i, (a, b) in enumerate(zip(widths[:-1], widths[1:])):
            blocks += [nn.Conv2d(a, b, 3, 2, 1), activation(act, leak), nn.Dropout2d(dropout)]
            if i > 0 and norm != "none":
                blocks.append(norm2d(norm, b, eps=0.8))
        side = math.ceil(resolution / 16)
        if mbstd:  # model.d_mbstd: the batch's spread as one more channel before the last layer
            blocks.append(MinibatchStd(mbstd))
        top = widths[-1] + (1 if mbstd else 0)
        self.net = nn.Sequential(*blocks, nn.Flatten(), nn.Linear(top * side * side, 1))

    def forward(self, x):
        return self.net(x)


def _check_power_of_two(resolution: int) -> None:
    if resolution < 32 or resolution & (resolution - 1):
        raise GankitError(f"the RGB DCGAN needs a resolution that is a power of two of at least 32 (got {resolution})")


class DCGANGenerator(ConditionalStacks, nn.Module):
    """Seed S5. (N,100,1,1) -> ConvT(k4 s1 p0) to 4x4, then ConvT(k4 s2 p1) doubling to the resolution;
    bias-free, BN + ReLU after each but the last, Tanh. 128: 100 -> 1024 -> 512 -> 256 -> 128 -> 64 -> 3."""

    def __init__(
        self,
        latent_dim: int = 100,
        channels: int = 3,
        resolution: int = 128,
        act: str = "relu",
        leak: float = 0.2,
        width: float = 1.0,
        num_classes: int = 0,
    ):
        super().__init__()
        _check_power_of_two(resolution)
        k = self.num_classes = num_classes  # k > 0: conditional BN
        n_up = int(math.log2(resolution)) - 2  # stride-2 layers after the 4x4 one
        widths = [scaled(64 * 2**i, width) for i in range(n_up)][::-1]  # e.g. [1024, 512, 256, 128, 64] at 128
        mods: list[nn.Module] = [
            nn.ConvTranspose2d(latent_dim, widths[0], 4, 1, 0, bias=False),
            batch_norm(widths[0], k),
            activation(act, leak),
        ]  # 4 x 4
        for a, b in zip(widths[:-1], widths[1:]):
            mods += [nn.ConvTranspose2d(a, b, 4, 2, 1, bias=False), batch_norm(b, k), activation(act, leak)]
        mods += [nn.ConvTranspose2d(widths[-1], channels, 4, 2, 1, bias=False), nn.Tanh()]
        self.net = self.stack(*mods)

    def forward(self, z, y=None):
        z = z.view(z.shape[0], -1, 1, 1)
        return self.through(self.net, z, y)


class DCGANDiscriminator(SequentialFeatures, nn.Module):
    """Seed S5. Conv(k4 s2 p1) halving down to 2x2: 3 -> 64 -> ... -> 2048 at 128; LeakyReLU(0.2);
    BN after every conv but the first; AdaptiveAvgPool2d(1); Conv(k1) -> one logit, (N, 1).
    `norm` replaces the batch norm (layer | none) for critics such as WGAN-GP's; `mbstd` > 0 appends a
    minibatch standard deviation channel before the pooling."""

    def __init__(
        self,
        channels: int = 3,
        resolution: int = 128,
        act: str = "leaky_relu",
        leak: float = 0.2,
        norm: str = "batch",
        width: float = 1.0,
        mbstd: int = 0,
    ):
        super().__init__()
        _check_power_of_two(resolution)
        n_down = int(math.log2(resolution)) - 1  # 128 -> 2 is 6 halvings ... plus one: 7 convs at 128
        widths = [channels] + [scaled(64 * 2**i, width) for i in range(n_down)]
        mods: list[nn.Module] = []
        for i, (a, b) in enumerate(zip(widths[:-1], widths[1:])):
            mods.append(nn.Conv2d(a, b, 4, 2, 1))
            if i > 0 and norm != "none":
                mods.append(norm2d(norm, b))
            mods.append(activation(act, leak))
        if mbstd:  # model.d_mbstd: the batch's spread as one more channel before the last layers
            mods.append(MinibatchStd(mbstd))
        mods += [nn.AdaptiveAvgPool2d(1), nn.Conv2d(widths[-1] + (1 if mbstd else 0), 1, 1)]
        self.net = nn.Sequential(*mods)

    def forward(self, x):
        return self.net(x).view(-1, 1)
