"""Digests of what training and sampling produce, for every preset on the CPU: the pin that keeps
refactors honest (same config + seed -> bitwise the same weights and samples).

    python tests/digests.py --write      # record tests/pinned/digests.json (after an intended change)

Each preset trains a few steps through the command line (`gankit train`, so the callbacks of a
real run are in the loop), then `gankit sample` draws 16 samples. The digest is a SHA-256 of every
tensor of G, D and the samples; a float summary of each sits beside it, so a machine whose CPU
rounds differently (another vector ISA or CPU model) can still compare closely.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import sys
from pathlib import Path

import numpy as np
import torch

HERE = Path(__file__).resolve().parent
PINNED = HERE / "pinned" / "digests.json"
COMMON = ["train.steps=3", "train.log_every=1", "device=cpu", "speed.amp=off", "eval.every=0", "log.tensorboard=off"]
PRESETS = {
    "gaussian-1d": [],
    "ring-2d": ["data.size=2048"],
    "ring-2d-stable": ["data.size=2048"],
    "mlp-mnist": [],
    "dcgan-mnist": [],
    "dcgan-mnist32": ["train.batch_size=16"],
    "dcgan-mnist32-wgangp": ["train.batch_size=16"],
    "dcgan-rgb": ["data.resolution=64", "train.batch_size=4"],
}


def tensor_digest(tensors: dict[str, torch.Tensor]) -> tuple[str, float]:
    h = hashlib.sha256()
    total = 0.0
    for name in sorted(tensors):
        t = tensors[name].detach().cpu().contiguous()
        h.update(name.encode())
        h.update(str(t.dtype).encode())
        h.update(t.numpy().tobytes() if t.dtype != torch.bfloat16 else t.float().numpy().tobytes())
        total += float(t.double().abs().sum())
    return h.hexdigest(), total


def image_folder(path: Path) -> Path:
    from PIL import Image

    path.mkdir(parents=True, exist_ok=True)
    gen = torch.Generator().manual_seed(0)
    for i in range(12):
        arr = (torch.rand(40, 48, 3, generator=gen) * 255).to(torch.uint8).numpy()
        Image.fromarray(arr).save(path / f"{i}.png")
    return path


def preset_digest(preset: str, data_root: Path | None, work: Path) -> dict:
    from gankit.cli import main

    sets = COMMON + PRESETS[preset]
    if preset == "dcgan-rgb":
        sets.append(f"data.root={json.dumps(str(image_folder(work / 'images')))}")
    run = work / f"run-{preset}"
    argv = ["train", preset, "--out", str(run), "--quiet"] + [a for s in sets for a in ("--set", s)]
    if data_root is not None:
        argv += ["--data-root", str(data_root)]
    before = torch.get_num_threads()
    torch.set_num_threads(1)  # reductions split the same way on every machine
    try:
        if main(argv) != 0:
            raise RuntimeError(f"gankit {' '.join(argv)} failed")
        if main(["sample", str(run), "--n", "16", "--seed", "0", "--out", str(work / f"{preset}.npy")]) != 0:
            raise RuntimeError(f"gankit sample {run} failed")
    finally:
        torch.set_num_threads(before)
    state = torch.load(run / "checkpoints" / "last.pt", map_location="cpu", weights_only=True)
    samples = torch.from_numpy(np.load(work / f"{preset}.npy"))
    g, g_sum = tensor_digest(state["g"])
    d, d_sum = tensor_digest(state["d"])
    s, s_sum = tensor_digest({"samples": samples})
    return {"g": g, "d": d, "samples": s, "g_abs_sum": g_sum, "d_abs_sum": d_sum, "samples_abs_sum": s_sum}


def cpu_model() -> str:
    """The CPU's model name: two CPUs with the same vector ISA can still pick different oneDNN
    kernels (an AMX Xeon and an EPYC both report AVX512), so the ISA alone is too coarse a key."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine() -> str:
    return f"{torch.__version__} {torch.backends.cpu.get_cpu_capability()} {cpu_model()}"


def all_digests(data_root: Path | None, work: Path) -> dict:
    return {p: preset_digest(p, data_root, work) for p in PRESETS}


if __name__ == "__main__":
    import tempfile

    parser = argparse.ArgumentParser()
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()
    root = Path(os.environ.get("GANKIT_DATA", HERE.parents[1] / "shared" / "data"))
    with tempfile.TemporaryDirectory() as tmp:
        result = {"machine": machine(), "presets": all_digests(root, Path(tmp))}
    text = json.dumps(result, indent=1)
    if args.write:
        PINNED.write_text(text + "\n")
    print(text, file=sys.stdout)
