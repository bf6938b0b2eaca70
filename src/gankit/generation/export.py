"""A trained generator as a file that runs without gankit: TorchScript (torch.jit.load) or ONNX
(onnxruntime and friends). Input: latents z of shape (N, latent_dim), any N, drawn as the run
drew them (N(0, I), or uniform [0, 1) for model.noise = "uniform"). Output: G(z), images in
[-1, 1] of shape (N, C, H, W), or toy points (N, dim).

    export_generator("runs/dcgan-mnist32-...", "onnx", "g.onnx")   # -> largest |difference| to G

Every export is checked: the file is loaded back and must reproduce G on fresh latents.
"""

from __future__ import annotations

import contextlib
import io
import json
import warnings
from pathlib import Path

import torch

from ..errors import GankitError
from ..names import is_toy
from ..run import atomic_write_bytes

FORMATS = ("torchscript", "onnx")
TOLERANCE = 1e-4  # float32 kernels may differ by rounding between runtimes, not by more


def _check_latents(cfg, n: int = 5) -> torch.Tensor:
    from .latent import latent_draw

    return latent_draw(cfg, n, seed=12345)


def export_torchscript(g, cfg, out: Path) -> float:
    z = _check_latents(cfg, 3)
    with warnings.catch_warnings():  # TorchScript is in maintenance; tracing still works and loads anywhere
        warnings.simplefilter("ignore", FutureWarning)
        warnings.simplefilter("ignore", DeprecationWarning)
        traced = torch.jit.trace(g, z, check_trace=False)
        meta = {"gankit.json": json.dumps(metadata(cfg))}
        buf = io.BytesIO()
        torch.jit.save(traced, buf, _extra_files=meta)
        atomic_write_bytes(out, buf.getvalue())
        loaded = torch.jit.load(str(out), map_location="cpu")
    z = _check_latents(cfg)  # another batch size than the trace's
    with torch.no_grad():
        return float((loaded(z) - g(z)).abs().max())


def export_onnx(g, cfg, out: Path) -> float | None:
    """Returns the check's difference, or None when onnxruntime is absent (the file is written)."""
    try:
        import onnx  # noqa: F401
        import onnxscript  # noqa: F401
    except ImportError:
        raise GankitError("ONNX export needs the optional packages onnx and onnxscript: "
                          "pip install 'gankit[export]'") from None
    z = _check_latents(cfg, 3)
    batch = torch.export.Dim("batch", min=1, max=1 << 16)
    quiet = io.StringIO()
    try:
        with contextlib.redirect_stdout(quiet), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            program = torch.onnx.export(g, (z,), dynamo=True, input_names=["z"], output_names=["x"],
                                        dynamic_shapes=({0: batch},), verbose=False)
    except Exception as e:
        raise GankitError(f"this generator could not be exported to ONNX ({type(e).__name__}: "
                          f"{str(e).strip().splitlines()[0][:300] if str(e).strip() else ''}); "
                          "try --format torchscript") from None
    program.model.metadata_props.update({"gankit": json.dumps(metadata(cfg))})
    with contextlib.redirect_stdout(quiet):
        proto = program.model_proto
    atomic_write_bytes(out, proto.SerializeToString())
    try:
        import onnxruntime
    except ImportError:
        return None
    session = onnxruntime.InferenceSession(str(out), providers=["CPUExecutionProvider"])
    z = _check_latents(cfg)
    got = torch.from_numpy(session.run(None, {"z": z.numpy()})[0])
    with torch.no_grad():
        return float((got - g(z)).abs().max())


def metadata(cfg) -> dict:
    m = cfg.model
    return {"run": cfg.name, "latent_dim": m.latent_dim, "noise": m.noise,
            "output": "images in [-1, 1], (N, C, H, W)" if not is_toy(cfg.data.name)
            else "points (N, dim)"}


def export_generator(run_path, fmt: str, out, checkpoint: str = "last") -> float | None:
    """Write the run's generator to `out` in `fmt`; return the largest |exported - G| on fresh latents
    (None if it could not be checked). Raises GankitError if the export does not reproduce G."""
    from ..errors import did_you_mean
    from .sampling import load_generator

    if fmt not in FORMATS:
        raise GankitError(f"--format {fmt!r} is not known{did_you_mean(fmt, FORMATS)}; choose one of: {', '.join(FORMATS)}")
    g, cfg = load_generator(run_path, checkpoint, "cpu")
    out = Path(out)
    if out.parent and not out.parent.is_dir():
        raise GankitError(f"--out {out}: folder {out.parent} does not exist")
    diff = export_torchscript(g, cfg, out) if fmt == "torchscript" else export_onnx(g, cfg, out)
    if diff is not None and not diff <= TOLERANCE:
        raise GankitError(f"the exported {fmt} model differs from the generator by {diff:.3g} (> {TOLERANCE}); "
                          f"{out} is not reliable, try the other --format")
    return diff
