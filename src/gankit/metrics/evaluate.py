"""Scoring generated samples against real data, and the metrics.jsonl records.

    ev = Evaluator(cfg, data_root="../shared/data", n=10000)
    names = ev.metrics("")                             # the data's defaults that can run here
    values = ev.evaluate(samples, names)               # {'fid': ..., 'precision': ..., ...}
    append_records(run, records(values, step, ev, len(samples), "eval"))

The reference is real data passed through exactly the preprocessing the training data gets (the
loader's resize to data.resolution, as uint8, flipped half the time where data.flip is on), then
the same path into the feature network as the generated samples, which are quantised to uint8
first as a saved image would be. So real images scored as if generated land on the floor for
every preset. Which real data (eval.reference):
- MNIST, Fashion-MNIST: holdout (auto) = the split not trained on (the test split), or train;
- image folders: holdout = the files data.holdout kept out of training (fixed by the seed; auto
  when data.holdout > 0), train = the training files (auto otherwise);
- toy sets: the true distribution itself.
The reference images are min(n, available) from a fixed permutation, embedded once per Evaluator.
"""

from __future__ import annotations

import dataclasses
import logging
import time

import numpy as np
import torch

from ..errors import GankitError
from . import REGISTRY, domain_of, parse_metrics

METRICS_FILE = "metrics.jsonl"
log = logging.getLogger("gankit")


