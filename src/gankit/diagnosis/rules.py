"""Why is this run failing? Rules over the logged training statistics, giving findings with the
step range, the numbers that triggered them and the remedies (in seed S5's words where it has them).

    findings = diagnose(run.read_stats(), Context.from_config(cfg))
    for f in findings: print(f.describe())

Each stats record is an average over `train.log_every` steps (trainer.STAT_KEYS), plus what is
measured at log time on 256 fixed-noise samples (diagnosis/sample_stats.py: `diversity`; modes
for toy mixtures; the classifier's classes for MNIST-like data; the MS-SSIM of generated pairs
against real pairs for other images) and, with the diagnosis callback,
D's outputs on training and held-out real images (diagnosis/overfitting.py). A rule looks at one
record (and a little history); a finding starts when its rule holds for PERSIST records in a row
and clears when it has failed for PERSIST records in a row, so one noisy record neither raises nor
clears an alarm. `Diagnoser` does this incrementally (the live callback); `diagnose` is the same
over a whole run. A rule that raises is a bug, and the error reaches the caller; a record without
the keys a rule reads (an older run, another domain) gives no finding from that rule.

Scores are D(x), D(G(z)) as probabilities for BCE; for least squares they are D's raw outputs,
rescaled so the fake label is 0 and the real label is 1; for critics (wgan-gp, hinge) they are
raw scores, defined only up to an offset, so critic rules read differences of scores (the critic
gap D(x) - D(G(z))) and gradient norms, never a score or G's loss alone. Each threshold is a
named constant below, with its reason.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import asdict, dataclass, field

from ..names import TOY_DATA
from .remedies import remedy_list

PERSIST = 3  # records in a row for a finding to start or to clear
WARMUP = 5  # logs not judged for mode collapse: G starts from a narrow output at initialisation
# The balance rules (d_overpowering, g_overpowering, vanishing_g_gradients) are not announced in
# the first BALANCE_WARMUP_STEPS G steps: at initialisation G's output is a blob away from the
# data that any D separates at once, so an early D lead is the start of the game, not an
# imbalance. An imbalance that still holds when the warm-up ends (or when the run ends inside
# it) is reported from its first record; one that fades within it is not. 300 steps: in the
# healthy dcgan-mnist32 and ring-2d runs of scripts/diagnosis_table.py D's early lead is gone
# by then, while the failing settings hold their imbalance far beyond it.
BALANCE_WARMUP_STEPS = 300
BALANCE_KINDS = ("d_overpowering", "g_overpowering", "vanishing_g_gradients")
# The collapse rules likewise, in steps on top of WARMUP logs: a fresh G's output is narrow, not
# collapsed; gaussian-1d's spread is under half the data's until step ~180 of a healthy run, and
# the ring's G reaches the modes around step 500. A collapse that lasts is reported from its start.
COLLAPSE_WARMUP_STEPS = 300
COLLAPSE_KINDS = ("mode_collapse", "partial_mode_collapse")

# divergence
LOSS_LIMIT = 100.0  # |BCE| of 100 means logits around 100: D's outputs saturated as the weights blew up
GRAD_LIMIT = 1e5  # gradient norms of healthy runs stay below 1e2
# A critic's gap is bounded by the data's diameter when the critic is (about) 1-Lipschitz, as the
# gradient penalty keeps it: about 64 for 32x32 grey images in [-1, 1], 220 for 64x64 RGB, 4 for
# the ring. A gap of 1e3 means the constraint has broken down and the critic's weights are blowing up.
CRITIC_GAP_LIMIT = 1e3

# d_overpowering: a D that separates 90 % of the samples and is that sure of both has left G
# nothing to climb (seed S5: D loss -> 0, accuracy -> 100 %). Healthy runs stay below a 0.5 gap.
D_OVER_ACC = 0.90
D_OVER_GAP = 0.70
# g_overpowering: D rates G's samples as more real than the data by this much: D is fooled, not
# merely undecided (at the equilibrium both scores are 1/2 and the gap is 0).
G_OVER_GAP = 0.10
# ... or, for toy mixtures after WARMUP logs, D undecided within this gap while at most
# OFF_DATA_ON_MODES of G's samples lie near a mode: D stopped judging, G did not win the game.
UNDECIDED_GAP = 0.05
OFF_DATA_ON_MODES = 0.2
# vanishing_g_gradients: D rejects G's samples (D(G(z)) <= 0.05) and G's gradient norm is below
# 2 % of its largest value so far, or below 1e-3 (dips to 10-20 % happen in runs that still learn):
# the minimax G loss log(1 - D(G(z))) is flat there (seed S2).
VANISH_FAKE = 0.05
VANISH_REL = 0.02
VANISH_ABS = 1e-3

# mode collapse. COLLAPSE_DIVERSITY: samples spread half as much as the data's; healthy runs show
# 0.8-1.2, far above sampling noise. For toy mixtures, missing modes count once G's samples lie on
# the data: at least HQ_FLOOR of them high quality (within 3 std of a mode, the metrics'
# definition), and enough of them that a mode G does cover is not missed by chance
# (MODE_EXPECTED_MIN per mode on average: missed with probability about exp(-8) = 3e-4). Below
# that G has not reached the data yet: early ring-2d logs show a spread-out G with 1-7 modes
# "covered" at a high-quality fraction under 0.25 until step ~500, which is no collapse. Most
# modes missing (at most half covered) is mode_collapse; fewer is partial_mode_collapse.
HQ_FLOOR = 0.25
MODE_EXPECTED_MIN = 8
COLLAPSE_DIVERSITY = 0.5
# CLASS_KL_LIMIT: KL (nats) of the classifier's class histogram from the uniform one above which
# the classes are far from equally filled even when none is missing: 0.3 is e.g. one class taking
# 40 % of the samples; 256 samples of real MNIST give about 0.02 (sampling noise (K-1)/2N plus
# MNIST's own imbalance).
CLASS_KL_LIMIT = 0.3
# Images without modes or classes (RGB folders): the AC-GAN criterion (Odena et al. 2017, section
# 4.2), the MS-SSIM of pairs of generated images against pairs of real ones. Read as the share of
# the way from the data's pair similarity to identical images, (msssim - msssim_real) / (1 -
# msssim_real), so one limit serves folders whose own images are more or less alike. MSSSIM_EXCESS:
# on scripts/diagnosis_table.py's Fashion-MNIST folder (real pairs 0.19-0.20 at 32 px), dcgan-rgb
# runs whose grids stay diverse read at most 0.12 from step 240 on (0.21 once, at step 160, inside
# the warm-up), while the collapsing setting (one checkered or striped template) reads 0.21-0.71
# and mostly 0.4+. A mean over pairs is a mixture: a G with k equally used templates reads at
# least about 1/k, so this sees a collapse to a handful of outputs, not one that keeps many
# (the classifier's classes do that where a classifier exists). MSSSIM_TOTAL: most pairs nearly
# the same image: mode_collapse.
MSSSIM_EXCESS = 0.2
MSSSIM_TOTAL = 0.7

# oscillation: in the last OSC_WINDOW records the judged series (G's loss; for critics the critic
# gap) turns at least OSC_TURNS times and its range is at least OSC_RANGE of its median magnitude
# (of OSC_FLOOR when the median is smaller; one loss unit, and a hinge critic's margin). Healthy
# runs drift by < 20 %.
OSC_WINDOW = 6
OSC_TURNS = 2
OSC_RANGE = 0.5
OSC_FLOOR = 1.0

# overfitting_d (ADA, Karras et al. 2020): r_v = (E D(x_train) - E D(x_heldout)) / (E D(x_train) -
# E D(G(z))) on D's raw outputs (of augmented images where the run augments: D as training uses
# it): 0 when held-out images get the training images' scores, 1 when D scores them like generated
# ones. OVERFIT_RV: a fifth of the way from the data to G's samples;
# on scripts/diagnosis_table.py's folders dcgan-rgb at 32 px stays within +-0.07 on 6,000 images
# for 600 steps and passes 0.2 by step ~350 on 300 images (0.7 by step 800). OVERFIT_Z: the
# train / held-out difference is that many standard errors (256 images each), so that sampling
# noise alone does not raise it. ADA's r_t is reported, not judged: it exceeds ADA's target 0.6
# in runs on the large folder that do not overfit (D is simply ahead there).
OVERFIT_RV = 0.2
OVERFIT_Z = 4.0

KINDS = (
    "divergence",
    "d_overpowering",
    "vanishing_g_gradients",
    "g_overpowering",
    "mode_collapse",
    "partial_mode_collapse",
    "overfitting_d",
    "oscillation",
    "healthy",
)
# where the first rule holds the second says nothing new (most modes missing is also some modes
# missing): the second does not start while the first holds or is open, but its streak goes on
SUBSUMES = {"mode_collapse": "partial_mode_collapse"}
UPDATED = ("mode_collapse", "partial_mode_collapse")  # open findings whose evidence follows the latest record

FASHION_CLASSES = (
    "T-shirt/top",
    "trouser",
    "pullover",
    "dress",
    "coat",
    "sandal",
    "shirt",
    "sneaker",
    "bag",
    "ankle boot",
)


@dataclass(frozen=True)
class Context:
    """What the rules need to know about the run besides its statistics."""

    loss_kind: str = "bce"
    g_form: str = "non-saturating"
    real_target: float = 1.0
    fake_target: float = 0.0
    d_lr: float = 2e-4
    g_lr: float = 2e-4
    d_steps: int = 1
    d_arch: str = "mlp"
    loss_kinds: tuple = ("bce", "lsgan")  # loss kinds this gankit knows, to name remedies it has
    balance_warmup_steps: int = 0  # hand-made records: judged from the first; a run's config: BALANCE_WARMUP_STEPS
    collapse_warmup_steps: int = 0  # likewise, COLLAPSE_WARMUP_STEPS
    data_name: str = ""
    r1_gamma: float = 0.0
    ema: float = 0.0
    flip: bool = False
    d_batch_norm: bool = False  # D normalises with batch norm: no per-sample penalty (R1) can be right
    image: bool = False  # image data (else a toy set): sets the scale of a suggested R1
    g_beta1: float = 0.5
    d_beta1: float = 0.5
    g_arch: str = "mlp"
    init: str = "default"
    augment_policy: str = ""  # augment.*: what D already sees, so that a remedy does not repeat it
    augment_p: float = 1.0
    augment_target: float = 0.0  # > 0: ADA adapts p
    augment_images: int = 500_000

    @classmethod
    def from_config(cls, cfg) -> Context:
        from ..losses import KINDS

        return cls(
            loss_kind=cfg.loss.kind,
            g_form=cfg.loss.g_form,
            real_target=cfg.loss.real_target,
            fake_target=cfg.loss.fake_target,
            d_lr=cfg.optim.d_lr_ratio * cfg.optim.g.lr if cfg.optim.d_lr_ratio > 0 else cfg.optim.d.lr,
            g_lr=cfg.optim.g.lr,
            d_steps=cfg.train.d_steps,
            d_arch=cfg.model.d,
            loss_kinds=KINDS,
            balance_warmup_steps=BALANCE_WARMUP_STEPS,
            collapse_warmup_steps=COLLAPSE_WARMUP_STEPS,
            data_name=cfg.data.name,
            r1_gamma=cfg.loss.r1_gamma,
            ema=cfg.train.ema,
            flip=cfg.data.flip,
            d_batch_norm=cfg.model.d.startswith("dcgan") and cfg.model.d_norm == "batch",
            image=cfg.data.name not in TOY_DATA,
            g_beta1=cfg.optim.g.beta1,
            d_beta1=cfg.optim.d.beta1,
            g_arch=cfg.model.g,
            init=cfg.model.init,
            augment_policy=cfg.augment.policy,
            augment_p=cfg.augment.p,
            augment_target=cfg.augment.ada_target,
            augment_images=cfg.augment.ada_images,
        )

    @property
    def probabilistic(self) -> bool:
        """Scores live on a [fake label, real label] scale (BCE, least squares), so the balance rules apply."""
        from ..losses import is_critic

        return not is_critic(self.loss_kind)

    def norm(self, score: float) -> float:
        """A score on the scale fake label = 0, real label = 1."""
        span = self.real_target - self.fake_target
        return (score - self.fake_target) / span if span else score

    def class_name(self, c: int) -> str:
        if self.data_name == "fashion-mnist" and 0 <= c < len(FASHION_CLASSES):
            return FASHION_CLASSES[c]
        return str(c)


@dataclass
class Finding:
    kind: str
    start_step: int
    end_step: int  # last step at which the rule held (the run's last step while still active)
    evidence: dict
    message: str
    remedies: list = field(default_factory=list)
    active: bool = False  # still holding at the end of the records

    def to_dict(self) -> dict:
        return asdict(self)

    def describe(self) -> str:
        until = "end of run (still active)" if self.active else f"step {self.end_step}"
        ev = ", ".join(f"{k} {_fmt(v)}" for k, v in self.evidence.items())
        lines = [f"{self.kind}: steps {self.start_step} - {until}", f"  {self.message}", f"  evidence: {ev}"]
        lines += [f"  remedy: {r}" for r in self.remedies]
        return "\n".join(lines)


def _fmt(v) -> str:
    if isinstance(v, float):
        return f"{v:.3g}"
    return str(v)


def _finite(x) -> bool:
    return isinstance(x, (int, float)) and math.isfinite(x)


# ---------------------------------------------------------------- remedies


def remedies(kind: str, ctx: Context) -> list[str]:
    """The remedies a finding prints (diagnosis/remedies.py), each with the --set that applies it."""
    return [str(r) for r in remedy_list(kind, ctx)]


# ---------------------------------------------------------------- the rules


class _History:
    """What rules need from earlier records."""

    def __init__(self):
        self.g_grad_peak = 0.0
        self.g_losses: list[float] = []
        self.gaps: list[float] = []  # critic gap D(x) - D(G(z)), for critics' oscillation
        self.missing_since: dict[str, dict[int, int]] = {"modes": {}, "classes": {}}
        self.similar_since: int | None = None  # first step of the current run of too-alike samples
        self.n = 0
        self.step = 0

    def add(self, rec: dict) -> None:
        self.step = rec.get("step", self.n + 1)
        g = rec.get("g_grad_norm")
        if _finite(g) and g <= GRAD_LIMIT:  # a record that blew up is no reference for "vanished"
            self.g_grad_peak = max(self.g_grad_peak, g)
        if _finite(rec.get("g_loss")):
            self.g_losses = (self.g_losses + [rec["g_loss"]])[-OSC_WINDOW:]
        if _finite(rec.get("d_real")) and _finite(rec.get("d_fake")):
            self.gaps = (self.gaps + [rec["d_real"] - rec["d_fake"]])[-OSC_WINDOW:]
        for what in ("modes", "classes"):  # since which step each mode / class has been missing
            missing = rec.get(f"{what}_missing")
            if isinstance(missing, list):
                before = self.missing_since[what]
                self.missing_since[what] = {m: before.get(m, self.step) for m in missing}
        excess = similarity_excess(rec)
        if excess is not None:
            too_alike = excess >= MSSSIM_EXCESS
            self.similar_since = (self.similar_since or self.step) if too_alike else None
        self.n += 1


def similarity_excess(rec: dict) -> float | None:
    """(msssim - msssim_real) / (1 - msssim_real): 0 when generated pairs are as alike as real
    pairs, 1 when they are identical; None without both keys."""
    gen, real = rec.get("msssim"), rec.get("msssim_real")
    if not (_finite(gen) and _finite(real)) or real >= 1:
        return None
    return (gen - real) / (1 - real)


def _divergence(rec, hist, ctx):
    keys = ("d_loss", "g_loss", "d_grad_norm", "g_grad_norm", "d_real", "d_fake")
    bad = {k: rec[k] for k in keys if k in rec and not _finite(rec[k])}
    if bad:
        return {k: str(v) for k, v in bad.items()}, "losses or gradients became NaN/Inf: training diverged"
    big = {k: rec[k] for k in ("d_grad_norm", "g_grad_norm") if rec.get(k, 0.0) > GRAD_LIMIT}
    if ctx.probabilistic:
        big.update({k: rec[k] for k in ("d_loss", "g_loss") if abs(rec.get(k, 0.0)) > LOSS_LIMIT})
        limits = f"loss above {LOSS_LIMIT:g} or gradient norm above {GRAD_LIMIT:g}"
    else:  # a critic's losses carry its free offset: judge the gap, an offset-free difference
        gap = rec.get("d_real", 0.0) - rec.get("d_fake", 0.0)
        if abs(gap) > CRITIC_GAP_LIMIT:
            big["critic_gap"] = gap
        limits = f"critic gap D(x) - D(G(z)) above {CRITIC_GAP_LIMIT:g} or gradient norm above {GRAD_LIMIT:g}"
    if big:
        return big, f"exploding losses or gradients ({limits}): the weights are blowing up"
    return None


def _scores(rec, ctx):
    return ctx.norm(rec["d_real"]), ctx.norm(rec["d_fake"])


def _has(rec, *keys) -> bool:
    return all(_finite(rec.get(k)) for k in keys)


def _d_overpowering(rec, hist, ctx):
    if not ctx.probabilistic or not _has(rec, "d_acc", "d_real", "d_fake"):
        return None
    real, fake = _scores(rec, ctx)
    if rec["d_acc"] >= D_OVER_ACC and real - fake >= D_OVER_GAP:
        return (
            {k: rec[k] for k in ("d_loss", "d_acc", "d_real", "d_fake", "g_loss") if k in rec},
            (
                "D learns too fast: it tells real from generated almost always (D loss -> 0, accuracy -> 100 %), "
                "so G's loss is high or swinging"
            ),
        )
    return None


def _g_overpowering(rec, hist, ctx):
    if not ctx.probabilistic or not _has(rec, "d_real", "d_fake"):
        return None
    real, fake = _scores(rec, ctx)
    ev = {k: rec[k] for k in ("d_real", "d_fake", "d_acc", "d_loss", "g_loss") if k in rec}
    if fake - real >= G_OVER_GAP:
        return (
            ev,
            (
                "G learns too fast: D rates generated samples as more real than the data, G's loss falls while "
                "D's climbs; D gives no useful signal, so the samples may look plausible with odd details"
            ),
        )
    on_modes = rec.get("on_modes")
    if hist.n > WARMUP and abs(fake - real) <= UNDECIDED_GAP and _finite(on_modes) and on_modes <= OFF_DATA_ON_MODES:
        ev["on_modes"] = on_modes
        return (
            ev,
            (
                "G outran D: D cannot tell generated samples from the data although they lie off the data "
                f"(only {on_modes:.0%} near a mode), so D gives G no useful signal"
            ),
        )
    return None


def _vanishing(rec, hist, ctx):
    if not ctx.probabilistic or not _has(rec, "g_grad_norm", "d_real", "d_fake"):
        return None
    _, fake = _scores(rec, ctx)
    g = rec["g_grad_norm"]
    if fake <= VANISH_FAKE and (g < VANISH_ABS or g <= VANISH_REL * hist.g_grad_peak):
        return (
            {
                "g_grad_norm": g,
                "g_grad_norm_peak": hist.g_grad_peak,
                "d_fake": rec["d_fake"],
                "g_loss": rec.get("g_loss"),
            },
            "G's gradients vanish: D rejects every generated sample and G's loss is flat there, so G stops learning",
        )
    return None


def _coverage(rec, ctx):
    """(what, covered, total, missing labels) for toy modes (once G's samples lie on the data, see
    HQ_FLOOR) or the classifier's classes; None when the record has neither."""
    if _has(rec, "modes_covered", "modes_total") and rec["modes_total"]:
        hq, n = rec.get("mode_quality"), rec.get("mode_samples")
        if _finite(hq) and _finite(n) and hq >= HQ_FLOOR and hq * n / rec["modes_total"] >= MODE_EXPECTED_MIN:
            return "modes", rec["modes_covered"], rec["modes_total"], rec.get("modes_missing")
        return None
    if _has(rec, "classes_covered", "classes_total") and rec["classes_total"]:
        return "classes", rec["classes_covered"], rec["classes_total"], rec.get("classes_missing")
    return None


