"""Where the time of gankit's training step goes: torch.profiler over a few real steps, summed
into kinds of work (convolutions, batch norm, optimiser, ...) and the top operators.

    python benchmarks/profile_step.py dcgan-mnist32 --batch 64 --steps 10 --device cpu
    python benchmarks/profile_step.py dcgan-mnist32 --device cuda --set speed.compile=off

Times are the operators' self times (CPU, or CUDA kernels on a GPU), so the kinds add up to the
profiled total. Needs the data the preset trains on (--data-root, $GANKIT_DATA or ~/.cache/gankit).
"""

from __future__ import annotations

import argparse
from collections import defaultdict

from torch.profiler import ProfilerActivity, profile

from gankit.api import make_trainer
from gankit.config import load_preset
from gankit.training.experiment import resolve_device
from gankit.training.timing import time_trainer

# operator-name fragments -> kind of work; the first match wins
KINDS = [
    ("convolution", ("conv", "mkldnn_convolution", "cudnn", "sm90_xmma", "implicit_gemm", "dgrad", "wgrad")),
    ("batch norm", ("batch_norm", "native_batch_norm", "bn_")),
    ("matmul / linear", ("addmm", "mm", "linear", "gemm", "matmul")),
    ("optimiser (Adam)", ("_foreach", "adam", "lerp", "addcdiv", "addcmul")),
    ("activations, dropout", ("leaky_relu", "relu", "tanh", "sigmoid", "dropout", "bernoulli", "elu")),
    ("upsample", ("upsample",)),
    ("loss", ("binary_cross_entropy", "mse_loss", "log_sigmoid", "softplus")),
    ("copies (dtype casts, layout reorders)", ("to_copy", "copy_", "_to_copy")),
    ("data (gather, normalise, flip)", ("index", "randperm", "flip", "where")),
]


def kind_of(name: str) -> str:
    low = name.lower()
    for kind, fragments in KINDS:
        if any(f in low for f in fragments):
            return kind
    return "other (elementwise, reductions, ...)"


def step_flops(trainer) -> float:
    """Floating-point operations of one training step (forward and backward passes of G and D),
    counted by torch.utils.flop_counter on one untimed step."""
    from torch.utils.flop_counter import FlopCounterMode

    counter = FlopCounterMode(display=False)
    with counter:
        time_trainer(trainer, steps=1, warmup=0)
    return float(counter.get_total_flops())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("preset", nargs="?", default="dcgan-mnist32")
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--device", default="auto")
    ap.add_argument("--data-root")
    ap.add_argument("--top", type=int, default=12)
    ap.add_argument("--set", dest="overrides", action="append", default=[], help="gankit config KEY=VALUE")
    ap.add_argument(
        "--peak-tflops",
        type=float,
        default=0.0,
        help="the device's peak dense TFLOP/s in the step's precision (e.g. 989 for an H100 SXM "
        "in bf16), to print the fraction of it the step reaches",
    )
    args = ap.parse_args()
    device = resolve_device(args.device)
    cfg = load_preset(args.preset, [f"train.batch_size={args.batch}", f"device={device}", *args.overrides])
    trainer = make_trainer(cfg, run=None, data_root=args.data_root, progress=False)
    time_trainer(trainer, steps=3, warmup=2)  # warm-up outside the profile
    flops = step_flops(trainer)
    plain = time_trainer(trainer, steps=args.steps, warmup=0)  # the rate without the profiler's overhead
    cuda = device.type == "cuda"
    activities = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if cuda else [])
    with profile(activities=activities) as prof:
        timing = time_trainer(trainer, steps=args.steps, warmup=0)
    events = [e for e in prof.key_averages() if e.key and not e.key.startswith("ProfilerStep")]
    self_time = (lambda e: e.self_device_time_total) if cuda else (lambda e: e.self_cpu_time_total)
    total = sum(self_time(e) for e in events) or 1
    by_kind = defaultdict(float)
    for e in events:
        by_kind[kind_of(e.key)] += self_time(e)
    print(f"{args.preset}, batch {args.batch}, {device}, {trainer.speed.describe()}")
    print(
        f"{timing.images_per_s:,.0f} images/s while profiled ({args.steps} steps); "
        f"{'CUDA kernel' if cuda else 'CPU'} self time {total / 1e3 / args.steps:.1f} ms per step"
    )
    achieved = flops / args.batch * plain.images_per_s / 1e12
    share = f", {100 * achieved / args.peak_tflops:.1f}% of {args.peak_tflops:g} peak" if args.peak_tflops else ""
    print(
        f"{flops / args.batch / 1e9:.2f} GFLOP per real image and step (torch.utils.flop_counter); "
        f"without the profiler {plain.images_per_s:,.0f} images/s = {achieved:.3f} TFLOP/s{share}\n"
    )
    print(f"{'kind of work':<34} {'share':>6}")
    for kind, t in sorted(by_kind.items(), key=lambda kv: -kv[1]):
        print(f"{kind:<34} {100 * t / total:>5.1f}%")
    print(f"\n{'top operators':<52} {'share':>6}")
    for e in sorted(events, key=self_time, reverse=True)[: args.top]:
        print(f"{e.key[:52]:<52} {100 * self_time(e) / total:>5.1f}%")


if __name__ == "__main__":
    main()
