"""The `speed` settings: every value is accepted and trains on CPU; `auto` keeps the toy sets plain
fp32 on CPU (bitwise the same run as all settings off), picks bf16 + channels_last for image nets on
a CPU with native bf16, and the fast path on CUDA; `gankit bench` runs."""

from __future__ import annotations

import pytest
import torch

from gankit.api import make_trainer
from gankit.cli import main
from gankit.config import load_preset
from gankit.errors import GankitError
from gankit.training.loop import Trainer
from gankit.training.speed import apply_to_networks, resolve

SETTINGS = {
    "amp": ("auto", "bf16", "off"),
    "channels_last": ("auto", "on", "off"),
    "compile": ("auto", "on", "off"),
    "fused_adam": ("auto", "on", "off"),
    "cuda_graphs": ("auto", "off"),
}  # "on" needs CUDA: see test_cuda_graphs_on_cpu_is_a_clear_error
QUICK = ["train.steps=4", "train.log_every=2", "device=cpu", "data.size=512", "train.batch_size=64"]


def _train(preset: str, overrides: list[str], data_root=None) -> Trainer:
    trainer = make_trainer(load_preset(preset, overrides), data_root=data_root, progress=False)
    trainer.fit()
    return trainer


@pytest.mark.parametrize("key,value", [(k, v) for k, vs in SETTINGS.items() for v in vs if (k, v) != ("compile", "on")])
def test_each_setting_value_trains_on_cpu(key, value):
    trainer = _train("ring-2d", QUICK + [f"speed.{key}={value}"])
    assert trainer.pos.step == 4
    assert all(torch.isfinite(p).all() for p in trainer.G.parameters())


@pytest.mark.slow  # compiling on CPU takes a minute
def test_compile_on_trains_on_cpu_and_keeps_checkpoint_keys():
    trainer = _train("ring-2d", QUICK + ["speed.compile=on"])
    assert trainer.pos.step == 4
    assert not any(k.startswith("_orig_mod") for k in trainer.state_dict()["g"])


def test_convolutional_preset_with_bf16_and_channels_last_trains_on_cpu(data_root):
    over = [
        "train.steps=2",
        "train.log_every=1",
        "device=cpu",
        "train.batch_size=8",
        "speed.amp=bf16",
        "speed.channels_last=on",
        "speed.fused_adam=on",
    ]
    trainer = _train("dcgan-mnist32", over, data_root)
    assert trainer.speed.amp and trainer.speed.channels_last and trainer.speed.fused_adam
    assert trainer.pos.step == 2
    assert all(torch.isfinite(p).all() for p in trainer.D.parameters())
    # the checkpoint holds fp32 weights whatever the forward passes ran in
    assert all(v.dtype == torch.float32 for v in trainer.state_dict()["g"].values() if v.is_floating_point())


def test_auto_is_plain_fp32_on_cpu_bitwise():
    auto = _train("ring-2d", QUICK)
    off = _train("ring-2d", QUICK + [f"speed.{k}=off" for k in SETTINGS])
    assert not any(vars(auto.speed)[k] for k in SETTINGS)
    for a, b in zip(auto.state_dict()["g"].values(), off.state_dict()["g"].values()):
        assert torch.equal(a, b)


def test_auto_on_cuda_picks_the_fast_path(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *a, **k: True)
    cuda = torch.device("cuda")
    s = resolve(load_preset("dcgan-mnist32"), cuda)
    assert (s.amp, s.channels_last, s.compile, s.fused_adam) == (True, True, True, True)
    toy = resolve(load_preset("ring-2d"), cuda)
    assert not toy.amp and not toy.channels_last and toy.compile  # fp32 for the toy sets, no convolutions
    assert not resolve(load_preset("dcgan-mnist32-wgangp"), cuda).amp  # gradient penalty stays fp32
    assert not resolve(load_preset("dcgan-mnist32", ["speed.amp=off", "speed.compile=off"]), cuda).amp


@pytest.mark.parametrize("native", [True, False])
def test_auto_on_cpu_uses_bf16_only_where_the_cpu_has_it(monkeypatch, native):
    monkeypatch.setattr("gankit.training.speed.cpu_has_native_bf16", lambda: native)
    cpu = torch.device("cpu")
    s = resolve(load_preset("dcgan-mnist32"), cpu)
    assert (s.amp, s.channels_last, s.compile, s.fused_adam, s.cuda_graphs) == (native, True, False, True, False)
    assert resolve(load_preset("mlp-mnist"), cpu).amp == native
    assert not resolve(load_preset("mlp-mnist"), cpu).channels_last  # no convolutions
    assert not resolve(load_preset("dcgan-mnist32-wgangp"), cpu).amp  # gradient penalty stays fp32
    toy = resolve(load_preset("gaussian-1d"), cpu)
    assert not toy.amp and not toy.fused_adam  # toy sets stay on the plain path


def test_cuda_graphs_on_cpu_is_a_clear_error():
    with pytest.raises(GankitError, match="cuda_graphs.*CUDA device"):
        resolve(load_preset("dcgan-mnist32", ["speed.cuda_graphs=on"]), torch.device("cpu"))


def test_cuda_graphs_compile_in_reduce_overhead_mode(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *a, **k: True)
    s = resolve(load_preset("dcgan-mnist32", ["speed.cuda_graphs=on", "speed.compile=off"]), torch.device("cuda"))
    assert s.cuda_graphs and s.compile and "CUDA graphs" in s.describe()
    net, calls = torch.nn.Linear(2, 2), []
    monkeypatch.setattr(net, "compile", lambda **kw: calls.append(kw))
    apply_to_networks(s, net)
    assert calls == [{"mode": "reduce-overhead"}]
    assert not resolve(load_preset("dcgan-mnist32"), torch.device("cuda")).cuda_graphs  # opt-in


def test_bad_setting_is_a_clear_error():
    with pytest.raises(GankitError, match="speed.amp.*bf16"):
        load_preset("ring-2d", ["speed.amp=fp16"])


def test_bench_command_prints_rate_epoch_time_and_settings(capsys):
    assert main(["bench", "ring-2d", "--steps", "3", "--warmup", "1", "--device", "cpu"]) == 0
    out = capsys.readouterr().out
    assert "images/s" in out and "one epoch" in out and "amp=off (fp32)" in out
