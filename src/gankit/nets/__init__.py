"""Network registry: architecture name -> generator and discriminator builders.

    G, D = build_networks(cfg.model, data_shape=(1, 32, 32))

Every discriminator returns logits of shape (N, 1) (or one per group for S1, one per pack of
model.d_pack samples for PacGAN). With model.conditional = "true" (resolved from the data by
training.experiment.build) they are the conditional forms of nets/conditional.py: G(z, y), D(x, y).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, replace

from torch import nn

from ..errors import GankitError
from .conditional import (
    LabelJoinedDiscriminator,
    LabelJoinedGenerator,
    ProjectionDiscriminator,
    balanced_labels,
    is_conditional,
)
from .dcgan import (
    DCGANDiscriminator,
    DCGANGenerator,
    TConvDiscriminator,
    TConvGenerator,
    UpsampleDiscriminator,
    UpsampleGenerator,
)
from .layers import Packed, add_spectral_norm, dcgan_init, kaiming_init
from .mlp import GoodfellowDiscriminator, GoodfellowGenerator, MLPDiscriminator, MLPGenerator


@dataclass(frozen=True)
class Architecture:
    generator: Callable  # (model_cfg, data_shape) -> nn.Module
    discriminator: Callable
    summary: str
    conditioning: str = (
        "cbn"  # how the conditional form takes labels: joined (one-hot inputs) | cbn (cond. BN + projection D)
    )


def _image_shape(m, shape: tuple) -> tuple[int, int]:
    channels = m.channels or shape[0]
    resolution = m.resolution or (shape[-1] if len(shape) == 3 else 0)
    if len(shape) != 3:
        raise GankitError(f"this architecture needs image data; the data set gives samples of shape {shape}")
    return channels, resolution


def _check_res(name: str, got: int, want: int) -> None:
    if got != want:
        raise GankitError(
            f"the {name} networks are built for {want}x{want} images but the data are {got}x{got}; "
            f"set data.resolution={want}"
        )


def _tconv_g(m, shape):
    c, r = _image_shape(m, shape)
    _check_res("dcgan-tconv", r, 28)
    return TConvGenerator(m.latent_dim, c, m.g_activation, m.leak, m.g_width, _classes(m))


def _tconv_d(m, shape):
    c, r = _image_shape(m, shape)
    _check_res("dcgan-tconv", r, 28)
    return TConvDiscriminator(c, m.d_activation, m.dropout, m.leak, m.d_norm, m.d_width)


def _upsample_g(m, shape):
    c, r = _image_shape(m, shape)
    if r % 16:
        raise GankitError(f"dcgan-upsample needs a resolution divisible by 16 (got {r}); set data.resolution=32")
    return UpsampleGenerator(m.latent_dim, c, r, m.g_activation, m.leak, m.g_width, _classes(m))


def _upsample_d(m, shape):
    c, r = _image_shape(m, shape)
    return UpsampleDiscriminator(c, r, m.d_activation, m.dropout, m.leak, m.d_norm, m.d_width, m.d_mbstd)


ARCHITECTURES: dict[str, Architecture] = {
    "mlp": Architecture(
        lambda m, s: MLPGenerator(m.latent_dim, s, m.hidden, m.layers, m.g_activation, len(s) == 3, m.leak),
        lambda m, s: MLPDiscriminator(s, m.hidden, m.layers, m.d_activation, m.d_group, m.dropout, m.leak),
        "fully connected, `hidden` wide, `layers` linear maps (seed S1, toy sets)",
        "joined",
    ),
    "goodfellow": Architecture(
        lambda m, s: GoodfellowGenerator(m.latent_dim, s, m.g_activation, m.leak),
        lambda m, s: GoodfellowDiscriminator(s, m.d_activation, m.leak),
        "seed S2: G 64-128-256-512-1024-784, D 784-1024-512-256-128-1",
        "joined",
    ),
    "dcgan-tconv": Architecture(_tconv_g, _tconv_d, "seed S3: transposed-conv DCGAN for 28x28"),
    "dcgan-upsample": Architecture(_upsample_g, _upsample_d, "seed S4: upsample + conv DCGAN for 32x32"),
    "dcgan": Architecture(
        lambda m, s: DCGANGenerator(m.latent_dim, *_image_shape(m, s), m.g_activation, m.leak, m.g_width, _classes(m)),
        lambda m, s: DCGANDiscriminator(*_image_shape(m, s), m.d_activation, m.leak, m.d_norm, m.d_width, m.d_mbstd),
        "seed S5: RGB DCGAN, any power-of-two resolution >= 32",
    ),
}


def build_networks(m, data_shape: tuple) -> tuple[nn.Module, nn.Module]:
    """Build (G, D) for model config `m` and samples of `data_shape` (without the batch dimension)."""
    pack = getattr(m, "d_pack", 1)
    if _classes(m):
        if pack > 1:
            raise GankitError(
                "model.d_pack > 1 (PacGAN) packs samples of different classes into one input; "
                "it is not supported with model.conditional = true"
            )
        g, d = _conditional_networks(m, tuple(data_shape))
    elif pack > 1:  # D built for packs: m times the features (vectors) or the channels (images)
        g = ARCHITECTURES[m.g].generator(m, tuple(data_shape))
        if m.channels and len(data_shape) == 3:
            m = replace(m, channels=m.channels * pack)
        packed_shape = (data_shape[0] * pack, *data_shape[1:])
        d = Packed(ARCHITECTURES[m.d].discriminator(m, packed_shape), pack)
    else:
        g = ARCHITECTURES[m.g].generator(m, tuple(data_shape))
        d = ARCHITECTURES[m.d].discriminator(m, tuple(data_shape))
    if m.d_norm == "layer" and not m.d.startswith("dcgan"):
        raise GankitError(
            f"model.d_norm = 'layer' applies to the DCGAN discriminators; model.d = '{m.d}' "
            "has no normalisation layers (use d_norm = 'batch' or 'none')"
        )
    if m.init == "dcgan":
        dcgan_init(g)
        dcgan_init(d)
    if m.init == "kaiming":
        kaiming_init(g, m.leak if m.g_activation == "leaky_relu" else 0.0)
        kaiming_init(d, m.leak if m.d_activation == "leaky_relu" else 0.0)
    if m.spectral_norm:  # after init: the parametrisation keeps the initialised weight as its original
        add_spectral_norm(d)
    return g, d


def _classes(m) -> int:
    """Classes the networks are conditioned on: 0 for an unconditional model."""
    if m.conditional != "true":
        return 0
    if m.num_classes < 2:
        raise GankitError(
            "model.conditional = true needs model.num_classes (at least 2); it is set from the "
            "data's labels when the run is built"
        )
    return m.num_classes


def _conditional_networks(m, shape: tuple) -> tuple[nn.Module, nn.Module]:
    """Mirza & Osindero's label-joined networks for the MLP family; for the DCGAN family the
    generators build their conditional batch norm themselves and D becomes a projection critic."""
    k = m.num_classes
    g_arch, d_arch = ARCHITECTURES[m.g], ARCHITECTURES[m.d]
    if g_arch.conditioning == "joined":
        g = LabelJoinedGenerator(g_arch.generator(replace(m, latent_dim=m.latent_dim + k), shape), k)
    else:
        g = g_arch.generator(m, shape)
    if d_arch.conditioning == "joined":
        if m.d_group > 1:
            raise GankitError(
                "model.d_group > 1 scores groups of samples by their moments, which a label per "
                "sample cannot condition; use d_group = 1 for a conditional model"
            )
        d = LabelJoinedDiscriminator(
            d_arch.discriminator(m, (math.prod(shape) + k,)), k, getattr(m, "aux_classifier", 0) > 0
        )
    else:
        d = ProjectionDiscriminator(d_arch.discriminator(m, shape), k, getattr(m, "aux_classifier", 0) > 0)
    return g, d


def count_parameters(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


__all__ = ["ARCHITECTURES", "Architecture", "build_networks", "count_parameters", "is_conditional", "balanced_labels"]
