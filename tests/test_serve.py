"""gankit serve: the JSON API directly, then the page end to end in headless Chromium
(load, click, check that the pictures change). Loopback only; every wait is bounded."""

from __future__ import annotations

import contextlib
import json
import threading
import urllib.error
import urllib.request

import pytest
import torch
from chromium import Chromium
from run_factory import shared_run
from test_report_browser import shots_dir

from gankit.serve.server import make_server


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    return {kind: shared_run(tmp_path_factory, kind) for kind in ("toy", "image")}


@contextlib.contextmanager
def served(run):
    """The run served on a free loopback port for the with-block: yields the server's base URL."""
    server = make_server(run, "127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@contextlib.contextmanager
def served_page(run, tmp_path):
    """The run's page, served and open in headless Chromium with its first pictures drawn."""
    with served(run) as base, Chromium.start(tmp_path / "profile") as browser:
        page = browser.open(base + "/")
        page.wait_for("document.body.dataset.version === '1'")
        yield page


def post(url, body):
    req = urllib.request.Request(url, json.dumps(body).encode(), {"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def test_api_draws_varies_interpolates_and_rejects_bad_input(runs):
    with served(runs["image"]) as base:
        status, a = post(base + "/api/random", {"n": 4, "seed": 7})
        assert status == 200 and len(a["images"]) == 4 and len(a["z"][0]) == 8
        assert post(base + "/api/random", {"n": 4, "seed": 7})[1] == a  # same seed, same samples
        status, v = post(base + "/api/vary", {"z": a["z"][0], "n": 3, "strength": 0.5, "seed": 1})
        assert status == 200 and v["z"][0] == a["z"][0] and v["images"][0] == a["images"][0]
        assert len(v["images"]) == 4 and v["images"][1] != a["images"][0]
        status, i = post(base + "/api/interpolate", {"a": a["z"][0], "b": a["z"][1], "steps": 5})
        assert status == 200 and len(i["images"]) == 5
        torch.testing.assert_close(torch.tensor(i["z"][-1]), torch.tensor(a["z"][1]))
        for route, body, words in (
            ("/api/random", {"n": 10**6}, "n must be"),
            ("/api/random", {"truncation": -1}, "truncation must be"),
            ("/api/vary", {"z": [1, 2]}, "length 8"),
            ("/api/interpolate", {"a": "x", "b": []}, "a must"),
            ("/api/nothing", {}, "no route"),
        ):
            status, reply = post(base + route, body)
            assert status in (400, 404) and words in reply["error"]
        with urllib.request.urlopen(base + "/api/info", timeout=30) as r:
            assert json.loads(r.read())["image"] is True


def tile_sources(page):
    return page.evaluate("Array.from(document.querySelectorAll('#tiles img')).map(i => i.src)")


def interpolate_on_page(page, a: int, b: int, steps: int, version: int) -> list[str]:
    """Click tiles a and b (A and B), ask for a walk of `steps` pictures, wait for the page's
    `version`th drawing: the walk's tile sources."""
    page.click(f".tile[data-index='{a}']")
    page.click(f".tile[data-index='{b}']")
    page.evaluate(f"document.getElementById('steps').value = {steps}")
    page.click("#interp")
    page.wait_for(f"document.body.dataset.version === '{version}'")
    return tile_sources(page)


def test_page_end_to_end_in_chromium(runs, tmp_path):
    with served_page(runs["image"], tmp_path) as page:
        first = tile_sources(page)
        assert len(first) == 32
        page.click("#new")  # new samples: every picture changes
        page.wait_for("document.body.dataset.version === '2'")
        second = tile_sources(page)
        assert len(second) == 32 and all(a != b for a, b in zip(first, second))
        page.click(".tile[data-index='0']")  # fix A, then vary it
        assert page.evaluate("document.querySelector('.tile.a .tag').textContent") == "A"
        page.click("#vary")
        page.wait_for("document.body.dataset.version === '3'")
        varied = tile_sources(page)
        assert varied[0] == second[0] and varied[1] != second[1]
        walk = interpolate_on_page(page, 0, 5, steps=6, version=4)  # A and B, then interpolate
        assert len(walk) == 6 and walk[0] == varied[0] and walk[-1] == varied[5]
        assert page.evaluate("Array.from(document.images).every(i => i.complete && i.naturalWidth > 0)")
        page.screenshot(shots_dir(tmp_path) / "serve-image.png", full_page=False)
        assert page.errors == []


def test_page_for_a_toy_set(runs, tmp_path):
    with served_page(runs["toy"], tmp_path) as page:
        first = tile_sources(page)
        assert len(first) == 1 and page.evaluate("document.getElementById('vary').disabled")
        page.click("#new")
        page.wait_for("document.body.dataset.version === '2'")
        assert tile_sources(page) != first
        page.screenshot(shots_dir(tmp_path) / "serve-toy.png", full_page=False)
        assert page.errors == []
