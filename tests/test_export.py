"""gankit export: the exported generator reproduces G (TorchScript in-process, ONNX in onnxruntime)."""

from __future__ import annotations

import json

import pytest
import torch
from run_factory import shared_run

from gankit.cli import main
from gankit.generation.sampling import load_generator


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    return shared_run(tmp_path_factory, "image")


def latents(n: int) -> torch.Tensor:
    return torch.randn(n, 8, generator=torch.Generator().manual_seed(n))


@pytest.mark.filterwarnings("ignore:`torch.jit.load` is deprecated:FutureWarning")
def test_torchscript_reproduces_the_generator(run, tmp_path, capsys):
    out = tmp_path / "g.pt"
    assert main(["export", str(run), "--format", "torchscript", "--out", str(out)]) == 0
    assert "max |difference| to G" in capsys.readouterr().out
    extra = {"gankit.json": ""}
    exported = torch.jit.load(str(out), _extra_files=extra)
    assert json.loads(extra["gankit.json"])["latent_dim"] == 8
    g, _ = load_generator(run)
    for n in (1, 6):
        with torch.no_grad():
            torch.testing.assert_close(exported(latents(n)), g(latents(n)), atol=1e-5, rtol=1e-5)


def test_onnx_reproduces_the_generator(run, tmp_path):
    ort = pytest.importorskip("onnxruntime", reason="pip install 'gankit[export]' for ONNX")
    pytest.importorskip("onnxscript", reason="pip install 'gankit[export]' for ONNX")
    out = tmp_path / "g.onnx"
    assert main(["export", str(run), "--format", "onnx", "--out", str(out)]) == 0
    session = ort.InferenceSession(str(out), providers=["CPUExecutionProvider"])
    g, _ = load_generator(run)
    for n in (1, 9):
        got = torch.from_numpy(session.run(None, {"z": latents(n).numpy()})[0])
        with torch.no_grad():
            torch.testing.assert_close(got, g(latents(n)), atol=1e-5, rtol=1e-5)
        assert got.shape == (n, 3, 16, 16)


def test_export_rejects_unknown_format(run, tmp_path, capsys):
    assert main(["export", str(run), "--format", "onxx", "--out", str(tmp_path / "g")]) == 2
    assert "did you mean 'onnx'" in capsys.readouterr().err
