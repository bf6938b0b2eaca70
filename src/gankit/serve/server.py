"""`gankit serve RUN`: a small local web page to play with a trained generator.

The server is the standard library's threading HTTP server; it keeps no state between requests.
Every sample the page shows carries its latent vector, so the page can send latents back to
vary one of them or to interpolate between two. A conditional generator's samples also carry
their class label: the page asks for one class (or every class in turn), and varies or
interpolates within the class of the picked sample. Routes:

    GET  /                 the page (inline CSS and script, nothing fetched from elsewhere)
    GET  /api/info         run name, latent size and distribution, image or toy, class names (or null)
    POST /api/random       {"n", "seed", "truncation", "label"}   -> {"z": [...], "labels": [...], "images": [...]}
    POST /api/vary         {"z", "n", "strength", "seed", "label"} -> the anchor first, then variations
    POST /api/interpolate  {"a", "b", "steps", "label"}           -> a to b (slerp, or lerp for uniform)

"label" (conditional runs only) is a class number; left out or null, /api/random draws every
class in turn, and vary/interpolate need it. Unconditional runs answer "labels": null.

Images are PNG data URLs: one per sample for image generators; one scatter/density plot of
all samples for toy sets. Bound to 127.0.0.1 by default: there is no authentication.
"""

from __future__ import annotations

import base64
import json
import logging
import tempfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from pathlib import Path

import torch

from ..data.convert import to_uint8
from ..errors import GankitError
from ..generation.explore import interpolation
from ..generation.latent import generate, latent_draw
from ..names import is_toy
from ..plots import png_bytes

log = logging.getLogger("gankit")

MAX_SAMPLES = 4096  # per request: keeps one request from holding the generator for long
MAX_BODY = 1 << 20


def page_bytes() -> bytes:
    """The page (serve/page.html, shipped as package data)."""
    return resources.files(__package__).joinpath("page.html").read_bytes()


class BadRequest(Exception):
    pass


