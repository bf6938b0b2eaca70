"""Class labels as data: the IDX label files of MNIST/Fashion-MNIST, or the class subfolders of an
image folder (torchvision's ImageFolder convention: one subfolder per class, classes in sorted
order, label = index of the image's top-level subfolder). A folder without subfolders has no labels.

    labels, classes = folder_labels(root, paths)          # (int64 (N,), ["cat", "dog"]) or (None, None)
    conditional, k = resolve_conditioning(cfg.model, dataset)
"""

from __future__ import annotations

import os
from pathlib import Path

import torch

from ..errors import GankitError

CLASS_NAMES = {
    "mnist": [str(d) for d in range(10)],
    "fashion-mnist": [
        "T-shirt/top",
        "Trouser",
        "Pullover",
        "Dress",
        "Coat",
        "Sandal",
        "Shirt",
        "Sneaker",
        "Bag",
        "Ankle boot",
    ],
}
OUTSIDE = -1  # label of an image lying directly in the root, outside every class subfolder


def folder_labels(root: str | os.PathLike, paths: list[Path]) -> tuple[torch.Tensor | None, list[str] | None]:
    """Labels of `paths` (found under `root`) by their top-level subfolder, and the class names in
    label order. (None, None) when every image lies directly in `root` (no classes)."""
    root = Path(root).expanduser()
    tops = [p.relative_to(root).parts[0] if len(p.relative_to(root).parts) > 1 else None for p in paths]
    classes = sorted({t for t in tops if t is not None})
    if not classes:
        return None, None
    index = {c: i for i, c in enumerate(classes)}
    return torch.tensor([OUTSIDE if t is None else index[t] for t in tops], dtype=torch.int64), classes


def check_labels(labels: torch.Tensor, n_samples: int, num_classes: int, where: str = "the data") -> None:
    """One integer label in [0, num_classes) per sample, or a GankitError saying what is wrong."""
    if labels.dim() != 1 or len(labels) != n_samples:
        raise GankitError(
            f"{where} has {n_samples} samples but {len(labels) if labels.dim() else 0} labels "
            f"(shape {tuple(labels.shape)}); give exactly one label per sample"
        )
    if labels.is_floating_point() or labels.dtype == torch.bool:
        raise GankitError(f"the labels of {where} must be integers (got {labels.dtype})")
    lo, hi = int(labels.min()), int(labels.max())
    if lo < 0 or hi >= num_classes:
        bad = int(((labels < 0) | (labels >= num_classes)).sum())
        raise GankitError(
            f"{bad} label(s) of {where} are out of range: labels run from {lo} to {hi} but a "
            f"model of {num_classes} classes takes 0..{num_classes - 1}; raise model.num_classes "
            "or fix the labels"
        )


def resolve_conditioning(m, dataset) -> tuple[bool, int]:
    """(conditional, number of classes) for model config `m` (model.conditional = true | false | auto)
    and the data set. auto: conditional when the data have labels of at least two classes."""
    if m.conditional == "false":
        return False, 0
    labels = getattr(dataset, "labels", None)
    classes = getattr(dataset, "classes", None)
    where = f"data set '{dataset.name}'"
    if labels is None:
        if m.conditional == "auto":
            return False, 0
        hint = (
            " (put the images of each class in a subfolder of data.root, as torchvision's ImageFolder reads them)"
            if dataset.name == "folder"
            else ""
        )
        raise GankitError(
            f"model.conditional = true but {where} has no labels{hint}; use "
            "model.conditional = auto to train unconditionally when there are none"
        )
    outside = int((labels == OUTSIDE).sum()) if classes is not None else 0
    if outside:
        raise GankitError(
            f"{outside} image(s) lie directly in data.root, outside the class subfolders "
            f"({', '.join(classes[:5])}{', ...' if len(classes) > 5 else ''}); move them into a "
            "class subfolder, or train unconditionally (model.conditional = false)"
        )
    found = len(classes) if classes is not None else int(labels.max()) + 1
    if found < 2:
        if m.conditional == "auto":
            return False, 0
        raise GankitError(
            f"{where} has one class only ({classes[0] if classes else 'label 0'}): a conditional "
            "model needs at least two classes (one subfolder per class); add class subfolders "
            "or set model.conditional = false"
        )
    k = m.num_classes or found
    check_labels(labels, len(dataset), k, where)
    return True, k


__all__ = ["CLASS_NAMES", "folder_labels", "check_labels", "resolve_conditioning"]
