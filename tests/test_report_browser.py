"""The report in a real browser: headless Chromium loads it from disk, every image decodes, and the
page reports no error. Screenshots go to $GANKIT_SCREENSHOTS when set (to look at), else tmp_path."""

from __future__ import annotations

import os
from pathlib import Path

from chromium import Chromium
from run_factory import fake_run

from gankit.reports.page import write_report

IMAGES_OK = "Array.from(document.images).every(i => i.complete && i.naturalWidth > 0)"


def shots_dir(tmp_path: Path) -> Path:
    folder = Path(os.environ.get("GANKIT_SCREENSHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def test_report_renders_in_chromium(tmp_path):
    image = write_report(fake_run(tmp_path / "image", epochs=4))
    toy = write_report(fake_run(tmp_path / "toy", toy=True, epochs=3))
    with Chromium.start(tmp_path / "profile") as browser:
        for name, report in (("report-image", image), ("report-toy", toy)):
            page = browser.open(report.resolve().as_uri())
            n = page.evaluate("document.images.length")
            assert n == report.read_text().count("<img")
            assert page.evaluate(IMAGES_OK), page.evaluate(
                "Array.from(document.images).map(i => [i.alt, i.naturalWidth])"
            )
            assert page.evaluate("document.querySelectorAll('section').length") == 7
            shot = page.screenshot(shots_dir(tmp_path) / f"{name}.png")
            assert shot.stat().st_size > 20_000
            assert page.errors == []
