"""gankit export RUN --format torchscript|onnx: the generator as a file usable without gankit."""

from __future__ import annotations


def add_parser(sub) -> None:
    p = sub.add_parser("export", help="export the generator to TorchScript or ONNX (checked against G)")
    p.add_argument("run", help="run directory")
    p.add_argument("--format", default="torchscript", help="torchscript (default) | onnx (pip install 'gankit[export]')")
    p.add_argument("--out", help="file to write (default generator.pt or generator.onnx in the current folder)")
    p.add_argument("--checkpoint", default="last", help="checkpoint name in RUN/checkpoints (default last)")
    p.set_defaults(func=run)


def run(args) -> int:
    from ..generation.export import export_generator, metadata
    from ..generation.sampling import load_generator

    out = args.out or ("generator.onnx" if args.format == "onnx" else "generator.pt")
    diff = export_generator(args.run, args.format, out, args.checkpoint)
    check = "not checked (pip install onnxruntime to check)" if diff is None else f"max |difference| to G {diff:.2g}"
    _, cfg = load_generator(args.run, args.checkpoint)
    meta = metadata(cfg)
    print(f"wrote {out} ({args.format}; {check})")
    print(f"input z: (N, {meta['latent_dim']}) {meta['noise']} latents; output: {meta['output']}")
    if args.format == "torchscript":
        print(f"use: g = torch.jit.load({str(out)!r}); x = g(torch.randn(16, {meta['latent_dim']}))")
    else:
        print(f"use: onnxruntime.InferenceSession({str(out)!r}).run(None, {{'z': z}})")
    return 0