class Playground:
    """The generator and the operations the page asks for; all inputs are checked here."""

    def __init__(self, g, cfg, device: str = "cpu", classes: list[str] | None = None):
        from ..nets import is_conditional

        self.g, self.cfg, self.device = g, cfg, device
        self.num_classes = g.num_classes if is_conditional(g) else 0
        self.classes = (classes or [str(i) for i in range(self.num_classes)]) if self.num_classes else None
        self.lock = threading.Lock()  # one forward pass at a time

    # -- inputs
    def _int(self, body: dict, key: str, default: int, lo: int, hi: int) -> int:
        v = body.get(key, default)
        if isinstance(v, bool) or not isinstance(v, int) or not lo <= v <= hi:
            raise BadRequest(f"{key} must be a whole number from {lo} to {hi} (got {v!r})")
        return v

    def _float(self, body: dict, key: str, default, lo: float, hi: float):
        v = body.get(key, default)
        if v is None:
            return None
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not lo <= v <= hi:
            raise BadRequest(f"{key} must be a number from {lo} to {hi} (got {v!r})")
        return float(v)

    def _latents(self, value, key: str) -> torch.Tensor:
        try:
            z = torch.tensor(value, dtype=torch.float32)
        except (TypeError, ValueError):
            raise BadRequest(f"{key} must be a list of numbers") from None
        if z.dim() == 1:
            z = z[None]
        d = self.cfg.model.latent_dim
        if z.dim() != 2 or z.shape[1] != d or not torch.isfinite(z).all():
            raise BadRequest(f"{key} must hold finite latent vectors of length {d}")
        return z

    def _label(self, body: dict, n: int, required: bool) -> torch.Tensor | None:
        """n copies of the class body["label"] names; every class in turn when it may be left out."""
        v = body.get("label")
        if not self.num_classes:
            if v is not None:
                raise BadRequest("this generator is unconditional: it takes no class label")
            return None
        if v is None:
            if required:
                raise BadRequest(f"label must name the class to stay in (0 to {self.num_classes - 1})")
            return torch.arange(n) % self.num_classes
        return torch.full((n,), self._int(body, "label", 0, 0, self.num_classes - 1), dtype=torch.int64)

    # -- operations
    def info(self) -> dict:
        m = self.cfg.model
        return {
            "name": self.cfg.name,
            "description": self.cfg.description,
            "latent_dim": m.latent_dim,
            "noise": m.noise,
            "image": not is_toy(self.cfg.data.name),
            "classes": self.classes,
        }

    def random(self, body: dict) -> dict:
        n = self._int(body, "n", 16, 1, MAX_SAMPLES)
        seed = self._int(body, "seed", 0, 0, 2**62)
        truncation = self._float(body, "truncation", None, 0.05, 10.0)
        try:
            z = latent_draw(self.cfg, n, seed, truncation)
        except GankitError as e:
            raise BadRequest(str(e)) from None
        return self.render(z, self._label(body, n, required=False))

    def vary(self, body: dict) -> dict:
        anchor = self._latents(body.get("z"), "z")[:1]
        n = self._int(body, "n", 15, 1, MAX_SAMPLES - 1)
        strength = self._float(body, "strength", 0.5, 0.0, 3.0)
        seed = self._int(body, "seed", 0, 0, 2**62)
        noise = torch.randn((n, anchor.shape[1]), generator=torch.Generator().manual_seed(seed))
        if self.cfg.model.noise == "uniform":  # stay inside the cube G was trained on
            z = (anchor + strength * 0.25 * noise).clamp(0, 1 - 1e-6)
        else:
            z = anchor + strength * noise
        return self.render(torch.cat([anchor, z]), self._label(body, n + 1, required=True))

    def interpolate(self, body: dict) -> dict:
        a, b = self._latents(body.get("a"), "a")[:1], self._latents(body.get("b"), "b")[:1]
        steps = self._int(body, "steps", 8, 2, 64)
        # a conditional G: the whole walk in one class, so only the latent changes along it
        return self.render(interpolation(self.cfg, a, b, steps)[0], self._label(body, steps, required=True))

    # -- pictures
    def render(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> dict:
        with self.lock:
            x = generate(self.g, z, self.device, to_cpu=True, labels=labels)
        if x.dim() == 4:
            images = [_png_url(_tile(img)) for img in x]
        else:
            images = [_png_url(self._toy_plot(x))]
        return {"z": z.tolist(), "labels": None if labels is None else labels.tolist(), "images": images}

    def _toy_plot(self, x: torch.Tensor) -> bytes:
        from ..data.toy import TOY_SETS
        from ..plots import save_toy_plot

        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "plot.png"
            save_toy_plot(x, TOY_SETS[self.cfg.data.name](), path, f"{self.cfg.name}: {len(x)} samples")
            return path.read_bytes()


def _tile(img: torch.Tensor) -> bytes:
    from PIL import Image

    arr = to_uint8(img.float().clamp(-1, 1)).permute(1, 2, 0).numpy()
    return png_bytes(Image.fromarray(arr[:, :, 0] if arr.shape[2] == 1 else arr))


def _png_url(data: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(data).decode("ascii")


def make_handler(play: Playground):
    routes = {"/api/random": play.random, "/api/vary": play.vary, "/api/interpolate": play.interpolate}

    class Handler(BaseHTTPRequestHandler):
        server_version = "gankit"

        def log_message(self, fmt, *args):  # quiet: one debug line per request, not stderr spam
            log.debug("serve: " + fmt, *args)

        def _send(self, status: int, body: bytes, ctype: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(body)

        def _json(self, status: int, obj) -> None:
            self._send(status, json.dumps(obj).encode(), "application/json")

        def do_GET(self):
            path = self.path.split("?", 1)[0]
            if path in ("/", "/index.html"):
                self._send(200, page_bytes(), "text/html; charset=utf-8")
            elif path == "/api/info":
                self._json(200, play.info())
            elif path == "/favicon.ico":
                self._send(204, b"", "image/x-icon")
            else:
                self._json(404, {"error": f"no page {path}"})

        def do_POST(self):
            handler = routes.get(self.path)
            if handler is None:
                return self._json(404, {"error": f"no route {self.path}"})
            try:
                length = int(self.headers.get("Content-Length", 0))
                if not 0 <= length <= MAX_BODY:
                    raise BadRequest("request body too large")
                body = json.loads(self.rfile.read(length) or b"{}")
                if not isinstance(body, dict):
                    raise BadRequest("the request body must be a JSON object")
                self._json(200, handler(body))
            except (BadRequest, json.JSONDecodeError, ValueError) as e:
                self._json(400, {"error": str(e)})

    return Handler


def make_server(
    run_path, host: str = "127.0.0.1", port: int = 8000, checkpoint: str = "last", device: str = "cpu"
) -> ThreadingHTTPServer:
    """The server, bound and ready (port 0 = any free port); call serve_forever() on it."""
    from ..generation.sampling import class_names, load_generator
    from ..nets import is_conditional

    g, cfg = load_generator(run_path, checkpoint, device)
    classes = class_names(run_path, cfg) if is_conditional(g) else None
    try:
        server = ThreadingHTTPServer((host, port), make_handler(Playground(g, cfg, device, classes)))
    except OSError as e:
        raise GankitError(f"cannot listen on {host}:{port} ({e.strerror or e}); choose another --port") from None
    server.daemon_threads = True
    return server