class Evaluator:
    def __init__(self, cfg, data_root=None, n: int = 10_000, device="cpu", seed: int = 0):
        from ..data import sample_shape

        if n < 2:
            raise GankitError(f"evaluation needs at least 2 samples (got n = {n})")
        self.cfg, self.n, self.device, self.seed = cfg, n, torch.device(device), seed
        self.data_root = data_root
        shape = sample_shape(cfg.data)
        self.shape = shape
        self.domain = domain_of(cfg.data.name, shape[0] if len(shape) == 1 else None)
        self.distribution = None
        self._net = None
        self._images = None
        self._labels = None  # the reference images' class labels, where the data have labels
        self._reference = None
        self.reference_split = ""
        if self.domain != "image":
            from ..data.toy import TOY_SETS

            self.distribution = TOY_SETS[cfg.data.name]()
            self.reference_split = "true-distribution"
        else:
            self.reference_split = self._split()
            if cfg.data.name != "folder":  # the shipped classifiers: cheap, always there
                self.load_net()

    # ------------------------------------------------------------ which metrics, which network

    @property
    def net(self):
        return self.load_net()

    def load_net(self):
        """The feature network, loaded on first use (for a folder: Inception, which may download)."""
        if self._net is None:
            from .features import feature_net_for

            self._net = feature_net_for(self.cfg.data.name, self.shape[0], self.device, self.cfg.data.resolution or 28)
        return self._net

    def _needs_net(self, name: str) -> bool:
        return self.domain == "image" and REGISTRY[name].takes in (
            "features",
            "logits",
            "labelled_logits",
            "labelled_features",
        )

    def metrics(self, text="", training: bool = False) -> list[str]:
        """The metrics `text` names, checked (and their network loaded) before any work is done;
        '' = the data's defaults, less the Inception ones when their weights cannot be had here."""
        names = parse_metrics(
            text, self.domain, self.cfg.data.name, training, conditional=self.cfg.model.conditional == "true"
        )  # + conditional accuracy
        given = [s for s in text.split(",") if s.strip()] if isinstance(text, str) else list(text)
        return self.usable(names) if not given else self._require(names)

    def _require(self, names: list[str]) -> list[str]:
        if any(self._needs_net(n) for n in names):
            self.load_net()  # raises a GankitError saying how to get the weights
        return names

    def usable(self, names: list[str]) -> list[str]:
        """`names` less those whose network cannot be loaded here (said once, with what to do)."""
        if not any(self._needs_net(n) for n in names):
            return list(names)
        try:
            self.load_net()
            return list(names)
        except GankitError as e:
            kept = [n for n in names if not self._needs_net(n)]
            if not kept:
                raise
            log.warning(
                "%s are off: %s\n  scoring with %s only",
                ", ".join(n for n in names if n not in kept),
                e,
                ", ".join(kept),
            )
            return kept

    # ------------------------------------------------------------ the reference

    def _split(self) -> str:
        """Which real images: 'test' / 'train' (IDX splits), 'holdout' / 'train' (folders)."""
        d, choice = self.cfg.data, self.cfg.eval.reference
        if d.name == "folder":
            if choice == "holdout" and not d.holdout:
                raise GankitError(
                    "eval.reference = holdout on an image folder needs data.holdout > 0 "
                    "(e.g. 0.1), set when training so those files were kept out of it"
                )
            return "holdout" if (choice == "holdout" or (choice == "auto" and d.holdout)) else "train"
        if choice == "train":
            return d.split
        return "test" if d.split == "train" else "train"  # the split not trained on

    def reference_images(self) -> torch.Tensor:
        """uint8 real images (min(n, available), C, H, W) as the training loader prepares them."""
        if self._images is None:
            from ..data import load_dataset

            d = self.cfg.data
            if d.name == "folder":
                part = "holdout" if self.reference_split == "holdout" else "train"
                images = load_dataset(d, self.data_root, seed=self.cfg.seed, part=part)  # streamed: only n decoded
            else:  # the same decode + resize + cache as training, on the reference split
                images = load_dataset(dataclasses.replace(d, split=self.reference_split), self.data_root)
            gen = torch.Generator().manual_seed(self.seed)
            perm = torch.randperm(len(images), generator=gen)
            chosen = perm[: min(self.n, len(images))]
            out = images.take(chosen)
            labels = getattr(images, "labels", None)
            self._labels = None if labels is None else labels[chosen]
            if d.flip:  # the loader flips half of what training sees: so does the reference
                mask = torch.rand(len(out), generator=gen) < 0.5
                out = torch.where(mask[:, None, None, None], out.flip(-1), out)
            self._images = out
        return self._images

    def reference_labels(self) -> torch.Tensor:
        """The class labels of reference_images() (per-class metrics); a clear error where the real data have none."""
        self.reference_images()
        if self._labels is None:
            raise GankitError(
                f"per-class metrics need labelled real images; the {self.cfg.data.name} reference here has no labels"
            )
        return self._labels

    def reference(self) -> tuple[torch.Tensor, torch.Tensor]:
        if self._reference is None:
            self._reference = self.net.embed(self.reference_images())
        return self._reference

    # ------------------------------------------------------------ scoring

    @torch.no_grad()
    def evaluate(self, samples: torch.Tensor, names, labels: torch.Tensor | None = None) -> dict:
        """{value name: float} for the registered metrics `names` on generated `samples`; `labels`:
        the classes a conditional generator was asked for (conditional accuracy)."""
        from ..data import to_uint8

        names = self.metrics(names) if isinstance(names, str) else list(names)
        if len(samples) < 2:
            raise GankitError(f"evaluation needs at least 2 generated samples (got {len(samples)})")
        out = {}
        if self.domain == "image":
            if samples.dtype != torch.uint8:
                if not torch.isfinite(samples).all():
                    raise GankitError("the generated images contain NaN or infinite values (did training diverge?)")
                samples = to_uint8(samples)  # as a saved image would be: the reference is uint8 too
            samples = samples.cpu()
            if any(self._needs_net(n) for n in names):
                # the real features only where a metric compares with them (not for logits alone)
                real_f = self.reference()[0] if any(REGISTRY[n].takes == "features" for n in names) else None
                self.reference_images()
                fake_f, fake_z = self.net.embed(samples)
            for name in names:
                m = REGISTRY[name]
                if name in ("classes", "cond") and not self.net.name.startswith("classifier-"):
                    raise GankitError(
                        f"{'class coverage' if name == 'classes' else 'conditional accuracy'} needs "
                        "one of the shipped MNIST/Fashion-MNIST classifiers"
                    )
                if m.takes.startswith("labelled_") and labels is None:
                    raise GankitError(f"metric '{name}' needs the labels the samples were generated for")
                if m.takes == "labelled_logits":  # conditional accuracy: against the requested labels
                    out.update(m.fn(fake_z, labels))
                elif m.takes == "labelled_features":  # per class: real images of c against samples asked to be c
                    out.update(m.fn(real_f, self.reference_labels(), fake_f, labels))
                elif m.takes == "images":
                    out.update(m.fn(self.reference_images(), samples))
                else:
                    out.update(m.fn(real_f, fake_f) if m.takes == "features" else m.fn(fake_z))
        else:
            for name in names:
                out.update(REGISTRY[name].fn(samples, self.distribution))
        return out

    # ------------------------------------------------------------ what produced each value

    @property
    def feature_net(self) -> str:
        """One name for messages: the feature network, or what stands in for one."""
        if self.domain != "image":
            return "true-distribution"
        return self._net.name if self._net is not None else "pixels (swd, msssim)"

    def provenance(self, value: str) -> dict:
        """What a value was computed with: network, its weights' SHA-256, reference split and size, resize."""
        d = self.cfg.data
        if self.domain != "image":
            return {
                "feature_net": "true-distribution",
                "weights_sha256": "",
                "reference": self.reference_split,
                "reference_n": None,
                "resize": "none",
            }
        metric = next(n for n, m in REGISTRY.items() if value.split("[")[0] in m.values)  # "swd[tag]" too
        if d.name == "folder":
            data_path = f"Resize+CenterCrop {d.resolution} (as training)"
        else:
            data_path = (
                f"28->{d.resolution} bilinear antialias uint8 (as training)"
                if d.resolution not in (0, 28)
                else "none (28x28, as training)"
            )
        if d.flip:
            data_path += ", half flipped"
        ref_n = len(self._images) if self._images is not None else None
        if REGISTRY[metric].takes == "images":
            net, sha, into = f"pixels ({metric})", "", "uint8 as generated"
        else:
            net, sha, into = self.net.name, self.net.weights_sha256, self.net.resize
        return {
            "feature_net": net,
            "weights_sha256": sha,
            "reference": self.reference_split,
            "reference_n": ref_n,
            "resize": f"data: {data_path}; into the net: {into}",
        }


