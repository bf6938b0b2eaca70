"""gankit serve on a conditional run (issue 15): the class each sample was drawn for, a class
picker, and variation and interpolation that stay within the class of the picked sample."""

from __future__ import annotations

import json
import urllib.request

import pytest
import torch
from test_report_browser import shots_dir
from test_serve import interpolate_on_page, post, served, served_page, tile_sources
from tiny import conditional_run

from gankit.generation.latent import generate
from gankit.generation.sampling import load_generator


@pytest.fixture(scope="module")
def cond_run(tmp_path_factory, data_root):
    return conditional_run(tmp_path_factory.mktemp("serve-cond") / "run", data_root)


def test_api_draws_one_class_or_each_in_turn_and_stays_in_it(cond_run):
    g, cfg = load_generator(cond_run)
    with served(cond_run) as base:
        with urllib.request.urlopen(base + "/api/info", timeout=30) as r:
            assert json.loads(r.read())["classes"] == [str(i) for i in range(10)]  # MNIST's digit names
        status, mixed = post(base + "/api/random", {"n": 12, "seed": 3})
        assert status == 200 and mixed["labels"] == [i % 10 for i in range(12)]
        status, threes = post(base + "/api/random", {"n": 12, "seed": 3, "label": 3})
        assert status == 200 and threes["labels"] == [3] * 12 and threes["z"] == mixed["z"]
        assert threes["images"][3] == mixed["images"][3] and threes["images"][0] != mixed["images"][0]
        status, walk = post(
            base + "/api/interpolate", {"a": threes["z"][0], "b": threes["z"][1], "steps": 4, "label": 3}
        )
        assert status == 200 and walk["labels"] == [3] * 4 and walk["images"][0] == threes["images"][0]
        # the served pictures are G(z, 3) along the walk: the label reaches the generator
        x = generate(g, torch.tensor(walk["z"]), labels=torch.full((4,), 3))
        y = generate(g, torch.tensor(walk["z"]), labels=torch.full((4,), 4))
        assert not torch.equal(x, y)
        status, varied = post(base + "/api/vary", {"z": threes["z"][0], "n": 3, "seed": 1, "label": 3})
        assert status == 200 and varied["labels"] == [3] * 4 and varied["images"][0] == threes["images"][0]
        for route, body, words in (
            ("/api/random", {"label": 10}, "label must be a whole number from 0 to 9"),
            ("/api/random", {"label": "3"}, "label must be"),
            ("/api/vary", {"z": threes["z"][0]}, "label must name the class"),
            ("/api/interpolate", {"a": threes["z"][0], "b": threes["z"][1]}, "label must name the class"),
        ):
            status, reply = post(base + route, body)
            assert status == 400 and words in reply["error"], reply


def test_unconditional_runs_refuse_a_label_and_answer_no_labels(tmp_path, data_root):
    from run_factory import trained_run

    run = trained_run(tmp_path / "plain", steps=1)
    with served(run) as base:
        status, reply = post(base + "/api/random", {"n": 2, "seed": 0})
        assert status == 200 and reply["labels"] is None
        status, reply = post(base + "/api/random", {"n": 2, "label": 1})
        assert status == 400 and "unconditional" in reply["error"]


def test_page_class_picker_and_interpolation_within_a_class_in_chromium(cond_run, tmp_path):
    with served_page(cond_run, tmp_path) as page:
        assert page.evaluate("document.getElementById('class-group').hidden") is False
        assert page.evaluate("document.querySelectorAll('#class option').length") == 11
        shown = "Array.from(document.querySelectorAll('.tile')).map(t => t.dataset.label)"
        assert page.evaluate(shown)[:11] == [str(i % 10) for i in range(11)]  # every class in turn
        page.evaluate("const s = document.getElementById('class'); s.value = '7'; s.dispatchEvent(new Event('change'))")
        page.wait_for("document.body.dataset.version === '2'")
        sevens = tile_sources(page)
        assert set(page.evaluate(shown)) == {"7"} and len(sevens) == 32
        assert page.evaluate("document.querySelector('.tile .cls').textContent") == "7"
        walk = interpolate_on_page(page, 0, 4, steps=6, version=3)
        assert len(walk) == 6 and walk[0] == sevens[0] and walk[-1] == sevens[4]
        assert set(page.evaluate(shown)) == {"7"}
        assert "class 7" in page.evaluate("document.getElementById('status').textContent")
        page.screenshot(shots_dir(tmp_path) / "serve-conditional.png", full_page=False)
        assert page.errors == []