def _missing_evidence(what, missing, hist, ctx) -> tuple[dict, str]:
    """Evidence naming the missing modes or classes and since which step each has been missing,
    and the same in words, grouped by that step ("classes 0, 3 since step 1200")."""
    if not isinstance(missing, list):
        return {}, ""
    name = ctx.class_name if what == "classes" else str
    since = hist.missing_since[what]
    labels = {name(m): since.get(m, hist.step) for m in missing}
    groups: dict[int, list[str]] = {}
    for label, step in labels.items():
        groups.setdefault(step, []).append(label)
    noun = "class" if what == "classes" else "mode"
    text = "; ".join(
        f"{noun}{'es' if noun == 'class' and len(g) > 1 else 's' if len(g) > 1 else ''} "
        f"{', '.join(g)} since step {step}"
        for step, g in sorted(groups.items())
    )
    return {f"{what}_missing": list(labels), "missing_since_step": labels}, text


def _mode_collapse(rec, hist, ctx):
    div = rec.get("diversity")
    if hist.n <= WARMUP or not _finite(div):
        return None
    total = rec.get("modes_total") or rec.get("classes_total")
    if not total:  # no modes or classes known (RGB folders, 1D): the spread, and pairs' MS-SSIM
        excess = similarity_excess(rec)
        if excess is not None and excess >= MSSSIM_TOTAL:
            ev, text = _similarity_evidence(rec, excess, hist)
            return ev, f"mode collapse: G repeats a few outputs; {text}"
        if div > COLLAPSE_DIVERSITY:
            return None
        return (
            {"diversity": div},
            (f"mode collapse: G repeats a few outputs; its samples spread {div:.0%} as much as the data's"),
        )
    what = "modes" if rec.get("modes_total") else "classes"
    covered = rec.get(f"{what}_covered", 0)
    on_data = _coverage(rec, ctx) is not None
    if covered > total / 2 or not (on_data or div <= COLLAPSE_DIVERSITY):
        return None
    ev = {"diversity": div, f"{what}_covered": covered, f"{what}_total": total}
    more, text = _missing_evidence(what, rec.get(f"{what}_missing"), hist, ctx)
    ev.update(more)
    return (
        ev,
        f"mode collapse: G covers {covered} of {total} {what}; its samples spread {div:.0%} as much as "
        "the data's" + (f" (missing: {text})" if text else ""),
    )


