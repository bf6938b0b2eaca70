"""Evaluation metrics as pure functions of feature arrays (numpy or torch), and their registry.

    from gankit.metrics import fid, kid, precision_recall
    fid(real_features, fake_features)        # -> {'fid': ...}

REGISTRY maps the names users type (`gankit eval RUN --metrics fid,kid,pr`) to a Metric: the
function, what it takes (feature arrays, classifier logits, the images themselves, or toy samples
with their true distribution) and the values it returns. DIRECTION says whether each value is better high or low.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ..errors import GankitError, did_you_mean
from .classes import class_coverage
from .conditional import class_fid, conditional_accuracy
from .frechet import fid, frechet_distance, gaussian_stats
from .inception_score import inception_score
from .kid import kid
from .msssim import msssim
from .prdc import density_coverage, prdc, precision_recall
from .stacked import STACKED_DEFAULTS, STACKED_METRICS, stacked_modes
from .swd import swd
from .toy import jsd, ks_1d, mode_stats, moments_1d


@dataclass(frozen=True)
class Metric:
    fn: Callable
    takes: str  # features: fn(real, fake) | logits: fn(fake_logits) | images: fn(real, fake) uint8 images
    #             | toy: fn(samples, distribution)
    #             | labelled_logits: fn(fake_logits, requested_labels) (conditional generators)
    #             | labelled_features: fn(real, real_labels, fake, requested_labels) (conditional generators)
    domain: str  # image | 1d | 2d
    values: tuple[str, ...]
    summary: str


REGISTRY: dict[str, Metric] = {
    "fid": Metric(fid, "features", "image", ("fid",), "Fréchet distance of Gaussian fits to the features"),
    "kid": Metric(kid, "features", "image", ("kid", "kid_std"), "unbiased MMD^2, cubic kernel, 100 subsets"),
    "is": Metric(inception_score, "logits", "image", ("is", "is_std"), "exp E KL(p(y|x) || p(y)), 10 splits"),
    "pr": Metric(precision_recall, "features", "image", ("precision", "recall"), "k-NN precision/recall, k=3"),
    "dc": Metric(density_coverage, "features", "image", ("density", "coverage"), "density/coverage, k=5"),
    "classes": Metric(
        class_coverage,
        "logits",
        "image",
        ("classes", "class_kl"),
        "classes predicted, KL of the class histogram from uniform (classifier nets only)",
    ),
    "cond": Metric(
        conditional_accuracy,
        "labelled_logits",
        "image",
        ("cond_acc", "cond_acc_min", "cond_classes"),
        "conditional accuracy: samples classified as the class asked for (conditional runs, classifier nets only)",
    ),
    "class_fid": Metric(
        class_fid,
        "labelled_features",
        "image",
        ("fid_class", "fid_class_max"),
        "per-class FID: each class's samples against that class's real images, mean and worst (conditional runs)",
    ),
    "swd": Metric(
        swd,
        "images",
        "image",
        ("swd", "swd_fine", "swd_coarse"),
        "sliced Wasserstein distance of Laplacian-pyramid 7x7 patches (x1e3), no pretrained network",
    ),
    "msssim": Metric(
        msssim,
        "images",
        "image",
        ("msssim", "msssim_real", "msssim_gap"),
        "MS-SSIM of random generated pairs vs real pairs (diversity), no pretrained network",
    ),
    "stacked": Metric(
        stacked_modes,
        "logits",
        "image",
        ("modes", "mode_kl"),
        "Stacked MNIST: digit triples (of 1,000) generated, KL of their histogram from uniform (stacked-mnist only)",
    ),
    "moments": Metric(moments_1d, "toy", "1d", ("mean", "std"), "sample mean and std"),
    "ks": Metric(ks_1d, "toy", "1d", ("ks",), "Kolmogorov-Smirnov statistic against the target"),
    "jsd": Metric(jsd, "toy", "1d", ("jsd",), "Jensen-Shannon divergence (bits), 100 fixed bins"),
    "modes": Metric(
        mode_stats,
        "toy",
        "2d",
        ("modes", "hq", "mode_kl"),
        "modes covered, fraction within 3 std of a mode, KL of the mode histogram from uniform",
    ),
}

# +1: higher is better, -1: lower is better; values missing here (mean, std, ...) cannot be primary
DIRECTION = {
    "fid": -1,
    "kid": -1,
    "is": 1,
    "swd": -1,
    "swd_fine": -1,
    "swd_coarse": -1,
    "msssim_gap": -1,
    "precision": 1,
    "recall": 1,
    "density": 1,
    "coverage": 1,
    "classes": 1,
    "class_kl": -1,
    "cond_acc": 1,
    "cond_acc_min": 1,
    "cond_classes": 1,
    "fid_class": -1,
    "fid_class_max": -1,
    "ks": -1,
    "jsd": -1,
    "modes": 1,
    "hq": 1,
    "mode_kl": -1,
}

DEFAULTS = {"image": ("fid", "kid", "pr", "dc", "is", "classes"), "1d": ("moments", "ks", "jsd"), "2d": ("modes",)}
# during training: KID's 100 subset MMDs are left out of the default, they would dominate a CPU epoch
TRAIN_DEFAULTS = {**DEFAULTS, "image": ("fid", "pr", "dc", "is", "classes")}
PRIMARY = {"image": "fid", "1d": "ks", "2d": "mode_kl"}
NO_WEIGHTS = ("swd", "msssim")  # RGB folders: always on; the only ones when Inception cannot be had
INCEPTION_METRICS = ("fid", "kid", "pr", "dc", "is")  # what needs the Inception weights on an RGB folder


def folder_defaults(training: bool) -> list[str]:
    """An RGB folder's defaults: the Inception metrics where the weights are here or may be downloaded
    (not under GANKIT_OFFLINE=1 with no file), and SWD and MS-SSIM diversity always."""
    from .features import inception_available

    base = [n for n in (TRAIN_DEFAULTS if training else DEFAULTS)["image"] if n != "classes"]
    return (base if inception_available() else []) + list(NO_WEIGHTS)


def domain_of(data_name: str, dim: int | None = None) -> str:
    from ..data.toy import TOY_SETS

    if data_name in TOY_SETS:
        return "1d" if (dim or TOY_SETS[data_name]().dim) == 1 else "2d"
    return "image"


def parse_metrics(
    text: str | list | tuple, domain: str, data_name: str = "", training: bool = False, conditional: bool = False
) -> list[str]:
    """'fid,kid,pr' -> ['fid', 'kid', 'pr'], checked against the registry and the data's domain;
    '' -> the domain's default set (without class coverage where no shipped classifier applies),
    with conditional accuracy and per-class FID for a conditional model on MNIST/Fashion-MNIST."""
    names = [s.strip() for s in text.split(",")] if isinstance(text, str) else list(text)
    names = [n for n in names if n]
    if not names:
        if domain == "image" and data_name == "folder":
            return folder_defaults(training)
        if data_name == "stacked-mnist":
            return list(STACKED_DEFAULTS)
        names = list((TRAIN_DEFAULTS if training else DEFAULTS)[domain])
        if conditional and data_name in ("mnist", "fashion-mnist"):
            names += ["cond", "class_fid"]
        if data_name not in ("", "mnist", "fashion-mnist"):
            names = [n for n in names if n != "classes"]
        return names
    for name in names:
        if name not in REGISTRY:
            raise GankitError(f"unknown metric '{name}'{did_you_mean(name, REGISTRY)}; metrics: {', '.join(REGISTRY)}")
        if REGISTRY[name].domain != domain:
            raise GankitError(
                f"metric '{name}' is for {REGISTRY[name].domain} data, not this {domain} data; "
                f"here use: {', '.join(n for n, m in REGISTRY.items() if m.domain == domain)}"
            )
        if name == "stacked" and data_name not in ("", "stacked-mnist"):
            raise GankitError(f"metric 'stacked' counts Stacked MNIST's digit triples; data.name = {data_name!r}")
        if data_name == "stacked-mnist" and name not in STACKED_METRICS:
            raise GankitError(
                f"metric '{name}' does not apply to stacked-mnist (its classifier logits are three 10-way "
                f"digit readings); stacked-mnist takes: {', '.join(STACKED_METRICS)}"
            )
        if REGISTRY[name].takes.startswith("labelled_") and not conditional and data_name:
            raise GankitError(
                f"metric '{name}' scores a conditional generator against the classes it was asked "
                "for; this run is unconditional (model.conditional = false)"
            )
    return list(dict.fromkeys(names))


def check_primary(primary: str, names: list[str], domain: str) -> str:
    """The value that picks checkpoints/best.pt: `primary`, or the domain's default (for a conditional
    run scored by conditional accuracy: cond_acc); it must be produced by one of the metrics `names`
    and have a direction."""
    produced = [v for n in names for v in REGISTRY[n].values if v in DIRECTION]
    if not primary and "cond_acc" in produced:  # a conditional G is first asked to draw the class asked for
        primary = "cond_acc"
    if not primary:  # the domain's default when it is measured, else the first measured value
        primary = PRIMARY[domain] if PRIMARY[domain] in produced or not produced else produced[0]
    if primary not in produced:
        raise GankitError(
            f"eval.primary = '{primary}' is not a value of the chosen metrics "
            f"({', '.join(names)}){did_you_mean(primary, produced)}; choose one of: {', '.join(produced)}"
        )
    return primary


__all__ = [
    "REGISTRY",
    "DIRECTION",
    "DEFAULTS",
    "TRAIN_DEFAULTS",
    "PRIMARY",
    "Metric",
    "parse_metrics",
    "check_primary",
    "domain_of",
    "fid",
    "frechet_distance",
    "gaussian_stats",
    "kid",
    "inception_score",
    "precision_recall",
    "density_coverage",
    "prdc",
    "class_coverage",
    "conditional_accuracy",
    "swd",
    "msssim",
    "NO_WEIGHTS",
    "INCEPTION_METRICS",
    "moments_1d",
    "ks_1d",
    "jsd",
    "mode_stats",
    "stacked_modes",
]
