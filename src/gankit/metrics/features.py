"""Feature networks: which network turns samples into the arrays the metrics compare.

- MNIST, Fashion-MNIST (any resolution, grey): the shipped classifier of that data set
  (`classifier-mnist`, `classifier-fashion-mnist`); 32x32 samples are resized to 28x28 with
  bilinear interpolation and antialiasing (the reference images take the same path, see evaluate.py).
- Stacked MNIST: the MNIST classifier on each channel (metrics/stacked.py): 384 features, 30 logits.
- RGB image folders: the standard FID network, the Inception-v3 port of TF's 2015-12-05 graph
  (`pt_inception-2015-12-05` weights) as torch-fidelity implements it: uint8 input, resized to
  299x299 with TF 1.x's bilinear resize (the documented FID preprocessing), 2048-d pool features and
  the 1008 logits. Its weights are downloaded on first use into the user cache and checked
  against their SHA-256 (see weights.py); offline the error says which file to place where. There
  is no fallback to another network.
- Toy sets: no network; metrics compare samples with the true distribution (`true-distribution`).

Every metric record names the feature network, its weights' SHA-256 and the resize on the way in.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import torch

from ..errors import GankitError
from .weights import INCEPTION, fetch, located

INCEPTION_NAME = "inception-v3-tf-2015-12-05"
INCEPTION_RESIZE = "uint8 -> 299x299, TF1 bilinear (torch-fidelity)"


@dataclass
class FeatureNet:
    """`name`, `weights_sha256` and `resize` go into every metric record; `embed(images)` ->
    (features, logits), both float tensors."""

    name: str
    module: torch.nn.Module
    prepare: callable
    device: torch.device
    weights_sha256: str = ""
    resize: str = ""

    @torch.no_grad()
    def embed(self, images: torch.Tensor, batch: int = 500) -> tuple[torch.Tensor, torch.Tensor]:
        feats, logits = [], []
        for chunk in images.split(batch):
            f, z = self.module.features_and_logits(self.prepare(chunk).to(self.device))
            feats.append(f.float().cpu())
            logits.append(z.float().cpu())
        return torch.cat(feats), torch.cat(logits)


def inception_weights_path() -> Path | None:
    """Where the Inception weights are now (hash not checked), or None when they are absent."""
    return located(INCEPTION)


def inception_available() -> bool:
    """True when Inception metrics can run without asking: the weights are here, or may be downloaded."""
    from .weights import offline

    return inception_weights_path() is not None or not offline()


class _Inception(torch.nn.Module):
    """torch-fidelity's Inception-v3 giving (2048 pool features, 1008 logits) for uint8 images."""

    def __init__(self, net):
        super().__init__()
        self.net = net

    def features_and_logits(self, x):
        f, z = self.net(x)
        return f, z


def _inception_prepare(images: torch.Tensor) -> torch.Tensor:
    """RGB images -> uint8 (generated floats in [-1, 1] are quantised as a saved PNG would be)."""
    from ..data import to_uint8

    if images.dim() != 4 or images.shape[1] != 3:
        raise GankitError(f"Inception-v3 features need RGB images (N, 3, H, W); got {tuple(images.shape)}")
    return images if images.dtype == torch.uint8 else to_uint8(images)


def load_inception(device="cpu") -> FeatureNet:
    path = fetch(INCEPTION)  # checked: exactly the published bytes (or a GankitError saying what to do)
    try:
        from torch_fidelity.feature_extractor_inceptionv3 import FeatureExtractorInceptionV3
    except ImportError:
        raise GankitError("the FID network needs torch-fidelity: pip install torch-fidelity") from None
    try:
        net = FeatureExtractorInceptionV3(
            "inception-v3-compat", ["2048", "logits_unbiased"], feature_extractor_weights_path=str(path)
        )
    except Exception as e:
        raise GankitError(
            f"{path} is not a loadable Inception-v3 weight file ({str(e).splitlines()[0][:200]})"
        ) from None
    return FeatureNet(
        INCEPTION_NAME,
        _Inception(net).to(device).eval(),
        _inception_prepare,
        torch.device(device),
        INCEPTION.sha256,
        INCEPTION_RESIZE,
    )


def file_sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def feature_net_for(data_name: str, channels: int, device="cpu", resolution: int = 28) -> FeatureNet:
    """The feature network for samples of data set `data_name` (see the module docstring)."""
    from .classifier import CLASSIFIER_SETS, load_classifier, to_classifier_input, weights_path

    if data_name == "stacked-mnist":  # the MNIST classifier on each of the three channels
        from .stacked import NET_NAME, PerChannelClassifier, to_stacked_input

        return FeatureNet(
            NET_NAME,
            PerChannelClassifier(load_classifier("mnist", device)),
            to_stacked_input,
            torch.device(device),
            file_sha256(weights_path("mnist")),
            "each channel " + ("as is (28x28)" if resolution in (0, 28) else f"{resolution}->28 bilinear antialias"),
        )
    if data_name in CLASSIFIER_SETS:
        return FeatureNet(
            f"classifier-{data_name}",
            load_classifier(data_name, device),
            to_classifier_input,
            torch.device(device),
            file_sha256(weights_path(data_name)),
            "none" if resolution in (0, 28) else f"{resolution}->28 bilinear antialias",
        )
    if channels == 3:
        return load_inception(device)
    raise GankitError(
        f"no feature network for {channels}-channel images of data set '{data_name}'; "
        "image metrics cover MNIST, Fashion-MNIST (shipped classifiers) and RGB (Inception-v3, swd, msssim)"
    )
