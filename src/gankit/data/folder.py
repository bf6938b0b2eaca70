"""Any folder of images, searched recursively: PNG, JPEG, WebP, BMP; grey, RGB, RGBA, palette and
16-bit images are all converted to RGB, then Resize + CenterCrop to the resolution.
Unreadable files are skipped and counted. Symbolic links to folders are not followed
(so a link loop cannot trap the scan)."""

from __future__ import annotations

import logging
import os
import warnings
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from ..errors import GankitError

log = logging.getLogger("gankit")
EXTENSIONS = {".png", ".jpg", ".jpeg", ".webp", ".bmp"}
MAX_PIXELS = 200_000_000  # refuse decompression bombs rather than exhaust memory


def find_images(root: Path) -> list[Path]:
    found = []
    for dirpath, _dirs, files in os.walk(root, followlinks=False):
        found += [Path(dirpath) / f for f in files if Path(f).suffix.lower() in EXTENSIONS]
    return sorted(found)


def _to_rgb(img: Image.Image) -> Image.Image:
    if img.mode in ("I;16", "I;16B", "I;16L", "I"):
        arr = np.asarray(img, dtype=np.float64)
        top = 65535.0 if arr.max() > 255 else 255.0
        img = Image.fromarray((arr * (255.0 / top)).clip(0, 255).astype(np.uint8), "L")
    if img.mode in ("RGBA", "LA") or (img.mode == "P" and "transparency" in img.info):
        img = img.convert("RGBA")
        background = Image.new("RGBA", img.size, (255, 255, 255, 255))
        img = Image.alpha_composite(background, img)
    return img.convert("RGB")


def load_image(path: Path, resolution: int) -> np.ndarray | None:
    """HxWx3 uint8 after Resize(shorter side) + CenterCrop, or None when the file cannot be decoded."""
    from torchvision.transforms import functional as TF

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as img:
                if img.width * img.height > MAX_PIXELS:
                    return None
                img.draft("RGB", (resolution, resolution))  # JPEG: decode at reduced size, much faster
                img = _to_rgb(img)
        img = TF.resize(img, resolution, interpolation=TF.InterpolationMode.BILINEAR, antialias=True)
        img = TF.center_crop(img, [resolution, resolution])
        return np.asarray(img, dtype=np.uint8)
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError, Image.DecompressionBombWarning):
        return None


def list_folder(root: str | os.PathLike, resolution: int) -> list[Path]:
    """The image files under `root`, after checking that the folder and resolution make sense."""
    if not str(root):
        raise GankitError("this preset trains on a folder of images: say which with --set data.root=/path/to/images")
    root = Path(root).expanduser()
    if not root.is_dir():
        raise GankitError(
            f"image folder {root} does not exist (or is not a folder); set data.root to a folder of images"
        )
    if resolution < 1:
        raise GankitError("an image folder needs data.resolution (e.g. 64 or 128)")
    paths = find_images(root)
    if not paths:
        raise GankitError(
            f"image folder {root} holds no images (looked recursively for {', '.join(sorted(EXTENSIONS))})"
        )
    return paths


def decoded_bytes(n_files: int, resolution: int) -> int:
    """Memory that n_files decoded RGB images take as uint8."""
    return n_files * 3 * resolution * resolution


def load_folder(
    root: str | os.PathLike, resolution: int, workers: int | None = None, paths: list[Path] | None = None
) -> torch.Tensor:
    """All readable images under `root` (or just `paths` of them) as one uint8 tensor (N, 3, R, R)."""
    return load_folder_kept(root, resolution, workers, paths)[0]


def load_folder_kept(
    root: str | os.PathLike, resolution: int, workers: int | None = None, paths: list[Path] | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """(images as load_folder gives them, the indices into `paths` of the images kept): the kept
    indices select the labels of the readable files."""
    paths = list_folder(root, resolution) if paths is None else paths
    root = Path(root).expanduser()
    with ThreadPoolExecutor(workers or min(8, os.cpu_count() or 1)) as pool:
        decoded = list(pool.map(lambda p: load_image(p, resolution), paths))
    kept = torch.tensor([i for i, a in enumerate(decoded) if a is not None], dtype=torch.int64)
    images = [a for a in decoded if a is not None]
    skipped = len(paths) - len(images)
    if not images:
        raise GankitError(
            f"none of the {len(paths)} image files under {root} could be read; they may be corrupt or not really images"
        )
    if skipped:
        log.warning("skipped %d unreadable image file(s) of %d under %s", skipped, len(paths), root)
    return torch.from_numpy(np.stack(images)).permute(0, 3, 1, 2).contiguous(), kept
