"""Speed settings (config section `speed`) resolved for a device, and applied to a trainer.

Every setting changes how fast a step runs, not what it computes, except bf16 autocast, which
rounds the forward passes (losses and optimiser state stay fp32). `auto` picks, per device:

    setting         CUDA                              CPU
    amp             bf16 (image data, no penalty)     off (fp32)
    channels_last   on (conv nets)                    off
    compile         on                                off (compile time never pays off in a CPU run)
    fused_adam      on                                off (foreach Adam)

bf16 stays off under `auto` for the toy sets (tiny MLPs: nothing to gain, and their plots compare
with exact densities) and for objectives with a gradient penalty (wgan-gp, R1: the penalty is a
gradient of a gradient, which bf16 rounding visibly perturbs). Ask for it with speed.amp = "bf16".
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

import torch

CONV_ARCHITECTURES = ("dcgan-tconv", "dcgan-upsample", "dcgan")


@dataclass(frozen=True)
class Speed:
    """The resolved settings: what actually runs."""

    amp: bool
    channels_last: bool
    compile: bool
    fused_adam: bool
    device_type: str

    def autocast(self):
        """Context for the forward passes: bf16 autocast, or nothing."""
        if not self.amp:
            return contextlib.nullcontext()
        return torch.autocast(self.device_type, dtype=torch.bfloat16)

    def describe(self) -> str:
        return (f"amp={'bf16' if self.amp else 'off (fp32)'}, channels_last={_onoff(self.channels_last)}, "
                f"compile={_onoff(self.compile)}, fused_adam={_onoff(self.fused_adam)}")


def _onoff(b: bool) -> str:
    return "on" if b else "off"


def resolve(cfg, device: torch.device) -> Speed:
    s, cuda = cfg.speed, device.type == "cuda"
    is_image = cfg.data.name not in ("gaussian-1d", "ring-2d", "grid-2d")
    conv = cfg.model.g in CONV_ARCHITECTURES or cfg.model.d in CONV_ARCHITECTURES
    has_penalty = cfg.loss.kind == "wgan-gp" or cfg.loss.r1_gamma > 0

    def pick(value: str, auto: bool) -> bool:
        return auto if value == "auto" else value == "on"

    amp = (s.amp == "bf16") or (s.amp == "auto" and cuda and is_image and not has_penalty
                                and torch.cuda.is_bf16_supported())
    return Speed(
        amp=amp,
        channels_last=pick(s.channels_last, cuda and conv),
        compile=pick(s.compile, cuda),
        fused_adam=pick(s.fused_adam, cuda),
        device_type=device.type,
    )


def apply_to_networks(speed: Speed, *nets: torch.nn.Module) -> None:
    """channels_last and compile, in place: state_dict keys stay as they are (Module.compile
    rather than torch.compile(module), whose wrapper would prefix every key with `_orig_mod.`)."""
    for net in nets:
        if speed.channels_last:
            net.to(memory_format=torch.channels_last)
        if speed.compile:
            net.compile()
