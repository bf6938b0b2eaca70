"""gankit export RUN --format pt2|safetensors|torchscript|onnx: the generator as a file, checked against G."""

from __future__ import annotations


def add_parser(sub) -> None:
    p = sub.add_parser(
        "export",
        help="export the generator: torch.export (.pt2), safetensors weights, TorchScript or ONNX (checked against G)",
    )
    p.add_argument("run", help="run directory")
    p.add_argument(
        "--format",
        default="pt2",
        help="pt2 (default: torch.export program) | safetensors (weights of G and its EMA with the "
        "config; gankit.load_generator reads them) | torchscript (legacy, deprecated upstream) | "
        "onnx (pip install 'gankit[export]')",
    )
    p.add_argument("--out", help="file to write (default generator.pt2, .safetensors, .pt or .onnx here)")
    p.add_argument("--checkpoint", default="last", help="checkpoint name in RUN/checkpoints (default last)")
    p.set_defaults(func=run)


def run(args) -> int:
    from ..generation.export import SUFFIX, export_generator, metadata
    from ..generation.sampling import load_generator

    out = args.out or f"generator{SUFFIX.get(args.format, '')}"
    diff = export_generator(args.run, args.format, out, args.checkpoint)
    check = "not checked (pip install onnxruntime to check)" if diff is None else f"max |difference| to G {diff:.2g}"
    _, cfg = load_generator(args.run, args.checkpoint)
    meta = metadata(cfg)
    print(f"wrote {out} ({args.format}; {check})")
    print(f"input: {meta['inputs']} ({meta['noise']} latents); output: {meta['output']}")
    d, k = meta["latent_dim"], meta["num_classes"]
    call = f"torch.randn(16, {d})" + (f", torch.randint({k}, (16,))" if k else "")
    if args.format == "pt2":
        print(f"use: g = torch.export.load({str(out)!r}).module(); x = g({call})")
    elif args.format == "safetensors":
        print(f"use: g, cfg = gankit.load_generator({str(out)!r}); x = g({call})")
    elif args.format == "torchscript":
        print(f"use: g = torch.jit.load({str(out)!r}); x = g({call})")
    else:
        feeds = "{'z': z, 'y': y}" if k else "{'z': z}"
        print(f"use: onnxruntime.InferenceSession({str(out)!r}).run(None, {feeds})")
    return 0
