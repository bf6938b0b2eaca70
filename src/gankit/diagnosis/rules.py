"""Why is this run failing? Rules over the logged training statistics, giving findings with the
step range, the numbers that triggered them and the remedies (in seed S5's words where it has them).

    findings = diagnose(run.read_stats(), Context.from_config(cfg))
    for f in findings: print(f.describe())

Each stats record is an average over `train.log_every` steps (trainer.STAT_KEYS, plus
`diversity` and, for toy mixtures, `modes_covered`). A rule looks at one record (and a little
history); a finding starts when its rule holds for PERSIST records in a row and clears when it has
failed for PERSIST records in a row, so one noisy record neither raises nor clears an alarm.
`Diagnoser` does this incrementally (the live callback); `diagnose` is the same over a whole run.

Thresholds, and why (scores are D(x), D(G(z)) as probabilities for BCE; for least squares they
are D's raw outputs, rescaled so the fake label is 0 and the real label is 1):
- d_overpowering: D's accuracy >= 0.90 and D(x) - D(G(z)) >= 0.70. A D that separates 90 % of
  the samples and is that sure of both has left G nothing to climb (seed S5: D loss -> 0, accuracy
  -> 100 %). Healthy toy and DCGAN runs stay below a 0.5 gap.
- g_overpowering: D rates G's samples as more real than the data, D(G(z)) - D(x) >= 0.10: D is
  fooled, not merely undecided, so it gives G no useful signal. At the equilibrium both scores
  are 1/2 and the gap is 0, so a converged run does not trigger it; healthy runs keep D(x) above
  D(G(z)) throughout. Also, for toy mixtures (where we know where the data lie), after WARMUP logs:
  D undecided (|D(x) - D(G(z))| <= 0.05) while <= 20 % of G's samples lie near a mode - D has
  stopped judging, not G won the game (at the equilibrium nearly all samples are near modes).
- vanishing_g_gradients: D rejects G's samples (D(G(z)) <= 0.05) and G's gradient norm is below
  2 % of its largest value so far (or below 1e-3; dips to 10-20 % happen in runs that still learn): the minimax G loss log(1 - D(G(z))) is flat
  there (seed S2), so G stops moving.
- mode_collapse: the mean pairwise distance of 256 fixed-noise samples is <= 0.5 of the data's
  (and, for toy mixtures, G covers at most half of the modes). Half the data's spread is far below
  what a G that covers the data shows (0.8-1.2 in healthy runs), far above sampling noise. The
  first WARMUP logs are not judged: a freshly initialised G has a narrow output, not a collapsed one.
- divergence: a non-finite loss or gradient norm, a mean loss above 100 in magnitude (BCE of
  100 means logits around 100: D's outputs have saturated because the weights blew up) or a
  gradient norm above 1e5. Raised on the first record (no persistence: it does not heal itself).
- oscillation: in the last 6 records G's loss changes direction at least twice and its range
  is at least half its median magnitude (0.5 of it when the median is below 1): a swinging,
  non-convergent game (seed S5: "G loss high or swinging"). Healthy runs drift by < 20 %.
- healthy: none of the above over the whole run.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

PERSIST = 3  # records in a row for a finding to start or to clear
OSC_WINDOW = 6
WARMUP = 5  # logs not judged for mode collapse: G starts from a narrow output at initialisation
LOSS_LIMIT = 100.0
GRAD_LIMIT = 1e5

KINDS = ("divergence", "d_overpowering", "vanishing_g_gradients", "g_overpowering", "mode_collapse",
         "oscillation", "healthy")


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

    @classmethod
    def from_config(cls, cfg) -> "Context":
        from ..losses import KINDS

        return cls(loss_kind=cfg.loss.kind, g_form=cfg.loss.g_form, real_target=cfg.loss.real_target,
                   fake_target=cfg.loss.fake_target, d_lr=cfg.optim.d.lr, g_lr=cfg.optim.g.lr,
                   d_steps=cfg.train.d_steps, d_arch=cfg.model.d, loss_kinds=KINDS)

    @property
    def probabilistic(self) -> bool:
        """Scores live on a [fake label, real label] scale (BCE, least squares), so the balance rules apply."""
        from ..losses import is_critic

        return not is_critic(self.loss_kind)

    def norm(self, score: float) -> float:
        """A score on the scale fake label = 0, real label = 1."""
        span = self.real_target - self.fake_target
        return (score - self.fake_target) / span if span else score


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
    wgan = next((k for k in ctx.loss_kinds if k.startswith("wgan")), None)
    wgan_text = "a WGAN-GP loss" + (f" (loss.kind = \"{wgan}\")" if wgan else "")
    d_too_fast = [f"lower D's learning rate (optim.d.lr = {ctx.d_lr:g} now; G's is {ctx.g_lr:g})",
                  f"train D less often (train.d_steps = {ctx.d_steps} now)", wgan_text]
    if kind == "d_overpowering":
        return d_too_fast + ["one-sided label smoothing: real labels 0.9 instead of 1 (loss.real_target = 0.9)"]
    if kind == "vanishing_g_gradients":
        out = d_too_fast
        if ctx.g_form == "minimax":
            out = ["train G to maximise log D(G(z)) instead of minimising log(1 - D(G(z))) "
                   "(loss.g_form = \"non-saturating\")"] + out
        return out
    if kind == "mode_collapse":
        return d_too_fast + ["watch the samples, not only the losses: G repeats a few outputs"]
    if kind == "g_overpowering":
        return [f"more D capacity (a wider or deeper D: model.hidden / model.layers / model.d = {ctx.d_arch!r})",
                f"pause G: train D more often per G step (train.d_steps = {ctx.d_steps} now)",
                f"lower G's learning rate or raise D's (optim.g.lr = {ctx.g_lr:g}, optim.d.lr = {ctx.d_lr:g})",
                "a perceptual loss", "image-quality metrics, to judge the samples D no longer judges"]
    if kind == "divergence":
        return [f"lower the learning rates (optim.g.lr = {ctx.g_lr:g}, optim.d.lr = {ctx.d_lr:g}), e.g. by 10x, "
                "and start again or resume from the last checkpoint", wgan_text]
    if kind == "oscillation":
        return ["neither side may run away from the other: lower both learning rates",
                "less momentum: Adam beta1 = 0.5 (optim.g.beta1 / optim.d.beta1) as the DCGAN seeds use",
                wgan_text]
    return []


# ---------------------------------------------------------------- the rules

class _History:
    """What rules need from earlier records."""

    def __init__(self):
        self.g_grad_peak = 0.0
        self.g_losses: list[float] = []
        self.n = 0

    def add(self, rec: dict) -> None:
        g = rec.get("g_grad_norm")
        if _finite(g) and g <= GRAD_LIMIT:  # a record that blew up is no reference for "vanished"
            self.g_grad_peak = max(self.g_grad_peak, g)
        if _finite(rec.get("g_loss")):
            self.g_losses = (self.g_losses + [rec["g_loss"]])[-OSC_WINDOW:]
        self.n += 1


def _divergence(rec, hist, ctx):
    keys = ("d_loss", "g_loss", "d_grad_norm", "g_grad_norm")
    bad = {k: rec[k] for k in keys if k in rec and not _finite(rec[k])}
    if bad:
        return {k: str(v) for k, v in bad.items()}, "losses or gradients became NaN/Inf: training diverged"
    big = {k: rec[k] for k in ("d_loss", "g_loss") if abs(rec.get(k, 0.0)) > LOSS_LIMIT}
    big.update({k: rec[k] for k in ("d_grad_norm", "g_grad_norm") if rec.get(k, 0.0) > GRAD_LIMIT})
    if big:
        return big, (f"exploding losses or gradients (loss above {LOSS_LIMIT:g} or gradient norm above "
                     f"{GRAD_LIMIT:g}): the weights are blowing up")
    return None


def _scores(rec, ctx):
    return ctx.norm(rec["d_real"]), ctx.norm(rec["d_fake"])


def _d_overpowering(rec, hist, ctx):
    if not ctx.probabilistic or "d_acc" not in rec:
        return None
    real, fake = _scores(rec, ctx)
    if rec["d_acc"] >= 0.90 and real - fake >= 0.70:
        return ({"d_loss": rec["d_loss"], "d_acc": rec["d_acc"], "d_real": rec["d_real"], "d_fake": rec["d_fake"],
                 "g_loss": rec["g_loss"]},
                "D learns too fast: it tells real from generated almost always (D loss -> 0, accuracy -> 100 %), "
                "so G's loss is high or swinging")
    return None


def _g_overpowering(rec, hist, ctx):
    if not ctx.probabilistic:
        return None
    real, fake = _scores(rec, ctx)
    ev = {k: rec[k] for k in ("d_real", "d_fake", "d_acc", "d_loss", "g_loss") if k in rec}
    if fake - real >= 0.10:
        return (ev, "G learns too fast: D rates generated samples as more real than the data, G's loss falls while "
                    "D's climbs; D gives no useful signal, so the samples may look plausible with odd details")
    on_modes = rec.get("on_modes")
    if hist.n > WARMUP and abs(fake - real) <= 0.05 and _finite(on_modes) and on_modes <= 0.2:
        ev["on_modes"] = on_modes
        return (ev, "G outran D: D cannot tell generated samples from the data although they lie off the data "
                    f"(only {on_modes:.0%} near a mode), so D gives G no useful signal")
    return None


def _vanishing(rec, hist, ctx):
    if not ctx.probabilistic or not _finite(rec.get("g_grad_norm")):
        return None
    _, fake = _scores(rec, ctx)
    g = rec["g_grad_norm"]
    if fake <= 0.05 and (g < 1e-3 or g <= 0.02 * hist.g_grad_peak):
        return ({"g_grad_norm": g, "g_grad_norm_peak": hist.g_grad_peak, "d_fake": rec["d_fake"],
                 "g_loss": rec["g_loss"]},
                "G's gradients vanish: D rejects every generated sample and G's loss is flat there, so G stops learning")
    return None


def _mode_collapse(rec, hist, ctx):
    div = rec.get("diversity")
    if hist.n <= WARMUP or not _finite(div) or div > 0.5:
        return None
    ev = {"diversity": div}
    total = rec.get("modes_total")
    if total:
        if rec.get("modes_covered", 0) > total / 2:
            return None
        ev.update(modes_covered=rec["modes_covered"], modes_total=total)
    return (ev, "mode collapse: G repeats a few outputs; its samples spread "
                f"{div:.0%} as much as the data's" + (f" and cover {rec['modes_covered']} of {total} modes" if total else ""))


def _oscillation(rec, hist, ctx):
    ys = hist.g_losses
    if len(ys) < OSC_WINDOW:
        return None
    deltas = [b - a for a, b in zip(ys, ys[1:])]
    rng = max(ys) - min(ys)
    med = sorted(abs(y) for y in ys)[len(ys) // 2]
    turns = sum(1 for a, b in zip(deltas, deltas[1:]) if a * b < 0 and min(abs(a), abs(b)) >= 0.1 * rng)
    if turns >= 2 and rng >= 0.5 * max(med, 1.0):
        ev = {"g_loss_range": rng, "g_loss_median": med, "direction_changes": turns}
        if "g_loss_min" in rec:
            ev.update(g_loss_min_in_interval=rec["g_loss_min"], g_loss_max_in_interval=rec["g_loss_max"])
        return (ev, f"non-convergent oscillation: G's loss swings by {rng:.3g} around {med:.3g} over the last "
                    f"{OSC_WINDOW} logs instead of settling")
    return None


RULES = {"divergence": _divergence, "d_overpowering": _d_overpowering, "vanishing_g_gradients": _vanishing,
         "g_overpowering": _g_overpowering, "mode_collapse": _mode_collapse, "oscillation": _oscillation}


# ---------------------------------------------------------------- persistence

@dataclass
class _Track:
    streak: list = field(default_factory=list)  # (step, evidence, message) while the rule holds
    misses: int = 0
    open: Finding | None = None


class Diagnoser:
    """Feeds records one at a time; `update` returns the (event, finding) pairs that happened,
    event being "start" or "clear"."""

    def __init__(self, ctx: Context | None = None):
        self.ctx = ctx or Context()
        self.hist = _History()
        self.tracks = {k: _Track() for k in RULES}
        self.findings: list[Finding] = []
        self.first_step: int | None = None
        self.last_step: int | None = None
        self.last: dict = {}

    def update(self, rec: dict) -> list[tuple[str, Finding]]:
        if "event" in rec or "d_loss" not in rec:
            return []
        self.hist.add(rec)
        step = rec.get("step", self.hist.n)
        self.first_step = step if self.first_step is None else self.first_step
        self.last_step, self.last = step, rec
        events = []
        for kind, rule in RULES.items():
            tr = self.tracks[kind]
            try:
                hit = rule(rec, self.hist, self.ctx)
            except (KeyError, TypeError, ValueError):
                hit = None  # a record without the keys this rule reads (an older run)
            need = 1 if kind == "divergence" else PERSIST
            if hit:
                tr.misses = 0
                if tr.open:
                    tr.open.end_step = step
                    continue
                tr.streak.append((step, *hit))
                if len(tr.streak) >= need:
                    start, evidence, message = tr.streak[0][0], tr.streak[-1][1], tr.streak[-1][2]
                    tr.open = Finding(kind, start, step, evidence, message, remedies(kind, self.ctx), active=True)
                    self.findings.append(tr.open)
                    events.append(("start", tr.open))
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

    def result(self) -> list[Finding]:
        """All findings so far, by start step; a single `healthy` finding when there are none."""
        if self.findings:
            return sorted(self.findings, key=lambda f: (f.start_step, KINDS.index(f.kind)))
        if self.last_step is None:
            return []
        r = self.last
        ev = {k: r[k] for k in ("d_loss", "g_loss", "d_real", "d_fake", "d_acc", "diversity", "modes_covered")
              if k in r}
        message = "no imbalance found: neither side ran away from the other, losses finite, samples diverse"
        pending = [k for k, tr in self.tracks.items() if tr.streak]
        if pending:  # a rule holds in the last logs, but not yet PERSIST of them
            ev["pending"] = ", ".join(pending)
            message += (f"; but in the last logs, not yet {PERSIST} in a row: {', '.join(pending)} "
                        "(train longer or log more often to confirm)")
        elif self.hist.n < PERSIST:
            message += f"; only {self.hist.n} log(s), too few to be sure (a finding needs {PERSIST})"
        return [Finding("healthy", self.first_step, self.last_step, ev, message)]


def diagnose(records: list[dict], ctx: Context | None = None) -> list[Finding]:
    """Findings for a whole run: pure function of its stats records (diagnosis events are skipped)."""
    d = Diagnoser(ctx)
    for rec in records:
        d.update(rec)
    return d.result()