def _similarity_evidence(rec, excess, hist) -> tuple[dict, str]:
    ev = {
        "msssim_generated": rec["msssim"],
        "msssim_real": rec["msssim_real"],
        "msssim_excess": excess,
        "too_alike_since_step": hist.similar_since,
        "diversity": rec.get("diversity"),
    }
    text = (
        f"pairs of its samples have MS-SSIM {rec['msssim']:.2f} against {rec['msssim_real']:.2f} for pairs of "
        f"real images ({excess:.0%} of the way to identical images) since step {hist.similar_since}"
    )
    return ev, text


def _partial_mode_collapse(rec, hist, ctx):
    if hist.n <= WARMUP:
        return None
    cov = _coverage(rec, ctx)
    if cov is None:
        excess = similarity_excess(rec)
        if excess is None or excess < MSSSIM_EXCESS:
            return None
        ev, text = _similarity_evidence(rec, excess, hist)
        return ev, (
            f"partial mode collapse: G's samples are far less diverse than the data: {text}; the grid "
            "repeats a few templates, which the pixel spread (diversity) can miss"
        )
    what, covered, total, missing = cov
    kl = rec.get("class_kl") if what == "classes" else None
    skewed = _finite(kl) and kl >= CLASS_KL_LIMIT
    if covered >= total and not skewed:
        return None
    ev = {f"{what}_covered": covered, f"{what}_total": total}
    if what == "modes":
        ev["mode_quality"] = rec["mode_quality"]
    if _finite(kl):
        ev["class_kl"] = kl
    more, text = _missing_evidence(what, missing, hist, ctx)
    ev.update(more)
    if covered < total:
        msg = f"partial mode collapse: G covers {covered} of {total} {what}; missing: {text or total - covered}"
    else:
        msg = (
            f"partial mode collapse: all {total} classes appear, but unequally (KL from uniform {kl:.2f} nats, "
            f"limit {CLASS_KL_LIMIT:g}): G favours a few"
        )
    return ev, msg


