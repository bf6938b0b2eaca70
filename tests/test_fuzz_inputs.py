"""Fuzzing the two parsers of outside input, for a bounded number of examples: the config layer
(TOML text and --set overrides) and the IDX reader. Only GankitError may come out of them."""

from __future__ import annotations

import struct
import sys

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gankit import config as C
from gankit.data.idx import IDX_DTYPES, parse_idx
from gankit.errors import GankitError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
KEYS = C._all_keys()

toml_scalars = st.one_of(
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=True),
    st.booleans(),
    st.text(max_size=12),
    st.sampled_from(["nan", "inf", "-0", "1e400", "[1, 2]", "{a = 1}", '"x"', "", "=", "1979-05-27"]),
)


def only_clear_errors(fn, *args):
    try:
        return fn(*args)
    except GankitError as e:
        assert str(e)  # a message, never empty
        return None


@FUZZ
@given(key=st.one_of(st.sampled_from(KEYS), st.text(max_size=20)), raw=st.text(max_size=20))
def test_set_overrides_raise_only_clear_errors(key, raw):
    only_clear_errors(C.build, {}, [f"{key}={raw}"])
    only_clear_errors(C.parse_override, raw)


@FUZZ
@given(values=st.dictionaries(st.sampled_from(KEYS), toml_scalars, max_size=6))
def test_any_values_for_real_keys_raise_only_clear_errors(values):
    overrides = [f"{k}={v if isinstance(v, str) else repr(v).lower()}" for k, v in values.items()]
    cfg = only_clear_errors(C.build, {}, overrides)
    if cfg is not None:  # what validates also survives the round trip through a saved run
        assert C.from_saved(tomllib.loads(C.to_toml(cfg))) == cfg


nested = st.recursive(
    toml_scalars, lambda inner: st.dictionaries(st.text(max_size=8), inner, max_size=4), max_leaves=12
)


@FUZZ
@given(
    data=st.dictionaries(
        st.sampled_from(["name", "seed", "data", "model", "loss", "optim", "train", "x"]), nested, max_size=5
    )
)
def test_config_tables_of_any_shape_raise_only_clear_errors(data):
    only_clear_errors(C.build, data)


@FUZZ
@given(text=st.text(max_size=200))
def test_toml_text_raises_only_clear_errors(text, tmp_path_factory):
    path = tmp_path_factory.getbasetemp() / "fuzz.toml"
    path.write_bytes(text.encode("utf-8", errors="replace"))  # lone surrogates become '?'
    only_clear_errors(C.load_file, path)


@FUZZ
@given(raw=st.binary(max_size=200))
def test_idx_random_bytes_raise_only_clear_errors(raw):
    only_clear_errors(parse_idx, raw)


@FUZZ
@given(
    code=st.sampled_from(sorted(IDX_DTYPES)),
    dims=st.lists(st.integers(0, 2**32 - 1), max_size=4),
    extra=st.integers(-8, 8),
)
def test_idx_forged_headers_raise_only_clear_errors(code, dims, extra):
    """Plausible headers with sizes that may be huge or not match the payload."""
    itemsize = np.dtype(IDX_DTYPES[code]).itemsize
    count = int(np.prod(dims, dtype=object)) if dims else 0
    payload = max(0, min(count * itemsize + extra, 4096))
    raw = bytes([0, 0, code, len(dims)]) + b"".join(struct.pack(">I", d) for d in dims) + bytes(payload)
    arr = only_clear_errors(parse_idx, raw)
    if arr is not None:
        assert list(arr.shape) == dims and arr.nbytes == count * itemsize
