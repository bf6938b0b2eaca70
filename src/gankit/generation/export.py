"""A trained generator as a file: a torch.export program (.pt2, the default: torch.export.load
runs it without gankit), safetensors weights of G and its moving average with the run's config as
metadata (gankit.load_generator reads them back), TorchScript (legacy: deprecated upstream) or ONNX
(onnxruntime and friends). Input: latents z of shape (N, latent_dim), any N, drawn as the run drew
them (N(0, I), or uniform [0, 1) for model.noise = "uniform"), and for a conditional run the class
labels y, int64 (N,), as a second input. Output: G(z) or G(z, y), images in [-1, 1] of shape
(N, C, H, W), or toy points (N, dim).

    export_generator("runs/dcgan-mnist32-...", "pt2", "g.pt2")   # -> largest |difference| to G

Every export is checked: the file is loaded back and must reproduce G on fresh latents (and labels).
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

FORMATS = ("pt2", "safetensors", "torchscript", "onnx")
SUFFIX = {"pt2": ".pt2", "safetensors": ".safetensors", "torchscript": ".pt", "onnx": ".onnx"}
TOLERANCE = 1e-4  # float32 kernels may differ by rounding between runtimes, not by more
MAX_BATCH = 1 << 16


def _check_inputs(g, cfg, n: int = 5) -> tuple[torch.Tensor, ...]:
    """(z,) or, for a conditional G, (z, y) with every class in turn: the example and check inputs."""
    from ..nets import balanced_labels, is_conditional
    from .latent import latent_draw

    z = latent_draw(cfg, n, seed=12345)
    return (z, balanced_labels(n, g.num_classes)) if is_conditional(g) else (z,)


def _difference(run, g, cfg) -> float:
    """Largest |run(inputs) - G(inputs)| on inputs of another batch size than the example's."""
    inputs = _check_inputs(g, cfg)
    with torch.no_grad():
        return float((run(*inputs) - g(*inputs)).abs().max())


def export_pt2(g, cfg, out: Path) -> float:
    """torch.export: an ExportedProgram with a dynamic batch dimension, saved with torch.export.save."""
    inputs = _check_inputs(g, cfg, 3)
    batch = torch.export.Dim("batch", min=1, max=MAX_BATCH)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            program = torch.export.export(g, inputs, dynamic_shapes=tuple({0: batch} for _ in inputs))
    except Exception as e:
        raise GankitError(
            f"this generator could not be exported with torch.export ({type(e).__name__}: "
            f"{str(e).strip().splitlines()[0][:300] if str(e).strip() else ''}); "
            "try --format torchscript"
        ) from None
    buf = io.BytesIO()
    torch.export.save(program, buf, extra_files={"gankit.json": json.dumps(metadata(cfg))})
    atomic_write_bytes(out, buf.getvalue())
    return _difference(torch.export.load(str(out)).module(), g, cfg)


def export_safetensors(state: dict, g, cfg, out: Path) -> float:
    """G's weights ("g.*") and, when the run kept one, its moving average ("g_ema.*") with the run's
    config as metadata; checked by loading them back through load_safetensors."""
    try:
        from safetensors.torch import save
    except ImportError:
        raise GankitError("safetensors export needs the package safetensors: pip install safetensors") from None
    tensors = {f"g.{k}": v.detach().cpu().contiguous() for k, v in state["g"].items()}
    if "g_ema" in state:
        tensors.update({f"g_ema.{k}": v.detach().cpu().contiguous() for k, v in state["g_ema"].items()})
    meta = {"gankit": json.dumps(metadata(cfg)), "gankit.config": json.dumps(cfg.to_dict())}
    atomic_write_bytes(out, save(tensors, metadata=meta))
    loaded, _ = load_safetensors(out)
    return _difference(loaded, g, cfg)


def load_safetensors(path, device: str = "cpu", ema: bool = True):
    """(G in eval mode, its Config) from a safetensors export: the moving average of G's weights when
    the file holds one and `ema`, else G's own weights."""
    from .. import config as C
    from ..data import sample_shape
    from ..nets import build_networks

    try:
        from safetensors import safe_open
    except ImportError:
        raise GankitError(
            "reading a .safetensors generator needs the package safetensors: pip install safetensors"
        ) from None
    try:
        with safe_open(str(path), framework="pt") as f:
            meta = f.metadata() or {}
            tensors = {k: f.get_tensor(k) for k in f.keys()}
    except Exception as e:
        raise GankitError(f"{path} is not a readable safetensors file ({str(e).splitlines()[0][:200]})") from None
    if "gankit.config" not in meta:
        raise GankitError(
            f"{path} holds no gankit config in its metadata: export it with gankit export --format safetensors"
        )
    cfg = C.from_saved(json.loads(meta["gankit.config"]))
    prefix = "g_ema." if ema and any(k.startswith("g_ema.") for k in tensors) else "g."
    g, _ = build_networks(cfg.model, sample_shape(cfg.data))
    g.load_state_dict({k[len(prefix) :]: v for k, v in tensors.items() if k.startswith(prefix)})
    return g.to(device).eval(), cfg


