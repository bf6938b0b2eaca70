"""Feature networks: which network turns samples into the arrays the metrics compare.

- MNIST, Fashion-MNIST (any resolution, grey): the shipped classifier of that data set
  (`classifier-mnist`, `classifier-fashion-mnist`); 32x32 samples are resized to 28x28 with
  bilinear interpolation and antialiasing.
- RGB image folders: Inception-v3 (torchvision's implementation and ImageNet weights, 2048-d pool
  features, inputs resized to 299x299 in [-1, 1]). Its values are not comparable with FIDs published
  with the TensorFlow Inception graph. The weights are never downloaded at run time: they are read
  from $GANKIT_INCEPTION_WEIGHTS or torch's hub cache ($TORCH_HOME/hub/checkpoints/). When they are
  missing the error says how to provide them; there is no silent fallback to another network.
- Toy sets: no network; metrics compare samples with the true distribution (`true-distribution`).

Every metric record names the feature network that produced it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F

from ..errors import GankitError

INCEPTION_FILE = "inception_v3_google-0cc3c7bd.pth"  # torchvision's ImageNet weights
INCEPTION_URL = f"https://download.pytorch.org/models/{INCEPTION_FILE}"


@dataclass
class FeatureNet:
    """`name` goes into every metric record; `embed(images)` -> (features, logits), both float tensors."""

    name: str
    module: torch.nn.Module
    prepare: callable
    device: torch.device

    @torch.no_grad()
    def embed(self, images: torch.Tensor, batch: int = 500) -> tuple[torch.Tensor, torch.Tensor]:
        feats, logits = [], []
        for chunk in images.split(batch):
            f, z = self.module.features_and_logits(self.prepare(chunk).to(self.device))
            feats.append(f.float().cpu())
            logits.append(z.float().cpu())
        return torch.cat(feats), torch.cat(logits)


def inception_weights_path() -> Path:
    env = os.environ.get("GANKIT_INCEPTION_WEIGHTS")
    if env:
        return Path(env).expanduser()
    return Path(torch.hub.get_dir()) / "checkpoints" / INCEPTION_FILE


class _Inception(torch.nn.Module):
    """torchvision's Inception-v3 split into pool features (2048) and ImageNet logits."""

    def __init__(self, net):
        super().__init__()
        self.net = net
        self.fc = net.fc
        net.fc = torch.nn.Identity()

    def features_and_logits(self, x):
        f = self.net(x)
        return f, self.fc(f)


def _inception_prepare(images: torch.Tensor) -> torch.Tensor:
    """[-1, 1] RGB -> 299x299 [-1, 1]: the Google weights expect exactly this range (torchvision's
    `transform_input=True` maps ImageNet-normalised input back to it; we feed it directly)."""
    if images.dtype == torch.uint8:
        images = images.float().div(127.5).sub(1.0)
    if images.dim() != 4 or images.shape[1] != 3:
        raise GankitError(f"Inception-v3 features need RGB images (N, 3, H, W); got {tuple(images.shape)}")
    return F.interpolate(images.float(), size=(299, 299), mode="bilinear", antialias=True, align_corners=False)


def load_inception(device="cpu") -> FeatureNet:
    from torchvision.models import inception_v3

    path = inception_weights_path()
    if not path.is_file():
        raise GankitError(
            f"Inception-v3 weights are not available here (looked for {path}); gankit does not download "
            f"them during evaluation and uses no other network in their place.\n"
            f"  Download {INCEPTION_URL} on a machine with network access and either put it at {path} "
            f"or point $GANKIT_INCEPTION_WEIGHTS at the file.")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:
        raise GankitError(f"{path} is not a loadable Inception-v3 weight file ({str(e).splitlines()[0][:200]})") from None
    net = inception_v3(weights=None, aux_logits=True, init_weights=False, transform_input=False)
    net.load_state_dict(state)
    net.aux_logits, net.AuxLogits = False, None
    return FeatureNet("inception-v3-torchvision", _Inception(net).to(device).eval(), _inception_prepare,
                      torch.device(device))


def feature_net_for(data_name: str, channels: int, device="cpu") -> FeatureNet:
    """The feature network for samples of data set `data_name` (see the module docstring)."""
    from .classifier import CLASSIFIER_SETS, load_classifier, to_classifier_input

    if data_name in CLASSIFIER_SETS:
        return FeatureNet(f"classifier-{data_name}", load_classifier(data_name, device), to_classifier_input,
                          torch.device(device))
    if channels == 3:
        return load_inception(device)
    raise GankitError(f"no feature network for {channels}-channel images of data set '{data_name}'; "
                      "image metrics cover MNIST, Fashion-MNIST (shipped classifiers) and RGB (Inception-v3)")
