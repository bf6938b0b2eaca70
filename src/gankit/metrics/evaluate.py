"""Scoring generated samples against held-out data, and the metrics.jsonl records.

    ev = Evaluator(cfg, data_root="../shared/data", n=10000)
    values = ev.evaluate(samples, ["fid", "pr"])     # {'fid': ..., 'precision': ..., 'recall': ...}

The reference is the held-out split: the test split for MNIST and Fashion-MNIST; for an image
folder (no split) the training images; for toy sets the true distribution itself. The reference
features are computed once per Evaluator (min(n, reference size) images from a fixed seed).
"""

from __future__ import annotations

import time

import numpy as np
import torch

from ..errors import GankitError
from . import REGISTRY, domain_of, parse_metrics

METRICS_FILE = "metrics.jsonl"


class Evaluator:
    def __init__(self, cfg, data_root=None, n: int = 10_000, device="cpu", seed: int = 0):
        from ..data import sample_shape

        if n < 2:
            raise GankitError(f"evaluation needs at least 2 samples (got n = {n})")
        self.cfg, self.n, self.device, self.seed = cfg, n, torch.device(device), seed
        self.data_root = data_root
        shape = sample_shape(cfg.data)
        self.domain = domain_of(cfg.data.name, shape[0] if len(shape) == 1 else None)
        self.distribution = None
        self.net = None
        self._reference = None
        if self.domain == "image":
            from .features import feature_net_for

            self.net = feature_net_for(cfg.data.name, shape[0], device)
            self.feature_net = self.net.name
        else:
            from ..data.toy import TOY_SETS

            self.distribution = TOY_SETS[cfg.data.name]()
            self.feature_net = "true-distribution"

    def metrics(self, text="", training: bool = False) -> list[str]:
        return parse_metrics(text, self.domain, self.cfg.data.name, training)

    def reference_images(self) -> torch.Tensor:
        """uint8 held-out images (min(n, available), C, H, W) from a fixed permutation."""
        name = self.cfg.data.name
        if name in ("mnist", "fashion-mnist"):
            from ..data import Dataset
            from ..data.idx import load_idx_images

            images = Dataset(name, load_idx_images(name, self.cfg.data.root or self.data_root, "test")[0])
        else:
            from ..data import load_dataset

            images = load_dataset(self.cfg.data, self.data_root)  # a large folder is streamed: only n decoded
        perm = torch.randperm(len(images), generator=torch.Generator().manual_seed(self.seed))
        return images.take(perm[: min(self.n, len(images))])

    def reference(self) -> tuple[torch.Tensor, torch.Tensor]:
        if self._reference is None:
            self._reference = self.net.embed(self.reference_images())
        return self._reference

    @torch.no_grad()
    def evaluate(self, samples: torch.Tensor, names) -> dict:
        """{value name: float} for the registered metrics `names` on generated `samples`."""
        names = self.metrics(names) if isinstance(names, str) else list(names)
        if len(samples) < 2:
            raise GankitError(f"evaluation needs at least 2 generated samples (got {len(samples)})")
        out = {}
        if self.domain == "image":
            real_f, _ = self.reference()
            fake_f, fake_z = self.net.embed(samples)
            for name in names:
                m = REGISTRY[name]
                if name == "classes" and not self.net.name.startswith("classifier-"):
                    raise GankitError("class coverage needs one of the shipped MNIST/Fashion-MNIST classifiers")
                out.update(m.fn(real_f, fake_f) if m.takes == "features" else m.fn(fake_z))
        else:
            for name in names:
                out.update(REGISTRY[name].fn(samples, self.distribution))
        return out


def records(values: dict, step: int, feature_net: str, n: int, source: str, checkpoint: str = "") -> list[dict]:
    """One metrics.jsonl record per value."""
    now = time.strftime("%Y-%m-%dT%H:%M:%S")
    base = {"step": step, "feature_net": feature_net, "n": n, "source": source, "time": now}
    if checkpoint:
        base["checkpoint"] = checkpoint
    return [{**base, "metric": k, "value": float(v)} for k, v in values.items()]


def append_records(run_path, recs: list[dict]) -> None:
    from pathlib import Path

    from ..run import append_jsonl

    append_jsonl(Path(run_path) / METRICS_FILE, recs)


def read_records(run_path) -> list[dict]:
    from pathlib import Path

    from ..run import read_jsonl

    return read_jsonl(Path(run_path) / METRICS_FILE)


def format_table(values: dict, feature_net: str, n: int) -> str:
    rows = [("metric", "value", "feature network", "n")]
    rows += [(k, f"{v:.6g}" if isinstance(v, float) and np.isfinite(v) else str(v), feature_net, str(n))
             for k, v in values.items()]
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows)
