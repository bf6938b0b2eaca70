"""Behaviour pin: every preset, a few steps on the CPU, gives the recorded weights and samples.

The digests in tests/pinned/digests.json were recorded before the training core was redesigned;
a refactor must reproduce them bitwise. On a machine whose torch build, CPU vector ISA or CPU
model differs from the recording one, rounding may differ (an AMX Xeon rounds unlike the
recording EPYC though both report AVX512), so there the float summaries must agree closely
instead, and the bitwise promise is kept by running a preset twice: same config + seed gives
the same bytes on any one machine. Record again (python tests/digests.py --write) only for a
change that moves numbers on purpose, and say which digest moved and why in the commit.
"""

from __future__ import annotations

import json

import pytest
from digests import PINNED, PRESETS, machine, preset_digest


@pytest.mark.parametrize("preset", sorted(PRESETS))
def test_preset_digest_is_pinned(preset, data_root, tmp_path):
    pinned = json.loads(PINNED.read_text())
    want = pinned["presets"][preset]
    got = preset_digest(preset, data_root, tmp_path)
    if pinned["machine"] == machine():
        assert {k: got[k] for k in ("g", "d", "samples")} == {k: want[k] for k in ("g", "d", "samples")}
    else:
        for key in ("g_abs_sum", "d_abs_sum", "samples_abs_sum"):
            assert got[key] == pytest.approx(want[key], rel=1e-3), key


@pytest.mark.parametrize("preset", ["gaussian-1d", "dcgan-mnist32"])
def test_same_config_and_seed_give_the_same_bytes_on_this_machine(preset, data_root, tmp_path):
    first = preset_digest(preset, data_root, tmp_path / "first")
    second = preset_digest(preset, data_root, tmp_path / "second")
    assert first == second