def load_exported(path, device: str = "cpu"):
    """(module, Config) from a .pt2 export: the program's module, with num_classes set for a
    conditional one so gankit's generation passes it labels."""
    from .. import config as C

    extra = {"gankit.json": ""}
    program = torch.export.load(str(path), extra_files=extra)
    meta = json.loads(extra["gankit.json"] or "{}")
    if "config" not in meta:
        raise GankitError(f"{path} holds no gankit config: export it with gankit export --format pt2")
    module = program.module().to(device)
    module.num_classes = meta.get("num_classes", 0)
    return module, C.from_saved(meta["config"])


def export_torchscript(g, cfg, out: Path) -> float:
    inputs = _check_inputs(g, cfg, 3)
    with warnings.catch_warnings():  # TorchScript is in maintenance; tracing still works and loads anywhere
        warnings.simplefilter("ignore", FutureWarning)
        warnings.simplefilter("ignore", DeprecationWarning)
        traced = torch.jit.trace(g, inputs, check_trace=False)
        meta = {"gankit.json": json.dumps(metadata(cfg))}
        buf = io.BytesIO()
        torch.jit.save(traced, buf, _extra_files=meta)
        atomic_write_bytes(out, buf.getvalue())
        loaded = torch.jit.load(str(out), map_location="cpu")
    return _difference(loaded, g, cfg)  # another batch size than the trace's


def export_onnx(g, cfg, out: Path) -> float | None:
    """Returns the check's difference, or None when onnxruntime is absent (the file is written)."""
    try:
        import onnx  # noqa: F401
        import onnxscript  # noqa: F401
    except ImportError:
        raise GankitError(
            "ONNX export needs the optional packages onnx and onnxscript: pip install 'gankit[export]'"
        ) from None
    inputs = _check_inputs(g, cfg, 3)
    names = ["z", "y"][: len(inputs)]
    batch = torch.export.Dim("batch", min=1, max=MAX_BATCH)
    quiet = io.StringIO()
    try:
        with contextlib.redirect_stdout(quiet), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            program = torch.onnx.export(
                g,
                inputs,
                dynamo=True,
                input_names=names,
                output_names=["x"],
                dynamic_shapes=tuple({0: batch} for _ in inputs),
                verbose=False,
            )
    except Exception as e:
        raise GankitError(
            f"this generator could not be exported to ONNX ({type(e).__name__}: "
            f"{str(e).strip().splitlines()[0][:300] if str(e).strip() else ''}); "
            "try --format torchscript"
        ) from None
    program.model.metadata_props.update({"gankit": json.dumps(metadata(cfg))})
    with contextlib.redirect_stdout(quiet):
        proto = program.model_proto
    atomic_write_bytes(out, proto.SerializeToString())
    try:
        import onnxruntime
    except ImportError:
        return None
    session = onnxruntime.InferenceSession(str(out), providers=["CPUExecutionProvider"])

    def run(*xs):
        return torch.from_numpy(session.run(None, {n: x.numpy() for n, x in zip(names, xs)})[0])

    return _difference(run, g, cfg)


def metadata(cfg) -> dict:
    m = cfg.model
    k = m.num_classes if m.conditional == "true" else 0
    return {
        "run": cfg.name,
        "latent_dim": m.latent_dim,
        "noise": m.noise,
        "num_classes": k,
        "inputs": "z (N, latent_dim), y int64 (N,) class labels" if k else "z (N, latent_dim)",
        "output": "images in [-1, 1], (N, C, H, W)" if not is_toy(cfg.data.name) else "points (N, dim)",
        "config": cfg.to_dict(),
    }


def export_generator(run_path, fmt: str, out, checkpoint: str = "last") -> float | None:
    """Write the run's generator to `out` in `fmt`; return the largest |exported - G| on fresh latents
    (None if it could not be checked). Raises GankitError if the export does not reproduce G."""
    from ..errors import did_you_mean
    from ..run import RunDir
    from .sampling import load_generator

    if fmt not in FORMATS:
        raise GankitError(
            f"--format {fmt!r} is not known{did_you_mean(fmt, FORMATS)}; choose one of: {', '.join(FORMATS)}"
        )
    g, cfg = load_generator(run_path, checkpoint, "cpu")
    out = Path(out)
    if out.parent and not out.parent.is_dir():
        raise GankitError(f"--out {out}: folder {out.parent} does not exist")
    if fmt == "pt2":
        diff = export_pt2(g, cfg, out)
    elif fmt == "safetensors":
        diff = export_safetensors(RunDir.open(run_path, need_checkpoint=False).load_checkpoint(checkpoint), g, cfg, out)
    elif fmt == "torchscript":
        diff = export_torchscript(g, cfg, out)
    else:
        diff = export_onnx(g, cfg, out)
    if diff is not None and not diff <= TOLERANCE:
        raise GankitError(
            f"the exported {fmt} model differs from the generator by {diff:.3g} (> {TOLERANCE}); "
            f"{out} is not reliable, try the other --format"
        )
    return diff
