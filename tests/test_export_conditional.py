"""gankit export, modernised (issue 15): torch.export (.pt2) by default, safetensors weights of G and
its moving average with the config as metadata (read back by gankit.load_generator), and a
conditional generator's labels as a second input in every format."""

from __future__ import annotations

import json

import pytest
import torch
from tiny import conditional_run

import gankit
from gankit.cli import main
from gankit.errors import GankitError
from gankit.generation.sampling import load_generator


@pytest.fixture(scope="module")
def cond_run(tmp_path_factory, data_root):
    return conditional_run(tmp_path_factory.mktemp("cond") / "run", data_root, "train.ema=0.9")


def inputs(n: int):
    gen = torch.Generator().manual_seed(n)
    return torch.randn(n, 8, generator=gen), torch.randint(10, (n,), generator=gen)


def test_pt2_is_the_default_and_takes_the_labels(cond_run, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["export", str(cond_run)]) == 0
    assert "wrote generator.pt2 (pt2; max |difference| to G" in capsys.readouterr().out
    extra = {"gankit.json": ""}
    program = torch.export.load(str(tmp_path / "generator.pt2"), extra_files=extra)
    assert json.loads(extra["gankit.json"])["num_classes"] == 10
    g, _ = load_generator(cond_run)
    for n in (1, 7):
        z, y = inputs(n)
        with torch.no_grad():
            torch.testing.assert_close(program.module()(z, y), g(z, y), atol=1e-5, rtol=1e-5)
    assert not torch.allclose(g(*inputs(4)), g(inputs(4)[0], (inputs(4)[1] + 1) % 10))  # labels matter


def test_safetensors_holds_g_and_its_ema_and_loads_back(cond_run, tmp_path):
    from safetensors import safe_open

    out = tmp_path / "g.safetensors"
    assert main(["export", str(cond_run), "--format", "safetensors", "--out", str(out)]) == 0
    with safe_open(str(out), framework="pt") as f:
        keys, meta = list(f.keys()), f.metadata()
    assert any(k.startswith("g.") for k in keys) and any(k.startswith("g_ema.") for k in keys)
    assert json.loads(meta["gankit.config"])["model"]["conditional"] == "true"
    loaded, cfg = gankit.load_generator(out)
    g, run_cfg = load_generator(cond_run)  # the run's EMA generator
    assert cfg == run_cfg
    z, y = inputs(6)
    with torch.no_grad():
        assert torch.equal(loaded(z, y), g(z, y))
    # the exported .pt2 loads back through the same call, and generates through gankit with labels
    pt2 = tmp_path / "g.pt2"
    assert main(["export", str(cond_run), "--out", str(pt2)]) == 0
    program, _ = gankit.load_generator(pt2)
    from gankit.generation.latent import generate

    torch.testing.assert_close(generate(program, z, labels=y), g(z, y), atol=1e-5, rtol=1e-5)


@pytest.mark.filterwarnings("ignore:`torch.jit.load` is deprecated:FutureWarning")
def test_torchscript_and_onnx_take_the_labels_as_second_input(cond_run, tmp_path):
    out = tmp_path / "g.pt"
    assert main(["export", str(cond_run), "--format", "torchscript", "--out", str(out)]) == 0
    g, _ = load_generator(cond_run)
    z, y = inputs(5)
    with torch.no_grad():
        torch.testing.assert_close(torch.jit.load(str(out))(z, y), g(z, y), atol=1e-5, rtol=1e-5)
    ort = pytest.importorskip("onnxruntime")
    pytest.importorskip("onnxscript")
    onnx_out = tmp_path / "g.onnx"
    assert main(["export", str(cond_run), "--format", "onnx", "--out", str(onnx_out)]) == 0
    session = ort.InferenceSession(str(onnx_out), providers=["CPUExecutionProvider"])
    got = torch.from_numpy(session.run(None, {"z": z.numpy(), "y": y.numpy()})[0])
    with torch.no_grad():
        torch.testing.assert_close(got, g(z, y), atol=1e-5, rtol=1e-5)


def test_a_file_that_is_not_a_gankit_safetensors_is_a_clear_error(tmp_path):
    from safetensors.torch import save_file

    path = tmp_path / "other.safetensors"
    save_file({"w": torch.zeros(2)}, str(path))
    with pytest.raises(GankitError, match="holds no gankit config"):
        gankit.load_generator(path)
