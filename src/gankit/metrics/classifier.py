"""The shipped feature networks for 28x28 grey images: one small CNN per data set (MNIST,
Fashion-MNIST), trained by scripts/train_classifiers.py.

Features are the penultimate layer (128 values after ReLU); the logits give p(y|x) for the
Inception-Score-style score and for class coverage. Inputs are float images in [-1, 1], the
range every generator's Tanh produces.
"""

from __future__ import annotations

from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from ..errors import GankitError

WEIGHTS_DIR = Path(__file__).resolve().parents[1] / "weights"
CLASSIFIER_SETS = ("mnist", "fashion-mnist")
FEATURE_DIM = 128


class SmallCNN(nn.Module):
    """LeNet-shaped: a 5x5 and a 3x3 convolution with batch norm (32 and 64 channels, each followed by
    2x2 max pooling: 28 -> 24 -> 12 -> 10 -> 5), one hidden linear layer of 128 (the features) and a
    linear classifier. About 0.23 M parameters; cheap enough to train on a laptop CPU."""

    def __init__(self, classes: int = 10):
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(1, 32, 5, bias=False),
            nn.BatchNorm2d(32),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 3, bias=False),
            nn.BatchNorm2d(64),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Flatten(),
        )
        self.hidden = nn.Sequential(nn.Linear(64 * 5 * 5, FEATURE_DIM), nn.ReLU())
        self.dropout = nn.Dropout(0.3)
        self.head = nn.Linear(FEATURE_DIM, classes)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return self.hidden(self.body(x))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.dropout(self.features(x)))

    def features_and_logits(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        f = self.features(x)
        return f, self.head(f)


def to_classifier_input(images: torch.Tensor) -> torch.Tensor:
    """Float [-1, 1] images (N, 1, H, W) -> (N, 1, 28, 28). Other sizes (e.g. the 32x32 presets) are
    resized with bilinear interpolation and antialiasing, the one documented way gankit does it.
    uint8 images [0, 255] are accepted too."""
    if images.dim() != 4 or images.shape[1] != 1:
        raise GankitError(
            f"the MNIST/Fashion-MNIST feature networks take grey images (N, 1, H, W); got shape {tuple(images.shape)}"
        )
    if images.dtype == torch.uint8:
        images = images.float().div(127.5).sub(1.0)
    images = images.float()
    if images.shape[-2:] != (28, 28):
        images = F.interpolate(images, size=(28, 28), mode="bilinear", antialias=True, align_corners=False)
    return images


def weights_path(name: str) -> Path:
    return WEIGHTS_DIR / f"classifier-{name}.pt"


def load_classifier(name: str, device="cpu") -> SmallCNN:
    """The shipped classifier for data set `name`, in eval mode (weights loaded with weights_only=True)."""
    if name not in CLASSIFIER_SETS:
        raise GankitError(
            f"no shipped classifier for '{name}'; there are classifiers for: {', '.join(CLASSIFIER_SETS)}"
        )
    path = weights_path(name)
    if not path.is_file():
        raise GankitError(
            f"the {name} classifier weights are missing ({path}); recreate them with "
            f"`python scripts/train_classifiers.py --data-root DATA` or reinstall gankit"
        )
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:
        raise GankitError(
            f"{path} could not be loaded ({str(e).splitlines()[0][:200]}); retrain it with scripts/train_classifiers.py"
        ) from None
    net = SmallCNN()
    net.load_state_dict({k: v.float() if v.is_floating_point() else v for k, v in state.items()})
    return net.to(device).eval()
