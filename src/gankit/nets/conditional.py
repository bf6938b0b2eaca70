"""Class-conditional networks: G(z, y) and D(x, y) for labels y of `num_classes` classes.

- MLP family: the conditional GAN of Mirza & Osindero 2014, the one-hot label joined to z (G's
  input) and to the flattened image (D's input); the networks are otherwise the unconditional ones.
- DCGAN generators: conditional batch norm (nets/layers.ConditionalBatchNorm, built by the
  generator classes themselves with num_classes > 0).
- DCGAN critics: the projection discriminator of Miyato & Koyama 2018,
  D(x, y) = psi(phi(x)) + <embed(y), phi(x)>, with phi the critic's layers up to its last one and
  psi that last (linear or 1x1 conv) layer.

With `aux_classifier` the critics also get the AC-GAN class head (Odena et al. 2017): a linear map
from the features the score is read from (the MLP's last hidden layer, the projection's phi) to
class logits, D.classify(x); auxiliary_loss() is its cross-entropy against the labels.

Every conditional network has `num_classes` > 0; is_conditional() tells them apart.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn


def is_conditional(net: nn.Module) -> bool:
    """Whether `net` takes labels (G(z, y) or D(x, y))."""
    return getattr(net, "num_classes", 0) > 0


def balanced_labels(n: int, num_classes: int, device=None) -> torch.Tensor:
    """0, 1, ..., k-1, 0, 1, ... (n labels): every class equally often, no random draw."""
    return torch.arange(n, device=device) % num_classes


class LabelJoinedGenerator(nn.Module):
    """G(z, y) = net([z, onehot(y)]) where net is an unconditional generator built for latent_dim + k."""

    def __init__(self, net: nn.Module, num_classes: int):
        super().__init__()
        self.net, self.num_classes = net, num_classes

    def forward(self, z: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return self.net(torch.cat([z, F.one_hot(y, self.num_classes).to(z.dtype)], dim=1))


def auxiliary_loss(D: nn.Module, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """AC-GAN's class term: the cross-entropy of D's class head on images x against labels y."""
    return F.cross_entropy(D.classify(x).float(), y)


def _class_head(features: int, num_classes: int, aux: bool) -> nn.Module | None:
    return nn.Linear(features, num_classes) if aux else None


class LabelJoinedDiscriminator(nn.Module):
    """D(x, y) = net([flatten(x), onehot(y)]) where net is an unconditional MLP critic built for
    prod(x.shape[1:]) + k inputs. AC-GAN's head reads net's last hidden layer with the label part
    of the input zeroed: the class is read from the image alone."""

    def __init__(self, net: nn.Module, num_classes: int, aux_classifier: bool = False):
        super().__init__()
        self.net, self.num_classes = net, num_classes
        head = net.net[-1]
        self.aux = _class_head(head.in_features, num_classes, aux_classifier)

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return self.net(torch.cat([x.flatten(1), F.one_hot(y, self.num_classes).to(x.dtype)], dim=1))

    def classify(self, x: torch.Tensor) -> torch.Tensor:
        no_label = x.new_zeros(x.shape[0], self.num_classes)
        return self.aux(self.net.net[:-1](torch.cat([x.flatten(1), no_label], dim=1)).flatten(1))


class ProjectionDiscriminator(nn.Module):
    """D(x, y) = psi(phi(x)) + <embed(y), phi(x)> around an unconditional critic whose `net` is an
    nn.Sequential ending in its output layer psi (Linear or 1x1 Conv2d). The embedding starts at
    zero-mean N(0, 1/features) entries so the projection term starts small next to psi."""

    def __init__(self, critic: nn.Module, num_classes: int, aux_classifier: bool = False):
        super().__init__()
        self.critic, self.num_classes = critic, num_classes
        head = critic.net[-1]
        features = head.in_features if isinstance(head, nn.Linear) else head.in_channels
        self.embed = nn.Embedding(num_classes, features)
        nn.init.normal_(self.embed.weight, 0.0, 1.0 / math.sqrt(features))
        self.aux = _class_head(features, num_classes, aux_classifier)

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        phi = self.critic.net[:-1](x)
        out = self.critic.net[-1](phi).view(x.shape[0], 1)
        return out + (self.embed(y) * phi.flatten(1)).sum(1, keepdim=True)

    def classify(self, x: torch.Tensor) -> torch.Tensor:
        return self.aux(self.critic.net[:-1](x).flatten(1))
