"""The one latent sampler and the one chunked generation, used by training, sampling, the serve
page, export and the metrics.

    z = latent_draw(cfg, 16, seed=0, truncation=1.5)   # reproducible anywhere: drawn on the CPU
    x = generate(G, z, device="cuda")                 # in chunks of 1024, no autograd
"""

from __future__ import annotations

import torch

from ..errors import GankitError

CHUNK = 1024  # samples per forward pass: bounded memory whatever n is
MAX_RESAMPLE_ROUNDS = 1000


def sample_latent(model_cfg, n: int, generator: torch.Generator | None = None, device="cpu") -> torch.Tensor:
    """n latent vectors: N(0, I), or uniform [0, 1) for seed S1 (model.noise = "uniform")."""
    shape = (n, model_cfg.latent_dim)
    if model_cfg.noise == "uniform":
        return torch.rand(shape, generator=generator, device=device)
    return torch.randn(shape, generator=generator, device=device)


def latent_draw(cfg, n: int, seed: int, truncation: float | None = None) -> torch.Tensor:
    """n latent vectors from `seed` (on the CPU, so any device gives the same). With `truncation`
    T, every entry with |z| > T is redrawn until none is left (the truncation trick)."""
    gen = torch.Generator().manual_seed(seed)
    if cfg.model.noise == "uniform" and truncation is not None:
        raise GankitError(
            "--truncation applies to Gaussian latents; this generator was trained on uniform "
            'noise (model.noise = "uniform"), whose values are already bounded'
        )
    z = sample_latent(cfg.model, n, gen)
    if truncation is None:
        return z
    if not truncation > 0:
        raise GankitError(f"--truncation must be a positive number, e.g. 1.0 (got {truncation})")
    for _ in range(MAX_RESAMPLE_ROUNDS):
        outside = z.abs() > truncation
        if not outside.any():
            return z
        z[outside] = torch.randn(int(outside.sum()), generator=gen)
    raise GankitError(f"--truncation {truncation} is too small to sample from; use 0.1 or more")


@torch.no_grad()
def generate(
    g: torch.nn.Module, z: torch.Tensor, device=None, to_cpu: bool = False, labels: torch.Tensor | None = None
) -> torch.Tensor:
    """G(z) in chunks, each moved to `device` first (None: where z is). A conditional G
    (nets.is_conditional) draws G(z, labels); without labels every class in turn (0, 1, ..., k-1, 0, ...)."""
    from ..nets import balanced_labels, is_conditional

    if not is_conditional(g):
        if labels is not None:
            raise GankitError(
                "this generator is unconditional: it takes no class labels (the run was trained "
                "with model.conditional = false)"
            )
        out = torch.cat([g(chunk if device is None else chunk.to(device)) for chunk in z.split(CHUNK)])
        return out.cpu() if to_cpu else out
    labels = balanced_labels(len(z), g.num_classes) if labels is None else torch.as_tensor(labels).long()
    check_classes(labels, g.num_classes)
    if len(labels) != len(z):
        raise GankitError(f"{len(z)} latent vectors but {len(labels)} labels: give one label per sample")
    chunks = []
    for zc, yc in zip(z.split(CHUNK), labels.split(CHUNK)):
        zc = zc if device is None else zc.to(device)
        chunks.append(g(zc, yc.to(zc.device)))
    out = torch.cat(chunks)
    return out.cpu() if to_cpu else out


def check_classes(labels: torch.Tensor, num_classes: int) -> None:
    """Labels asked of a conditional generator must name one of its classes."""
    if len(labels) and (int(labels.min()) < 0 or int(labels.max()) >= num_classes):
        bad = int(labels.max()) if int(labels.max()) >= num_classes else int(labels.min())
        raise GankitError(
            f"class {bad} is out of range: this generator was trained on {num_classes} classes (0..{num_classes - 1})"
        )
