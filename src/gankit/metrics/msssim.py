"""MS-SSIM diversity (Odena et al. 2017, AC-GAN section 4.2): the mean multi-scale structural
similarity of random pairs of generated images, next to the same for random pairs of real images.
A set that repeats itself (mode collapse) has pairs far more alike than real pairs: its MS-SSIM
is far above the real set's. Needs no pretrained network.

- msssim:      mean MS-SSIM of `pairs` random pairs of distinct generated images
- msssim_real: the same for real images (the level a perfect generator shows)
- msssim_gap:  |msssim - msssim_real|, lower is better (can pick best.pt)

MS-SSIM itself is torchmetrics' implementation (Gaussian window, the five scale weights of Wang
et al. 2003; colour channels averaged at each scale before the product over scales, as Google's
reference code that Odena et al. used does; negative terms clamped to 0). Small images cannot hold five scales of an 11-pixel window, so the scales are cut
to those whose side stays >= 8 pixels (weights renormalised) and the window shrinks to the
largest odd size that fits, with sigma scaled alongside (as Google's reference code does for
small images). 32x32 images: 3 scales, 7x7 window; 64: 4 and 7; 128: 5 and 7; 256+: 5 and 11.
"""

from __future__ import annotations

import torch

from ..errors import GankitError

BETAS = (0.0448, 0.2856, 0.3001, 0.2363, 0.1333)


def settings(side: int) -> tuple[tuple[float, ...], int, float]:
    """(scale weights, window size, sigma) for square-ish images whose smaller side is `side`."""
    scales = 1
    while scales < len(BETAS) and side // 2**scales >= 8:
        scales += 1
    betas = BETAS[:scales]
    total = sum(betas)
    div = max(1, scales - 1) ** 2  # torchmetrics' own size check
    k = 11
    while k > 3 and not ((k - 1) * 2 ** (scales - 1) < side and side // div > k - 1):
        k -= 2
    return tuple(b / total for b in betas), k, 1.5 * k / 11


def pair_msssim(a: torch.Tensor, b: torch.Tensor, batch: int = 256) -> torch.Tensor:
    """MS-SSIM of each pair (a[i], b[i]) of uint8 images (N, C, H, W)."""
    try:
        from torchmetrics.functional.image import multiscale_structural_similarity_index_measure as ms_ssim
    except ImportError:
        raise GankitError("the msssim metric needs torchmetrics: pip install torchmetrics") from None
    side = min(a.shape[-2:])
    if side < 16:
        raise GankitError(f"MS-SSIM needs images of at least 16x16 pixels; got {tuple(a.shape[-2:])}")
    betas, k, sigma = settings(side)
    out = [
        ms_ssim(x.float(), y.float(), data_range=255.0, kernel_size=k, sigma=sigma, betas=betas, reduction="none")
        for x, y in zip(a.split(batch), b.split(batch))
    ]
    return torch.cat(out).double()


def _uint8(images, name: str) -> torch.Tensor:
    from ..data import to_uint8

    x = torch.as_tensor(images)
    if x.dim() != 4:
        raise GankitError(f"{name} must be images (N, C, H, W); got shape {tuple(x.shape)}")
    if x.dtype != torch.uint8:
        if not torch.isfinite(x).all():
            raise GankitError(f"{name} contain NaN or infinite values (did training diverge?)")
        x = to_uint8(x)  # [-1, 1] floats, quantised as a saved image would be
    if len(x) < 2:
        raise GankitError(f"{name}: MS-SSIM diversity needs at least 2 images")
    return x


def random_pairs(n: int, pairs: int, gen: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """`pairs` index pairs (i, j) with i != j, uniform over the ordered pairs of n items."""
    i = torch.randint(0, n, (pairs,), generator=gen)
    j = (i + torch.randint(1, n, (pairs,), generator=gen)) % n
    return i, j


def mean_pair_msssim(images, pairs: int = 1000, seed: int = 0, name: str = "images") -> float:
    x = _uint8(images, name)
    i, j = random_pairs(len(x), pairs, torch.Generator().manual_seed(seed))
    return float(pair_msssim(x[i], x[j]).mean())


def msssim(real, fake, pairs: int = 1000, seed: int = 0) -> dict:
    """{'msssim', 'msssim_real', 'msssim_gap'} from uint8 or [-1, 1] float images (N, C, H, W)."""
    fake_v = mean_pair_msssim(fake, pairs, seed, "generated images")
    real_v = mean_pair_msssim(real, pairs, seed + 1, "real images")
    return {"msssim": fake_v, "msssim_real": real_v, "msssim_gap": abs(fake_v - real_v)}