def records(
    values: dict, step: int, feature_net, n: int, source: str, checkpoint: str = "", weights: str = ""
) -> list[dict]:
    """One metrics.jsonl record per value. `feature_net` is a name, or the Evaluator that scored the
    values: each record then names its network, weights' SHA-256, reference split and size, resize.
    `weights`: which of G's weights were scored (g | g_ema), where that was chosen."""
    now = time.strftime("%Y-%m-%dT%H:%M:%S")
    name = feature_net.feature_net if hasattr(feature_net, "provenance") else feature_net
    base = {"step": step, "feature_net": name, "n": n, "source": source, "time": now}
    if checkpoint:
        base["checkpoint"] = checkpoint
    if weights:
        base["weights"] = weights
    recs = [{**base, "metric": k, "value": float(v)} for k, v in values.items()]
    if hasattr(feature_net, "provenance"):
        for r in recs:
            r.update(feature_net.provenance(r["metric"]))
    return recs


def append_records(run_path, recs: list[dict]) -> None:
    from pathlib import Path

    from ..run import append_jsonl

    append_jsonl(Path(run_path) / METRICS_FILE, recs)


def read_records(run_path) -> list[dict]:
    from pathlib import Path

    from ..run import read_jsonl

    return read_jsonl(Path(run_path) / METRICS_FILE)


def format_table(values: dict, feature_net, n: int) -> str:
    """A plain table; `feature_net` is one name, or an Evaluator (each value then names its own)."""
    name = feature_net.provenance if hasattr(feature_net, "provenance") else lambda _k: {"feature_net": feature_net}
    rows = [("metric", "value", "feature network", "n")]
    rows += [
        (k, f"{v:.6g}" if isinstance(v, float) and np.isfinite(v) else str(v), name(k)["feature_net"], str(n))
        for k, v in values.items()
    ]
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows)
