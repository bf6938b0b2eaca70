"""Speed settings (config section `speed`) resolved for a device, and applied to a trainer.

Every setting changes how fast a step runs, not what it computes, except bf16 autocast, which
rounds the forward passes (weights, losses and optimiser state stay fp32). `auto` picks, per device:

    setting         CUDA                              CPU
    amp             bf16 (image data, no penalty)     bf16 likewise, where the CPU multiplies bf16
                                                      natively (AVX512-BF16 or AMX); else off (fp32)
    channels_last   on (conv nets)                    on (conv nets: oneDNN's NHWC kernels)
    compile         on                                off (compile time never pays off in a CPU run)
    fused_adam      on                                on for image data (toy sets: foreach Adam)
    cuda_graphs     off (opt-in: not yet measured)    not available

bf16 stays off under `auto` for the toy sets (tiny MLPs: nothing to gain, and their plots compare
with exact densities) and for objectives with a gradient penalty (wgan-gp, R1: the penalty is a
gradient of a gradient, which bf16 rounding visibly perturbs). Ask for it with speed.amp = "bf16".
cuda_graphs = "on" compiles with mode="reduce-overhead": each step replays recorded CUDA graphs
instead of launching kernels one by one, which pays where launch overhead dominates (small batches).

On a CPU without native bf16, autocast would emulate it and run slower than fp32, so auto keeps fp32.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

import torch

from .. import losses
from ..errors import GankitError
from ..names import is_toy

CONV_ARCHITECTURES = ("dcgan-tconv", "dcgan-upsample", "dcgan")


@dataclass(frozen=True)
class Speed:
    """The resolved settings: what actually runs."""

    amp: bool
    channels_last: bool
    compile: bool
    fused_adam: bool
    device_type: str
    cuda_graphs: bool = False

    def autocast(self):
        """Context for the forward passes: bf16 autocast, or nothing."""
        if not self.amp:
            return contextlib.nullcontext()
        return torch.autocast(self.device_type, dtype=torch.bfloat16)

    def describe(self) -> str:
        return (
            f"amp={'bf16' if self.amp else 'off (fp32)'}, channels_last={_onoff(self.channels_last)}, "
            f"compile={_onoff(self.compile)}{' (CUDA graphs)' if self.cuda_graphs else ''}, "
            f"fused_adam={_onoff(self.fused_adam)}"
        )


def _onoff(b: bool) -> str:
    return "on" if b else "off"


def cpu_has_native_bf16() -> bool:
    """Whether this CPU has bf16 dot-product instructions (AVX512-BF16 or AMX tiles). The probes are
    private torch.cpu functions; if a torch release drops them, the answer is a safe "no" (fp32)."""
    probes = ("_is_avx512_bf16_supported", "_is_amx_tile_supported")
    return any(getattr(torch.cpu, name, lambda: False)() for name in probes)


def bf16_is_fast(device: torch.device) -> bool:
    if device.type == "cuda":
        return torch.cuda.is_bf16_supported()
    return device.type == "cpu" and cpu_has_native_bf16()


def resolve(cfg, device: torch.device) -> Speed:
    s, cuda = cfg.speed, device.type == "cuda"
    is_image = not is_toy(cfg.data.name)
    conv = cfg.model.g in CONV_ARCHITECTURES or cfg.model.d in CONV_ARCHITECTURES
    has_penalty = losses.has_penalty(cfg.loss)

    def pick(value: str, auto: bool) -> bool:
        return auto if value == "auto" else value == "on"

    graphs = s.cuda_graphs == "on"
    if graphs and not cuda:
        raise GankitError(
            f'speed.cuda_graphs = "on" needs a CUDA device, and this run is on {device}: '
            "drop the setting (or set it to auto) for CPU runs"
        )
    amp = (s.amp == "bf16") or (s.amp == "auto" and is_image and not has_penalty and bf16_is_fast(device))
    return Speed(
        amp=amp,
        channels_last=pick(s.channels_last, conv),
        compile=graphs or pick(s.compile, cuda),  # CUDA graphs come from the compiler's reduce-overhead mode
        fused_adam=pick(s.fused_adam, cuda or is_image),  # CPU: 15-30% faster steps for the MLP GAN
        device_type=device.type,
        cuda_graphs=graphs,
    )


def apply_to_networks(speed: Speed, *nets: torch.nn.Module) -> None:
    """channels_last and compile, in place: state_dict keys stay as they are (Module.compile
    rather than torch.compile(module), whose wrapper would prefix every key with `_orig_mod.`)."""
    for net in nets:
        if speed.channels_last:
            net.to(memory_format=torch.channels_last)
        if speed.compile:
            net.compile(mode="reduce-overhead" if speed.cuda_graphs else None)