def _overfitting_d(rec, hist, ctx):
    if not _has(rec, "overfit_rv", "overfit_z"):
        return None
    rv, z = rec["overfit_rv"], rec["overfit_z"]
    if rv >= OVERFIT_RV and z >= OVERFIT_Z:
        keys = ("overfit_rv", "overfit_z", "overfit_rv_raw", "r_t", "d_train", "d_heldout", "d_generated")
        ev = {k: rec[k] for k in keys if k in rec}
        return (
            ev,
            (
                f"D overfits its training images: it scores held-out real images {rv:.0%} of the way from the "
                f"training images towards G's samples ({z:.1f} standard errors), so it judges by memory, not "
                "by what real images look like, and G's signal degrades"
            ),
        )
    return None


def _oscillation(rec, hist, ctx):
    ys, what = (hist.g_losses, "G's loss") if ctx.probabilistic else (hist.gaps, "the critic gap D(x) - D(G(z))")
    if len(ys) < OSC_WINDOW:
        return None
    deltas = [b - a for a, b in itertools.pairwise(ys)]
    rng = max(ys) - min(ys)
    med = sorted(abs(y) for y in ys)[len(ys) // 2]
    turns = sum(1 for a, b in itertools.pairwise(deltas) if a * b < 0 and min(abs(a), abs(b)) >= 0.1 * rng)
    if turns >= OSC_TURNS and rng >= OSC_RANGE * max(med, OSC_FLOOR):
        key = "g_loss" if ctx.probabilistic else "critic_gap"
        ev = {f"{key}_range": rng, f"{key}_median": med, "direction_changes": turns}
        if ctx.probabilistic and "g_loss_min" in rec:
            ev.update(g_loss_min_in_interval=rec["g_loss_min"], g_loss_max_in_interval=rec["g_loss_max"])
        if not ctx.probabilistic:
            ev.update({k: rec[k] for k in ("d_grad_norm", "g_grad_norm") if k in rec})
        return (
            ev,
            (
                f"non-convergent oscillation: {what} swings by {rng:.3g} around {med:.3g} over the last "
                f"{OSC_WINDOW} logs instead of settling"
            ),
        )
    return None


RULES = {
    "divergence": _divergence,
    "d_overpowering": _d_overpowering,
    "vanishing_g_gradients": _vanishing,
    "g_overpowering": _g_overpowering,
    "mode_collapse": _mode_collapse,
    "partial_mode_collapse": _partial_mode_collapse,
    "overfitting_d": _overfitting_d,
    "oscillation": _oscillation,
}


# ---------------------------------------------------------------- persistence


@dataclass
class _Track:
    streak: list = field(default_factory=list)  # (step, evidence, message) while the rule holds
    misses: int = 0
    open: Finding | None = None


class Diagnoser:
    """Feeds records one at a time; `update` returns the (event, finding) pairs that happened,
    event being "start" or "clear"; `finish` those of the end of the run (an imbalance that held
    to the end of a run shorter than the balance warm-up)."""

    def __init__(self, ctx: Context | None = None):
        self.ctx = ctx or Context()
        self.hist = _History()
        self.tracks = {k: _Track() for k in RULES}
        self.findings: list[Finding] = []
        self.first_step: int | None = None
        self.last_step: int | None = None
        self.last: dict = {}
        self.held_back: set[str] = set()  # rules that hold PERSIST logs in a row inside their warm-up

    def _in_warmup(self, kind: str, step: int) -> bool:
        if kind in BALANCE_KINDS:
            return step < self.ctx.balance_warmup_steps
        return kind in COLLAPSE_KINDS and step < self.ctx.collapse_warmup_steps

    def _subsumed(self, kind: str, hits: dict) -> bool:
        """The milder finding waits while the severe one holds or is open (its streak goes on, so a
        run that swings between "most modes missing" and "some modes missing" is still caught)."""
        return any(
            milder == kind and (hits[severe] or self.tracks[severe].open is not None)
            for severe, milder in SUBSUMES.items()
        )

    def _open(self, kind: str, tr: _Track, step: int) -> Finding:
        start, evidence, message = tr.streak[0][0], tr.streak[-1][1], tr.streak[-1][2]
        tr.open = Finding(kind, start, step, evidence, message, remedies(kind, self.ctx), active=True)
        self.findings.append(tr.open)
        return tr.open

    def update(self, rec: dict) -> list[tuple[str, Finding]]:
        if "event" in rec or "d_loss" not in rec:
            return []
        self.hist.add(rec)
        step = rec.get("step", self.hist.n)
        self.first_step = step if self.first_step is None else self.first_step
        self.last_step, self.last = step, rec
        hits = {}
        for kind, rule in RULES.items():
            try:
                hits[kind] = rule(rec, self.hist, self.ctx)
            except Exception as e:  # a bug in a rule: say which rule and record, never "no finding"
                raise RuntimeError(f"diagnosis rule {kind} failed on the record of step {step}: {e!r}") from e
        events = []
        self.held_back = set()
        for kind, hit in hits.items():
            tr = self.tracks[kind]
            need = 1 if kind == "divergence" else PERSIST
            if hit:
                tr.misses = 0
                if tr.open:
                    tr.open.end_step = step
                    if kind in UPDATED:  # which modes are missing now, not only when it started
                        tr.open.evidence, tr.open.message = hit
                    continue
                tr.streak.append((step, *hit))
                if len(tr.streak) >= need and not self._subsumed(kind, hits):
                    if self._in_warmup(kind, step):
                        self.held_back.add(kind)
                    else:
                        events.append(("start", self._open(kind, tr, step)))
            else:
                tr.streak = []
                if tr.open:
                    tr.misses += 1
                    if tr.misses >= PERSIST:
                        tr.open.active = False
                        events.append(("clear", tr.open))
                        tr.open = None
                        tr.misses = 0
        return events

    def active(self) -> list[Finding]:
        """The findings that hold now (started and not cleared)."""
        return [tr.open for tr in self.tracks.values() if tr.open is not None]

    def holding(self, during_warmup: bool = False) -> list[str]:
        """Kinds of the findings that hold now; with `during_warmup`, also those a warm-up still
        holds back (train.balance = auto acts on them: a mild remedy early beats a finding late)."""
        kinds = [f.kind for f in self.active()]
        return kinds + sorted(self.held_back - set(kinds)) if during_warmup else kinds

    def finish(self) -> list[tuple[str, Finding]]:
        """At the end of the records: a balance or collapse finding that held for PERSIST records up
        to the end of a run that ended inside its warm-up is reported (the warm-up hides early
        states that fade, not ones that last the whole run)."""
        events = []
        for kind, tr in self.tracks.items():  # severe before milder: RULES' order
            subsumed = any(m == kind and self.tracks[sv].open is not None for sv, m in SUBSUMES.items())
            if (
                tr.open is None
                and len(tr.streak) >= PERSIST
                and kind in BALANCE_KINDS + COLLAPSE_KINDS
                and not subsumed
            ):
                events.append(("start", self._open(kind, tr, tr.streak[-1][0])))
        return events

    def result(self) -> list[Finding]:
        """All findings so far, by start step; a single `healthy` finding when there are none."""
        if self.findings:
            return sorted(self.findings, key=lambda f: (f.start_step, KINDS.index(f.kind)))
        if self.last_step is None:
            return []
        r = self.last
        ev = {
            k: r[k]
            for k in (
                "d_loss",
                "g_loss",
                "d_real",
                "d_fake",
                "d_acc",
                "diversity",
                "modes_covered",
                "classes_covered",
                "overfit_rv",
                "overfit_rv_raw",
                "msssim",
                "msssim_real",
            )
            if k in r
        }
        message = "no imbalance found: neither side ran away from the other, losses finite, samples diverse"
        pending = [k for k, tr in self.tracks.items() if tr.streak]
        if pending:  # a rule holds in the last logs, but not yet PERSIST of them
            ev["pending"] = ", ".join(pending)
            message += (
                f"; but in the last logs, not yet {PERSIST} in a row: {', '.join(pending)} "
                "(train longer or log more often to confirm)"
            )
        elif self.hist.n < PERSIST:
            message += f"; only {self.hist.n} log(s), too few to be sure (a finding needs {PERSIST})"
        return [Finding("healthy", self.first_step, self.last_step, ev, message)]


def diagnose(records: list[dict], ctx: Context | None = None) -> list[Finding]:
    """Findings for a whole run: pure function of its stats records (diagnosis events are skipped)."""
    d = Diagnoser(ctx)
    for rec in records:
        d.update(rec)
    d.finish()
    return d.result()
