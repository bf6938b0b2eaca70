"""gankit serve RUN: a local web page to draw samples, vary one, and interpolate between two."""

from __future__ import annotations

import ipaddress
import logging

log = logging.getLogger("gankit")


def add_parser(sub) -> None:
    p = sub.add_parser("serve", help="a local web page to explore a trained generator")
    p.add_argument("run", help="run directory")
    p.add_argument("--port", type=int, default=8000, help="port (default 8000; 0 = any free port)")
    p.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to listen on (default 127.0.0.1, this machine only; the page has no login)",
    )
    p.add_argument("--checkpoint", default="last", help="checkpoint name in RUN/checkpoints (default last)")
    p.add_argument("--device", default="cpu", help="cpu | cuda (default cpu)")
    p.set_defaults(func=run)


def run(args) -> int:
    from ..serve.server import make_server

    server = make_server(args.run, args.host, args.port, args.checkpoint, args.device)
    host, port = server.server_address[:2]
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = host == "localhost"
    if not loopback:
        log.warning("listening on %s: anyone who can reach this machine can use the page (there is no login)", host)
    print(
        f"serving {args.run} at http://{'127.0.0.1' if host == '0.0.0.0' else host}:{port}/  (Ctrl-C to stop)",
        flush=True,
    )
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        print("stopped")
    finally:
        server.server_close()
    return 0
